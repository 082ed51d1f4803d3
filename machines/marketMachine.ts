import { assign, emit, setup } from 'xstate';
import { applyToBook, clearMarket, defaultMarketPolicy, type Book, type ClearingSummary, type OfferExpiry, type Trade } from '../src/market/clearing.ts';
import type { MarketEvent } from '../src/market/marketEvents.ts';
import { machineVersion } from './machineVersion.ts';

/**
 * Asks the runtime to settle a clearing: record each `tokens.traded` and `offer.expired`, then `market.cleared`, in the
 * market's stream, and post each trade (and expiry) to the parties' ledgers in the same atomic append.
 */
export type MarketSettleEffect = { type: 'market.settle'; trades: Trade[]; expired: OfferExpiry[]; cleared: ClearingSummary };

export interface MarketContext {
  /** The open book: offers and bids with what is left of them, in order of arrival. */
  book: Book;
  /** The next entry's arrival number: the time the clearing's tie rules refer to. */
  nextSeq: number;
  trades: number;
  volume: number;
  clearings: number;
  lastClearing: ClearingSummary | null;
}

export function marketStreamFor(marketId: string): string {
  return `market-${marketId}`;
}

const initialContext: MarketContext = { book: { offers: [], bids: [] }, nextSeq: 0, trades: 0, volume: 0, clearings: 0, lastClearing: null };

/**
 * The token market (`market-<id>`): sessions offer spare quota and bid for more; a clearing request runs the rule
 * (src/market/clearing.ts) and asks the runtime to settle it. The book changes only on recorded facts — offers, bids,
 * trades, expiries — never on the computation itself, so folding the stream rebuilds it exactly, and the clearing a
 * request computes in replay is the one it computed live (same book, same recorded `at`, same policy: a change to
 * `defaultMarketPolicy` must bump the implementation revision below, since the definition hash cannot see it).
 */
export const marketMachine = setup({
  types: { context: {} as MarketContext, events: {} as MarketEvent, emitted: {} as MarketSettleEffect },
  guards: {
    // An id already open is a duplicate: ignored, so a re-delivered offer or bid cannot double the book.
    isNewOffer: ({ context, event }) => event.type === 'tokens.offered' && event.amount > 0 && !context.book.offers.some((o) => o.offerId === event.offerId),
    isNewBid: ({ context, event }) => event.type === 'tokens.bid' && event.amount > 0 && !context.book.bids.some((b) => b.bidId === event.bidId),
    // The runtime records only trades a clearing computed, so one that does not fit the book is not applied.
    fitsBook: ({ context, event }) => event.type === 'tokens.traded' && event.amount > 0
      && context.book.offers.some((o) => o.offerId === event.offerId && o.remaining >= event.amount)
      && context.book.bids.some((b) => b.bidId === event.bidId && b.remaining >= event.amount),
    isOpenOffer: ({ context, event }) => event.type === 'offer.expired' && context.book.offers.some((o) => o.offerId === event.offerId),
  },
  actions: {
    addOffer: assign(({ context, event }) => {
      if (event.type !== 'tokens.offered') return {};
      const entry = { offerId: event.offerId, sessionId: event.sessionId, floorPrice: event.floorPrice, expiresAt: event.expiresAt, remaining: event.amount, seq: context.nextSeq };
      return { book: { ...context.book, offers: [...context.book.offers, entry] }, nextSeq: context.nextSeq + 1 };
    }),
    addBid: assign(({ context, event }) => {
      if (event.type !== 'tokens.bid') return {};
      const entry = { bidId: event.bidId, sessionId: event.sessionId, maxPrice: event.maxPrice, purpose: event.purpose, region: event.region, remaining: event.amount, seq: context.nextSeq };
      return { book: { ...context.book, bids: [...context.book.bids, entry] }, nextSeq: context.nextSeq + 1 };
    }),
    settle: emit(({ context, event }) => {
      const at = event.type === 'market.clearRequested' ? event.at : '';
      const { trades, expired, summary } = clearMarket(context.book, { at, policy: defaultMarketPolicy });
      return { type: 'market.settle' as const, trades, expired, cleared: summary };
    }),
    applyTrade: assign(({ context, event }) => (event.type === 'tokens.traded'
      ? { book: applyToBook(context.book, [event], []), trades: context.trades + 1, volume: context.volume + event.amount }
      : {})),
    expireOffer: assign(({ context, event }) => (event.type === 'offer.expired' ? { book: applyToBook(context.book, [], [event.offerId]) } : {})),
    recordClearing: assign(({ context, event }) => {
      if (event.type !== 'market.cleared') return {};
      const { type: _type, ...summary } = event;
      return { lastClearing: summary, clearings: context.clearings + 1 };
    }),
  },
}).createMachine({
  id: 'market',
  context: initialContext,
  initial: 'open',
  states: {
    open: {
      on: {
        'tokens.offered': { guard: 'isNewOffer', actions: 'addOffer' },
        'tokens.bid': { guard: 'isNewBid', actions: 'addBid' },
        'market.clearRequested': { actions: 'settle' },
        'tokens.traded': { guard: 'fitsBook', actions: 'applyTrade' },
        'offer.expired': { guard: 'isOpenOffer', actions: 'expireOffer' },
        'market.cleared': { actions: 'recordClearing' },
      },
    },
  },
});

export const MARKET_MACHINE_VERSION = machineVersion(marketMachine, 1);
