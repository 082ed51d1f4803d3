import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { marketStreamFor, type MarketContext } from '../../../machines/marketMachine.ts';
import type { EventData } from '../../events/catalogue.ts';
import type { RecordedEvent } from '../../events/envelope.ts';
import { foldActor } from '../../runtime/actorFold.ts';
import { actorKindOf } from '../../runtime/actorKinds.ts';
import type { ActorRuntime } from '../../runtime/actorRuntime.ts';
import { isAtOrBefore } from '../../runtime/pointInTime.ts';
import { sessionStream } from '../../runtime/sessionStreams.ts';
import { StreamNotFoundError } from '../../store/errors.ts';
import { collect, type EventStore } from '../../store/eventStore.ts';
import { openEventStore } from '../../store/openEventStore.ts';
import { withCliRuntime } from '../cliRuntime.ts';
import { commandOptions } from '../commandOptions.ts';
import type { CommandIo } from '../commandIo.ts';
import { toJson } from '../output.ts';
import { answeredPoint, pointFlag } from '../pointFlag.ts';
import { UsageError } from '../usageError.ts';
import { cliStoreUri } from '../cliConfig.ts';

const amount = z.coerce.number<string>().int('a whole number of tokens').positive('a positive number of tokens');
// A decimal as written, not whatever Number() makes of it: "" (an unset shell variable) would be a price of 0, and
// "0x10" sixteen.
const price = z.string().regex(/^\d+(\.\d+)?$/, 'a price in USD per 1 000 tokens, a decimal number such as 0.004').transform(Number).pipe(z.number().finite());
const schema = z.strictObject({
  market: z.string().regex(/^[A-Za-z0-9_]+$/, 'letters, digits and _ only').optional(),
  amount: amount.optional(),
  floor: price.optional(),
  'max-price': price.optional(),
  expires: z.iso.datetime({ offset: true, error: 'an ISO time such as 2026-11-24T18:00:00Z' }).optional(),
  at: z.string().optional(),
  json: z.boolean().optional(),
  store: z.string().optional(),
});

export const marketUsage = 'market [--at <position | ISO time>] [--json] | market offer <sessionId> --amount <tokens> --floor <USD per 1k> [--expires <ISO time>] | market bid <sessionId> --amount <tokens> --max-price <USD per 1k> | market clear   [--market <id>] [--store <uri>]';

/** The default market: one per store unless another id is given. */
export const DEFAULT_MARKET = 'main';
/** An offer's life when `--expires` is not given. */
const DEFAULT_OFFER_HOURS = 24;

/**
 * The token market: the book and the trades as of any point (folded from the market's stream), and posting offers,
 * bids and clearing requests as recorded facts through the runtime (which escrows, clears and settles them).
 */
export async function marketCommand(args: string[], io: CommandIo): Promise<number> {
  const { values, positionals } = commandOptions('market', args, {
    market: { type: 'string' }, amount: { type: 'string' }, floor: { type: 'string' }, 'max-price': { type: 'string' }, expires: { type: 'string' },
    at: { type: 'string' }, json: { type: 'boolean' }, store: { type: 'string' },
  }, schema);
  const [action, sessionId] = positionals;
  const stream = marketStreamFor(values.market ?? DEFAULT_MARKET);
  if (action === undefined) return showMarket(io, stream, values.store, pointFlag('market', values.at), values.json ?? false);
  if (action !== 'offer' && action !== 'bid' && action !== 'clear') throw new UsageError(`market: say offer, bid or clear (or nothing, to see the book); got "${action}"`);
  if (action !== 'clear' && sessionId === undefined) throw new UsageError(`market ${action}: give the session id`);
  if (action !== 'clear' && values.amount === undefined) throw new UsageError(`market ${action}: --amount is required`);
  if (action === 'offer' && values.floor === undefined) throw new UsageError('market offer: --floor is required (USD per 1 000 tokens)');
  if (action === 'bid' && values['max-price'] === undefined) throw new UsageError('market bid: --max-price is required (USD per 1 000 tokens)');
  return withCliRuntime(values.store, io, async (runtime, store) => {
    const now = new Date(runtime.clock.now());
    if (action === 'clear') {
      await runtime.deliver(stream, { type: 'market.clearRequested', data: { at: now.toISOString() }, causationId: null });
      await runtime.settled();
      const cleared = (await collect(store.readStream(stream))).findLast((e) => e.type === 'market.cleared')?.data as EventData<'market.cleared'>;
      io.out(values.json ? toJson(cleared) : `cleared: ${cleared.trades} trade(s), ${cleared.volume} tokens${cleared.price === null ? '' : ` at ${cleared.price.toFixed(6)} USD per 1k`}; ${cleared.unmatchedBids.length} bid(s) and ${cleared.unmatchedOffers.length} offer(s) open`);
      return 0;
    }
    if (action === 'offer') {
      // An offer escrows the session's own tokens: a session that does not exist has none, which is not a ledger fault.
      await sessionEvents(store, sessionId!, 'offer');
      const expiresAt = values.expires ?? new Date(now.getTime() + DEFAULT_OFFER_HOURS * 3_600_000).toISOString();
      const offer = { offerId: randomUUID(), sessionId: sessionId!, amount: values.amount!, floorPrice: values.floor!, expiresAt };
      await postFact(runtime, stream, 'tokens.offered', offer);
      io.out(values.json ? toJson(offer) : `offered ${offer.amount} tokens of session ${offer.sessionId} at ${offer.floorPrice} USD per 1k or more, until ${expiresAt} (escrowed)`);
      return 0;
    }
    // A bid is from the session's newest request: its region and purpose decide its climate-justice weight.
    const origin = await latestRequest(store, sessionId!, 'bid');
    const bid = { bidId: randomUUID(), sessionId: sessionId!, amount: values.amount!, maxPrice: values['max-price']!, ...origin };
    await postFact(runtime, stream, 'tokens.bid', bid);
    io.out(values.json ? toJson(bid) : `bid for ${bid.amount} tokens for session ${bid.sessionId} (${bid.region}, ${bid.purpose}) at up to ${bid.maxPrice} USD per 1k`);
    return 0;
  });
}

