import fc from 'fast-check';
import type { AnyMachineSnapshot } from 'xstate';
import { describe, expect, it } from 'vitest';
import { MARKET_MACHINE_VERSION, marketMachine, marketStreamFor, type MarketContext, type MarketSettleEffect } from '../../machines/marketMachine.ts';
import { clearMarket, type Book } from '../../src/market/clearing.ts';
import type { MarketEvent } from '../../src/market/marketEvents.ts';
import { initialSnapshot, persistedState, stepActor } from '../../src/runtime/actorFold.ts';
import type { ActorKind } from '../../src/runtime/actorKinds.ts';
import { AT, bookArb } from './marketArbitraries.ts';

// Stepped exactly as the runtime steps hosted actors (src/runtime/actorFold.ts).
const kind: ActorKind = { category: 'market', machine: marketMachine, version: MARKET_MACHINE_VERSION, earlier: new Map() };

function fold(events: readonly MarketEvent[]): { snapshot: AnyMachineSnapshot; effects: MarketSettleEffect[] } {
  let snapshot = initialSnapshot(kind);
  const effects: MarketSettleEffect[] = [];
  for (const event of events) {
    const step = stepActor(kind, snapshot, event);
    snapshot = step.snapshot;
    effects.push(...(step.effects as unknown as MarketSettleEffect[]));
  }
  return { snapshot, effects };
}
const contextOf = (snapshot: AnyMachineSnapshot): MarketContext => snapshot.context as MarketContext;

/** What the runtime records for a settle effect, in this order, in the market's stream. */
function factsOf(effect: MarketSettleEffect): MarketEvent[] {
  return [
    ...effect.trades.map((t) => ({ type: 'tokens.traded' as const, ...t })),
    ...effect.expired.map((e) => ({ type: 'offer.expired' as const, ...e })),
    { type: 'market.cleared' as const, ...effect.cleared },
  ];
}

/** A book's entries as the facts that would build it, in arrival order. */
function entriesOf(book: Book): MarketEvent[] {
  const entries = [
    ...book.offers.map(({ remaining, seq: _seq, ...o }) => ({ key: o.offerId, event: { type: 'tokens.offered' as const, ...o, amount: remaining } })),
    ...book.bids.map(({ remaining, seq: _seq, ...b }) => ({ key: b.bidId, event: { type: 'tokens.bid' as const, ...b, amount: remaining } })),
  ];
  const seqs = new Map([...book.offers.map((o) => [o.offerId, o.seq] as const), ...book.bids.map((b) => [b.bidId, b.seq] as const)]);
  return entries.sort((a, b) => seqs.get(a.key)! - seqs.get(b.key)!).map((e) => e.event);
}

/** Runs a clearing live: the request, then the facts its effect implies. Returns the whole recorded stream. */
function clearLive(recorded: MarketEvent[], at: string): { recorded: MarketEvent[]; effect: MarketSettleEffect; before: Book } {
  const before = contextOf(fold(recorded).snapshot).book;
  const request: MarketEvent = { type: 'market.clearRequested', at };
  const { effects } = fold([...recorded, request]);
  const effect = effects.at(-1)!;
  return { recorded: [...recorded, request, ...factsOf(effect)], effect, before };
}

