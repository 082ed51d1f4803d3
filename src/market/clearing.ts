import { defaultPriorityPolicy, priorityOf, type PriorityPolicy } from '../policy/priority/index.ts';
import type { MarketEventData } from './marketEvents.ts';

/**
 * The token market's clearing rule: a double auction whose bids are ranked by climate-justice priority, pure and
 * deterministic (no clock, no randomness: `at` is given, ties are settled by book order, then by id).
 *
 *   priority p     = priorityOf({ region, purpose }, policy.priority).priority
 *   weight w       = (max(p, 1e-4) / referencePriority) ^ weightExponent      monotone in p; w = 1 for a neutral request
 *   subsidy s      = globalSouthSubsidy × maxPrice if the bidder's region is Global South, else 0
 *   effective e    = maxPrice × w + s
 *   reach          = min(maxPrice, e)                  a bid may take offers whose floor ≤ reach
 *
 * Bids are served in order of e (desc; ties: earlier in the book, then bidId), each taking the cheapest live
 * offers of *other* sessions (floor asc; ties: earlier, then offerId) while floor ≤ reach, partial fills allowed.
 * Offers with expiresAt < at are excluded and reported. The reference price is the k = ½ double-auction price of
 * the marginal quotes, P = (highest matched floor + lowest matched maxPrice) / 2, and each trade's price is
 * P clamped to its own pair, min(maxPrice, max(floor, P)). Every matched pair has floor ≤ reach ≤ maxPrice, so the
 * clamp is always possible: no buyer pays above its maxPrice, no seller receives below its floor. When the
 * highest matched floor ≤ the lowest matched maxPrice (always so when priorities are equal) the clamp changes
 * nothing and every trade clears at the one uniform price P; only when priority lets a low bid be served before a
 * higher one do trades' prices differ, each as near P as its own pair allows.
 *
 * Who pays for the weighting and the subsidy: no one in money and no one in tokens. Each trade is one price paid by
 * the buyer to the seller (buyer ≤ maxPrice, seller ≥ floor), and tokens only move from an offer to a bid. The
 * weight and subsidy buy a place in the queue: they are paid by the bidders ranked below, who are served later
 * from dearer offers, or not at all, when supply is short. A low-priority bidder (w < 1) also reaches less far:
 * only offers at or below maxPrice × w.
 */
export interface MarketPolicy {
  id: string;
  priority: PriorityPolicy;
  /** Compresses priority's range (0.1 … ~23 under the default policy) into weights of about 0.56 … 2.2. */
  weightExponent: number;
  /** The priority that weighs 1: the policy's default purpose weight outside the Global South, with no renewable credit. */
  referencePriority: number;
  /** A share of the bid's maxPrice added to its effective price when the bidder is in the Global South. */
  globalSouthSubsidy: number;
}

export const defaultMarketPolicy: MarketPolicy = Object.freeze({
  id: 'token-market@1',
  priority: defaultPriorityPolicy,
  weightExponent: 0.25,
  referencePriority: 1,
  globalSouthSubsidy: 0.25,
});

/** Book entries carry `seq`, their order of arrival in the market's stream: the time the tie rules refer to. */
export type BookOffer = Omit<MarketEventData<'tokens.offered'>, 'amount'> & { remaining: number; seq: number };
export type BookBid = Omit<MarketEventData<'tokens.bid'>, 'amount'> & { remaining: number; seq: number };
export interface Book { offers: BookOffer[]; bids: BookBid[] }

export type Trade = MarketEventData<'tokens.traded'>;
export type OfferExpiry = MarketEventData<'offer.expired'>;
export type ClearingSummary = MarketEventData<'market.cleared'>;

export interface Clearing {
  trades: Trade[];
  expired: OfferExpiry[];
  summary: ClearingSummary;
  /** The book once the trades and expiries are applied: what the market machine's book becomes. */
  remainder: Book;
}

export interface RankedBid {
  bid: BookBid;
  priority: number;
  weight: number;
  globalSouth: boolean;
  subsidy: number;
  effective: number;
  reach: number;
}

const MIN_PRIORITY = 1e-4;
const compareIds = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
// Book order: arrival, then id, so equal arrival numbers (never made by the machine) still order one way.
const offerOrder = (a: BookOffer, b: BookOffer): number => a.seq - b.seq || compareIds(a.offerId, b.offerId);
const bidOrder = (a: BookBid, b: BookBid): number => a.seq - b.seq || compareIds(a.bidId, b.bidId);
/** Six significant figures: enough to recompute a rationale by hand, short enough to read. */
const fig = (x: number): string => String(Number(x.toPrecision(6)));

/** Unambiguous for any ids: each is URI-encoded, so the separator cannot occur inside one. */
export function tradeIdOf(bidId: string, offerId: string): string {
  return `trade/${encodeURIComponent(bidId)}/${encodeURIComponent(offerId)}`;
}

export function rankBid(bid: BookBid, policy: MarketPolicy = defaultMarketPolicy): RankedBid {
  const assignment = priorityOf({ region: bid.region, purpose: bid.purpose }, policy.priority);
  const weight = (Math.max(assignment.priority, MIN_PRIORITY) / policy.referencePriority) ** policy.weightExponent;
  const subsidy = assignment.globalSouth ? policy.globalSouthSubsidy * bid.maxPrice : 0;
  const effective = bid.maxPrice * weight + subsidy;
  return { bid, priority: assignment.priority, weight, globalSouth: assignment.globalSouth, subsidy, effective, reach: Math.min(bid.maxPrice, effective) };
}

