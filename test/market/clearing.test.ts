import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { clearMarket, defaultMarketPolicy, isExpired, rankBid, tradeIdOf, type Book, type BookBid, type BookOffer } from '../../src/market/clearing.ts';
import { marketClearedSchema, offerExpiredSchema, tokensTradedSchema } from '../../src/market/marketEvents.ts';
import { defaultPriorityPolicy, priorityOf } from '../../src/policy/priority/index.ts';
import { AT, bookArb, filled, PURPOSES } from './marketArbitraries.ts';

const LATER = '2025-07-01T00:00:00.000Z';
const offer = (offerId: string, sessionId: string, remaining: number, floorPrice: number, seq: number, expiresAt = LATER): BookOffer =>
  ({ offerId, sessionId, remaining, floorPrice, expiresAt, seq });
const bid = (bidId: string, sessionId: string, remaining: number, maxPrice: number, region: string, purpose: string, seq: number): BookBid =>
  ({ bidId, sessionId, remaining, maxPrice, region, purpose, seq });

describe('clearMarket: examples', () => {
  it('serves a Bangladeshi adaptation bid before a richer crypto bid when supply is short, both within their limits', () => {
    const book: Book = {
      offers: [offer('o1', 'seller', 1_000, 0.5, 0)],
      bids: [bid('crypto', 'us', 1_000, 2.0, 'US', 'crypto_mining', 1), bid('mangroves', 'bd', 800, 1.0, 'BD', 'climate_adaptation', 2)],
    };
    const { trades, summary } = clearMarket(book, { at: AT });
    expect(trades.map((t) => [t.bidId, t.amount])).toEqual([['mangroves', 800], ['crypto', 200]]);
    // Highest matched floor 0.5, lowest matched maxPrice 1.0: one uniform price for both trades.
    expect(summary.price).toBe(0.75);
    expect(trades.every((t) => t.price === 0.75)).toBe(true);
    expect(trades[0]!.tradeId).toBe(tradeIdOf('mangroves', 'o1'));
    expect(trades[0]!.rationale).toMatch(/^bid mangroves \(BD, climate_adaptation\): priority [\d.]+ → weight .*Global South subsidy 0\.25 × 1 = 0\.25; effective .*offer o1 floor 0\.5; price 0\.75 = uniform 0\.75 clamped to \[0\.5, 1\] \(token-market@1\)$/);
    expect(summary).toMatchObject({ volume: 1_000, trades: 2, unmatchedBids: ['crypto'], unmatchedOffers: [], expiredOffers: [], policyId: 'token-market@1' });
  });

  it('lets a low-priority bid reach only offers at or below maxPrice × weight', () => {
    const crypto = rankBid(bid('b', 's', 1, 1.0, 'US', 'crypto_mining', 0));
    expect(crypto.weight).toBeCloseTo(priorityOf({ region: 'US', purpose: 'crypto_mining' }).priority ** 0.25, 10);
    expect(crypto.reach).toBeLessThan(0.9);
    const book: Book = { offers: [offer('o', 'seller', 10, 0.9, 0)], bids: [bid('b', 'buyer', 10, 1.0, 'US', 'crypto_mining', 1)] };
    expect(clearMarket(book, { at: AT }).trades).toEqual([]);
  });

  it('never matches a bid below the floor, however high its priority: one price must suit both sides', () => {
    const book: Book = { offers: [offer('o', 'seller', 10, 1.01, 0)], bids: [bid('b', 'buyer', 10, 1.0, 'BD', 'climate_adaptation', 1)] };
    expect(clearMarket(book, { at: AT }).trades).toEqual([]);
  });

  it('clamps each trade to its pair when priority serves a low bid before a higher one', () => {
    const book: Book = {
      offers: [offer('cheap', 'x', 100, 0.2, 0), offer('dear', 'y', 100, 0.9, 1)],
      bids: [bid('us', 'us', 100, 1.0, 'US', 'general_ai_research', 2), bid('bd', 'bd', 100, 0.5, 'BD', 'climate_adaptation', 3)],
    };
    const { trades, summary } = clearMarket(book, { at: AT });
    // No single price fits both pairs (0.9 > 0.5): the reference is their midpoint, each trade clamped to its own pair.
    expect(summary.price).toBe((0.9 + 0.5) / 2);
    expect(trades.map((t) => [t.bidId, t.offerId, t.price])).toEqual([['bd', 'cheap', 0.5], ['us', 'dear', 0.9]]);
  });

  it('forbids self-trades, skipping to the next seller', () => {
    const book: Book = { offers: [offer('own', 'a', 50, 0.1, 0), offer('other', 'b', 50, 0.3, 1)], bids: [bid('x', 'a', 80, 1, 'KE', 'sustainable_agriculture', 2)] };
    const { trades } = clearMarket(book, { at: AT });
    expect(trades.map((t) => [t.offerId, t.amount, t.seller, t.buyer])).toEqual([['other', 50, 'b', 'a']]);
  });

  it('excludes and reports offers that expired before the clearing; one expiring at that instant still trades', () => {
    const book: Book = {
      offers: [offer('old', 'a', 40, 0.1, 0, '2025-06-01T11:59:59.999Z'), offer('now', 'b', 40, 0.2, 1, AT)],
      bids: [bid('x', 'c', 100, 1, 'DE', 'general_ai_research', 2)],
    };
    const { trades, expired, summary } = clearMarket(book, { at: AT });
    expect(trades.map((t) => t.offerId)).toEqual(['now']);
    expect(expired).toEqual([{ offerId: 'old', sessionId: 'a', amount: 40, expiresAt: '2025-06-01T11:59:59.999Z', at: AT }]);
    expect(summary.expiredOffers).toEqual(['old']);
  });

  it('breaks equal effective prices by arrival, then equal floors by arrival', () => {
    const book: Book = {
      offers: [offer('late', 'a', 10, 0.5, 5), offer('early', 'b', 10, 0.5, 1)],
      bids: [bid('second', 'c', 10, 1, 'DE', 'general_ai_research', 4), bid('first', 'd', 10, 1, 'DE', 'general_ai_research', 3)],
    };
    expect(clearMarket(book, { at: AT }).trades.map((t) => [t.bidId, t.offerId])).toEqual([['first', 'early'], ['second', 'late']]);
  });

  it('pins the market policy: a change is a new policy id and a new MARKET_MACHINE_VERSION revision', () => {
    expect(defaultMarketPolicy).toEqual({ id: 'token-market@1', priority: defaultPriorityPolicy, weightExponent: 0.25, referencePriority: 1, globalSouthSubsidy: 0.25 });
  });

  it('makes trade ids unambiguous whatever the ids contain', () => {
    expect(tradeIdOf('a/b', 'c')).not.toBe(tradeIdOf('a', 'b/c'));
  });
});