describe('market machine', () => {
  it('books offers and bids, ignoring duplicates and empty amounts', () => {
    const { snapshot } = fold([
      { type: 'tokens.offered', offerId: 'o1', sessionId: 's1', amount: 100, floorPrice: 0.5, expiresAt: '2025-07-01T00:00:00Z' },
      { type: 'tokens.offered', offerId: 'o1', sessionId: 's9', amount: 900, floorPrice: 0.1, expiresAt: '2025-07-01T00:00:00Z' },
      { type: 'tokens.bid', bidId: 'b1', sessionId: 's2', amount: 0, maxPrice: 1, purpose: 'climate_adaptation', region: 'BD' },
      { type: 'tokens.bid', bidId: 'b2', sessionId: 's2', amount: 50, maxPrice: 1, purpose: 'climate_adaptation', region: 'BD' },
    ]);
    expect(contextOf(snapshot).book).toEqual({
      offers: [{ offerId: 'o1', sessionId: 's1', remaining: 100, floorPrice: 0.5, expiresAt: '2025-07-01T00:00:00Z', seq: 0 }],
      bids: [{ bidId: 'b2', sessionId: 's2', remaining: 50, maxPrice: 1, purpose: 'climate_adaptation', region: 'BD', seq: 1 }],
    });
    expect(MARKET_MACHINE_VERSION).toMatch(/^market@1:[0-9a-f]{16}$/);
    expect(marketStreamFor('main')).toBe('market-main');
  });

  it('emits one market.settle per clearing request, and changes nothing until its facts are recorded', () => {
    const entries: MarketEvent[] = [
      { type: 'tokens.offered', offerId: 'o1', sessionId: 's1', amount: 100, floorPrice: 0.5, expiresAt: '2025-07-01T00:00:00Z' },
      { type: 'tokens.bid', bidId: 'b1', sessionId: 's2', amount: 60, maxPrice: 1, purpose: 'climate_adaptation', region: 'BD' },
    ];
    const before = fold(entries).snapshot;
    const { snapshot, effects } = fold([...entries, { type: 'market.clearRequested', at: AT }]);
    expect(effects).toHaveLength(1);
    expect(effects[0]).toMatchObject({ type: 'market.settle', trades: [{ tradeId: 'trade/b1/o1', seller: 's1', buyer: 's2', amount: 60, price: 0.75 }], expired: [] });
    expect(persistedState(kind, snapshot)).toEqual(persistedState(kind, before));
  });

  it('ignores a trade that does not fit the book', () => {
    const entries: MarketEvent[] = [
      { type: 'tokens.offered', offerId: 'o1', sessionId: 's1', amount: 10, floorPrice: 0.5, expiresAt: '2025-07-01T00:00:00Z' },
      { type: 'tokens.bid', bidId: 'b1', sessionId: 's2', amount: 60, maxPrice: 1, purpose: 'climate_adaptation', region: 'BD' },
    ];
    const tooMuch: MarketEvent = { type: 'tokens.traded', tradeId: 't', seller: 's1', buyer: 's2', offerId: 'o1', bidId: 'b1', amount: 11, price: 0.7, rationale: 'x' };
    expect(contextOf(fold([...entries, tooMuch]).snapshot)).toEqual(contextOf(fold(entries).snapshot));
  });

  it('folds the recorded facts of two clearings to the rule\'s remainder, and replays to the same state and effects', () => {
    fc.assert(fc.property(bookArb, bookArb, (first, second) => {
      // Second round: fresh ids, arriving after the first clearing.
      const again: Book = {
        offers: second.offers.map((o) => ({ ...o, offerId: `late-${o.offerId}` })),
        bids: second.bids.map((b) => ({ ...b, bidId: `late-${b.bidId}` })),
      };
      const one = clearLive(entriesOf(first), AT);
      const afterOne = contextOf(fold(one.recorded).snapshot);
      expect(afterOne.book).toEqual(clearMarket(one.before, { at: AT }).remainder);
      expect(afterOne.lastClearing).toEqual(one.effect.cleared);

      const later = '2025-06-15T00:00:00.000Z';
      const two = clearLive([...one.recorded, ...entriesOf(again)], later);
      const live = fold(two.recorded);
      const state = contextOf(live.snapshot);
      expect(state.book).toEqual(clearMarket(two.before, { at: later }).remainder);
      expect(state).toMatchObject({ clearings: 2, trades: one.effect.trades.length + two.effect.trades.length, volume: one.effect.cleared.volume + two.effect.cleared.volume });

      // Replay: a fresh fold of the recorded stream reproduces the state and every clearing's effect.
      const replayed = fold(structuredClone(two.recorded));
      expect(persistedState(kind, replayed.snapshot)).toEqual(persistedState(kind, live.snapshot));
      expect(replayed.effects).toEqual([one.effect, two.effect]);
    }), { numRuns: 150 });
  });
});
