import { z } from 'zod';

/**
 * The token market's facts (`market-<id>` streams), as data schemas for the event catalogue. Amounts are tokens;
 * prices are USD per 1 000 tokens. Strict like the catalogue: an extra field is an error, not silently hashed away.
 */
const id = z.string().min(1);
const tokens = z.number().int().positive();
const price = z.number().nonnegative().finite();
const isoTime = z.iso.datetime({ offset: true });
// Same vocabulary as `query.received`, so a bid's priority is computed exactly as a session's is.
const region = z.string().regex(/^[A-Z]{2,3}$/, 'an ISO 3166 alpha-2 or alpha-3 code, e.g. "KE" or "BGD"');
const purpose = z.string().regex(/^[a-z][a-z0-9_]*$/, 'a snake_case purpose such as "climate_adaptation"');

/** Spare quota a session puts up for sale; its tokens are escrowed in the seller's ledger when this is recorded. */
export const tokensOfferedSchema = z.strictObject({ offerId: id, sessionId: id, amount: tokens, floorPrice: price, expiresAt: isoTime });
/** A session asking for tokens, for a purpose from a region: what its climate-justice priority is computed from. */
export const tokensBidSchema = z.strictObject({ bidId: id, sessionId: id, amount: tokens, maxPrice: price, purpose, region });
/** `at` is the runtime clock's time, recorded so the clearing (and which offers had expired) replays exactly. */
export const marketClearRequestedSchema = z.strictObject({ at: isoTime });
export const tokensTradedSchema = z.strictObject({
  tradeId: id, seller: id, buyer: id, offerId: id, bidId: id, amount: tokens, price, rationale: z.string().min(1),
});
/** An offer past its `expiresAt` at a clearing: removed from the book, its unsold `amount` returned to the seller. */
export const offerExpiredSchema = z.strictObject({ offerId: id, sessionId: id, amount: tokens, expiresAt: isoTime, at: isoTime });
export const marketClearedSchema = z.strictObject({
  at: isoTime,
  /** The reference uniform price (null when nothing traded); a trade's own price is it clamped to the pair's range. */
  price: price.nullable(),
  volume: z.number().int().nonnegative(),
  trades: z.number().int().nonnegative(),
  /** Ids still open after the clearing, in book order. */
  unmatchedBids: z.array(id),
  unmatchedOffers: z.array(id),
  expiredOffers: z.array(id),
  /** The market policy (weights, subsidy) the clearing ran under. */
  policyId: id,
});

/** For the lead: spread into `catalogue` in src/events/catalogue.ts. */
export const marketCatalogue = {
  'tokens.offered': tokensOfferedSchema,
  'tokens.bid': tokensBidSchema,
  'market.clearRequested': marketClearRequestedSchema,
  'tokens.traded': tokensTradedSchema,
  'offer.expired': offerExpiredSchema,
  'market.cleared': marketClearedSchema,
} as const;

export type MarketEventType = keyof typeof marketCatalogue;
export type MarketEventData<T extends MarketEventType> = z.infer<(typeof marketCatalogue)[T]>;
/** A market fact as the machine receives it: `{ type, ...data }`. */
export type MarketEvent<T extends MarketEventType = MarketEventType> = T extends MarketEventType ? { type: T } & MarketEventData<T> : never;