export function isExpired(offer: { expiresAt: string }, at: string): boolean {
  return Date.parse(offer.expiresAt) < Date.parse(at);
}

export function clearMarket(book: Book, options: { at: string; policy?: MarketPolicy }): Clearing {
  const { at } = options;
  const policy = options.policy ?? defaultMarketPolicy;
  const expiredOffers = book.offers.filter((o) => isExpired(o, at)).sort(offerOrder);
  const live = book.offers.filter((o) => !isExpired(o, at) && o.remaining > 0)
    .sort((a, b) => a.floorPrice - b.floorPrice || a.seq - b.seq || compareIds(a.offerId, b.offerId));
  const ranked = book.bids.filter((b) => b.remaining > 0).map((b) => rankBid(b, policy))
    .sort((a, b) => b.effective - a.effective || a.bid.seq - b.bid.seq || compareIds(a.bid.bidId, b.bid.bidId));

  const left = new Map(live.map((o) => [o.offerId, o.remaining]));
  const matches: { ranked: RankedBid; offer: BookOffer; amount: number }[] = [];
  for (const r of ranked) {
    let wanted = r.bid.remaining;
    for (const offer of live) {
      if (wanted === 0 || offer.floorPrice > r.reach) break; // offers are sorted by floor: none further is in reach
      const available = left.get(offer.offerId)!;
      if (available === 0 || offer.sessionId === r.bid.sessionId) continue; // no self-trades
      const amount = Math.min(wanted, available);
      left.set(offer.offerId, available - amount);
      wanted -= amount;
      matches.push({ ranked: r, offer, amount });
    }
  }

  const price = matches.length === 0 ? null
    : (Math.max(...matches.map((m) => m.offer.floorPrice)) + Math.min(...matches.map((m) => m.ranked.bid.maxPrice))) / 2;
  const trades: Trade[] = matches.map(({ ranked: r, offer, amount }) => {
    const tradePrice = Math.min(r.bid.maxPrice, Math.max(offer.floorPrice, price!));
    const rationale = [
      `bid ${r.bid.bidId} (${r.bid.region}, ${r.bid.purpose}): priority ${fig(r.priority)} → weight (${fig(r.priority)}/${fig(policy.referencePriority)})^${fig(policy.weightExponent)} = ${fig(r.weight)}`,
      r.globalSouth ? `Global South subsidy ${fig(policy.globalSouthSubsidy)} × ${fig(r.bid.maxPrice)} = ${fig(r.subsidy)}` : 'no Global South subsidy',
      `effective ${fig(r.bid.maxPrice)} × ${fig(r.weight)} + ${fig(r.subsidy)} = ${fig(r.effective)}, reach ${fig(r.reach)}`,
      `offer ${offer.offerId} floor ${fig(offer.floorPrice)}`,
      `price ${fig(tradePrice)} = uniform ${fig(price!)} clamped to [${fig(offer.floorPrice)}, ${fig(r.bid.maxPrice)}] (${policy.id})`,
    ].join('; ');
    return { tradeId: tradeIdOf(r.bid.bidId, offer.offerId), seller: offer.sessionId, buyer: r.bid.sessionId, offerId: offer.offerId, bidId: r.bid.bidId, amount, price: tradePrice, rationale };
  });

  const remainder = applyToBook(book, trades, expiredOffers.map((o) => o.offerId));
  return {
    trades,
    expired: expiredOffers.filter((o) => o.remaining > 0)
      .map((o) => ({ offerId: o.offerId, sessionId: o.sessionId, amount: o.remaining, expiresAt: o.expiresAt, at })),
    summary: {
      at, price, volume: trades.reduce((sum, t) => sum + t.amount, 0), trades: trades.length,
      unmatchedBids: remainder.bids.map((b) => b.bidId), unmatchedOffers: remainder.offers.map((o) => o.offerId),
      expiredOffers: expiredOffers.map((o) => o.offerId), policyId: policy.id,
    },
    remainder,
  };
}

/**
 * The book after trades and expiries: what folding the recorded `tokens.traded` and `offer.expired` facts does to
 * the market machine's book, shared so the rule's remainder and the replayed book cannot drift apart.
 */
export function applyToBook(book: Book, trades: readonly Pick<Trade, 'offerId' | 'bidId' | 'amount'>[], expired: readonly string[]): Book {
  const sold = new Map<string, number>();
  const bought = new Map<string, number>();
  for (const t of trades) {
    sold.set(t.offerId, (sold.get(t.offerId) ?? 0) + t.amount);
    bought.set(t.bidId, (bought.get(t.bidId) ?? 0) + t.amount);
  }
  const gone = new Set(expired);
  return {
    offers: book.offers.filter((o) => !gone.has(o.offerId)).map((o) => ({ ...o, remaining: o.remaining - (sold.get(o.offerId) ?? 0) }))
      .filter((o) => o.remaining > 0).sort(offerOrder),
    bids: book.bids.map((b) => ({ ...b, remaining: b.remaining - (bought.get(b.bidId) ?? 0) })).filter((b) => b.remaining > 0).sort(bidOrder),
  };
}