async function postFact(runtime: ActorRuntime, stream: string, type: string, data: unknown): Promise<void> {
  await runtime.deliver(stream, { type, data, causationId: null });
  await runtime.settled();
}

async function sessionEvents(store: EventStore, sessionId: string, action: 'offer' | 'bid'): Promise<RecordedEvent[]> {
  try {
    return await collect(store.readStream(sessionStream(sessionId)));
  } catch (error) {
    if (error instanceof StreamNotFoundError) throw new UsageError(`market ${action}: no session "${sessionId}" in this store`);
    throw error;
  }
}

async function latestRequest(store: EventStore, sessionId: string, action: 'bid'): Promise<{ region: string; purpose: string }> {
  const events = await sessionEvents(store, sessionId, action);
  const query = events.findLast((e) => e.type === 'query.received')?.data as EventData<'query.received'> | undefined;
  if (!query) throw new UsageError(`market bid: session ${sessionId} has asked nothing yet, so it has no region and purpose to bid with`);
  return { region: query.region, purpose: query.purpose };
}

/** The book, the trades and the clearings as of a point, folded from the market's stream. */
export async function marketAt(store: EventStore, stream: string, at?: Parameters<typeof isAtOrBefore>[1]) {
  let events: RecordedEvent[] = [];
  try {
    events = (await collect(store.readStream(stream))).filter((e) => isAtOrBefore(e, at));
  } catch (error) {
    if (!(error instanceof StreamNotFoundError)) throw error;
  }
  const market = foldActor(actorKindOf(stream), events).context as MarketContext;
  const trades = events.filter((e) => e.type === 'tokens.traded').map((e) => ({ position: String(e.position), ...(e.data as EventData<'tokens.traded'>) }));
  return { market, trades };
}

async function showMarket(io: CommandIo, stream: string, storeUri: string | undefined, asked: ReturnType<typeof pointFlag>, json: boolean): Promise<number> {
  const store = await openEventStore(cliStoreUri(storeUri), { warn: io.warn });
  try {
    const point = await answeredPoint(store, asked, { streams: (streamId) => streamId === stream });
    const { market, trades } = await marketAt(store, stream, point.at);
    if (json) {
      io.out(toJson({ market: stream, ...point.json, book: market.book, trades, clearings: market.clearings, lastClearing: market.lastClearing }));
      return 0;
    }
    io.out(`${stream} as of ${point.described}: ${market.book.offers.length} offer(s), ${market.book.bids.length} bid(s) open; ${trades.length} trade(s) in ${market.clearings} clearing(s)`);
    for (const o of market.book.offers) io.out(`  offer ${o.offerId.slice(0, 8)}  ${o.sessionId.padEnd(10)} ${String(o.remaining).padStart(7)} tokens  floor ${o.floorPrice}  until ${o.expiresAt}`);
    for (const b of market.book.bids) io.out(`  bid   ${b.bidId.slice(0, 8)}  ${b.sessionId.padEnd(10)} ${String(b.remaining).padStart(7)} tokens  max ${b.maxPrice}  ${b.region} ${b.purpose}`);
    for (const t of trades) io.out(`  trade #${t.position}  ${t.seller} → ${t.buyer}  ${t.amount} tokens at ${t.price.toFixed(6)} USD per 1k: ${t.rationale}`);
    return 0;
  } finally {
    await store.close();
  }
}