describe('clearMarket: properties over random books', () => {
  const run = (book: Book) => clearMarket(book, { at: AT });

  it('no party trades more than it offered or bid; trades are positive whole tokens', () => {
    fc.assert(fc.property(bookArb, (book) => {
      const { trades } = run(book);
      for (const o of book.offers) expect(trades.filter((t) => t.offerId === o.offerId).reduce((s, t) => s + t.amount, 0)).toBeLessThanOrEqual(o.remaining);
      for (const b of book.bids) expect(filled(trades, b.bidId)).toBeLessThanOrEqual(b.remaining);
      for (const t of trades) expect(Number.isInteger(t.amount) && t.amount > 0).toBe(true);
    }), { numRuns: 300 });
  });

  it('no buyer pays above its maxPrice, no seller receives below its floor', () => {
    fc.assert(fc.property(bookArb, (book) => {
      for (const t of run(book).trades) {
        const o = book.offers.find((x) => x.offerId === t.offerId)!;
        const b = book.bids.find((x) => x.bidId === t.bidId)!;
        expect(t.price).toBeGreaterThanOrEqual(o.floorPrice);
        expect(t.price).toBeLessThanOrEqual(b.maxPrice);
      }
    }), { numRuns: 300 });
  });

  it('conserves tokens: sold = bought = volume, each trade between two different sessions, the offer\'s seller and the bid\'s buyer', () => {
    fc.assert(fc.property(bookArb, (book) => {
      const { trades, summary, remainder } = run(book);
      expect(summary.volume).toBe(trades.reduce((s, t) => s + t.amount, 0));
      for (const t of trades) {
        expect(t.seller).not.toBe(t.buyer);
        expect(t.seller).toBe(book.offers.find((o) => o.offerId === t.offerId)!.sessionId);
        expect(t.buyer).toBe(book.bids.find((b) => b.bidId === t.bidId)!.sessionId);
      }
      // What left the bids equals what left the live offers: nothing made, nothing lost.
      const bidsBefore = book.bids.reduce((s, b) => s + b.remaining, 0);
      const bidsAfter = remainder.bids.reduce((s, b) => s + b.remaining, 0);
      const liveBefore = book.offers.filter((o) => !isExpired(o, AT)).reduce((s, o) => s + o.remaining, 0);
      const liveAfter = remainder.offers.reduce((s, o) => s + o.remaining, 0);
      expect(bidsBefore - bidsAfter).toBe(summary.volume);
      expect(liveBefore - liveAfter).toBe(summary.volume);
    }), { numRuns: 300 });
  });

  it('is deterministic: the same book in any order gives the same clearing', () => {
    fc.assert(fc.property(bookArb, fc.infiniteStream(fc.nat()), (book, picks) => {
      const shuffle = <T>(xs: T[]): T[] => {
        const out = [...xs];
        for (let i = out.length - 1; i > 0; i--) { const j = picks.next().value % (i + 1); [out[i], out[j]] = [out[j]!, out[i]!]; }
        return out;
      };
      expect(run({ offers: shuffle(book.offers), bids: shuffle(book.bids) })).toEqual(run(book));
    }), { numRuns: 300 });
  });

  it('raising a bidder\'s priority never reduces its fill', () => {
    fc.assert(fc.property(bookArb.filter((b) => b.bids.length > 0), fc.nat(), fc.constantFrom(...PURPOSES), (book, pick, purpose) => {
      const i = pick % book.bids.length;
      const before = book.bids[i]!;
      const after = { ...before, purpose };
      if (priorityOf(after).priority < priorityOf(before).priority) return;
      const raised = { ...book, bids: book.bids.map((b, j) => (j === i ? after : b)) };
      expect(filled(run(raised).trades, before.bidId)).toBeGreaterThanOrEqual(filled(run(book).trades, before.bidId));
    }), { numRuns: 500 });
  });

  it('expired offers never trade and are all reported', () => {
    fc.assert(fc.property(bookArb, (book) => {
      const { trades, expired, summary, remainder } = run(book);
      const gone = book.offers.filter((o) => isExpired(o, AT)).map((o) => o.offerId);
      expect(trades.filter((t) => gone.includes(t.offerId))).toEqual([]);
      expect(new Set(summary.expiredOffers)).toEqual(new Set(gone));
      expect(new Set(expired.map((e) => e.offerId))).toEqual(new Set(gone));
      expect(remainder.offers.filter((o) => gone.includes(o.offerId))).toEqual([]);
    }), { numRuns: 300 });
  });

  it('clears at one uniform price whenever the highest matched floor is within every matched maxPrice', () => {
    fc.assert(fc.property(bookArb, (book) => {
      const { trades, summary } = run(book);
      expect(summary.price === null).toBe(trades.length === 0);
      if (trades.length === 0) return;
      const floors = trades.map((t) => book.offers.find((o) => o.offerId === t.offerId)!.floorPrice);
      const maxes = trades.map((t) => book.bids.find((b) => b.bidId === t.bidId)!.maxPrice);
      if (Math.max(...floors) <= Math.min(...maxes)) expect(new Set(trades.map((t) => t.price))).toEqual(new Set([summary.price]));
    }), { numRuns: 300 });
  });

  it('produces facts the catalogue schemas accept', () => {
    fc.assert(fc.property(bookArb, (book) => {
      const { trades, expired, summary } = run(book);
      for (const t of trades) tokensTradedSchema.parse(t);
      for (const e of expired) offerExpiredSchema.parse(e);
      marketClearedSchema.parse(summary);
    }), { numRuns: 100 });
  });
});
