import fc from 'fast-check';
import type { Book, BookBid, BookOffer } from '../../src/market/clearing.ts';
import { defaultPriorityPolicy } from '../../src/policy/priority/index.ts';

/** Random books for the property tests: few sessions and coarse prices, so self-trades and ties are common. */
export const AT = '2025-06-01T12:00:00.000Z';
export const SESSIONS = ['s1', 's2', 's3', 's4'];
export const REGIONS = ['BD', 'KE', 'BR', 'IN', 'US', 'DE', 'GB', 'BGD'];
export const PURPOSES = [...Object.keys(defaultPriorityPolicy.purposeWeights), 'unlisted_purpose'];
const EXPIRIES = ['2025-06-01T11:00:00.000Z', AT, '2025-06-01T13:00:00+01:00', '2025-06-01T12:00:00.001Z', '2025-07-01T00:00:00.000Z'];

const price = fc.integer({ min: 0, max: 40 }).map((cents) => cents / 20);
const amount = fc.integer({ min: 1, max: 500 });

const offer = fc.record({
  sessionId: fc.constantFrom(...SESSIONS), remaining: amount, floorPrice: price, expiresAt: fc.constantFrom(...EXPIRIES), seq: fc.nat(40),
});
const bid = fc.record({
  sessionId: fc.constantFrom(...SESSIONS), remaining: amount, maxPrice: price, purpose: fc.constantFrom(...PURPOSES), region: fc.constantFrom(...REGIONS), seq: fc.nat(40),
});

export const bookArb: fc.Arbitrary<Book> = fc.record({ offers: fc.array(offer, { maxLength: 12 }), bids: fc.array(bid, { maxLength: 12 }) })
  .map(({ offers, bids }) => ({
    offers: offers.map((o, i): BookOffer => ({ offerId: `o${i}`, ...o })),
    bids: bids.map((b, i): BookBid => ({ bidId: `b${i}`, ...b })),
  }));

export function filled(trades: readonly { bidId: string; amount: number }[], bidId: string): number {
  return trades.filter((t) => t.bidId === bidId).reduce((sum, t) => sum + t.amount, 0);
}
