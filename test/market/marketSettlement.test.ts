import { describe, expect, it } from 'vitest';
import { applyLedgerEvent } from '../../projections/tokenLedger/evolveLedger.ts';
import { ledgerViolations } from '../../projections/tokenLedger/ledgerInvariants.ts';
import { initialLedgerState, type LedgerState } from '../../projections/tokenLedger/ledgerState.ts';
import type { EventData } from '../../src/events/catalogue.ts';
import { foldActor, persistedState } from '../../src/runtime/actorFold.ts';
import { actorKindOf } from '../../src/runtime/actorKinds.ts';
import { collect } from '../../src/store/eventStore.ts';
import { query, simulatedSystem } from '../support/simulatedSystem.ts';

const MARKET = 'market-main';

async function ledgerOf(system: ReturnType<typeof simulatedSystem>, sessionId: string): Promise<LedgerState> {
  return (await collect(system.store.readStream(`ledger-${sessionId}`))).reduce((s, e) => applyLedgerEvent(s, e.type, e.data), initialLedgerState);
}

describe('the token market through the runtime', () => {
  it('escrows offers, clears by priority, and settles every trade in both ledgers in the same append; tokens are conserved', async () => {
    const system = simulatedSystem({ seed: 'market' });
    for (const [id, q] of [['miner', query('How do I maximise profit from crypto mining in Texas?', 'US', 'crypto_mining')], ['flood', query('Where should families in Barisal shelter?', 'BD', 'climate_adaptation')], ['farm', query('Which maize suits the short rains?', 'KE', 'sustainable_agriculture')]] as const) {
      await system.start(id, { model: 'scripted:latency=10,seed=2' });
      await system.ask(id, q);
    }
    await system.runUntilAnswered(['miner', 'flood', 'farm'], 1);
    const send = (type: string, data: unknown) => system.runtime.deliver(MARKET, { type, data, causationId: null });
    const expiresAt = '2026-11-24T12:00:00.000Z';
    await send('tokens.offered', { offerId: 'o1', sessionId: 'miner', amount: 3_000, floorPrice: 0.002, expiresAt });
    await send('tokens.bid', { bidId: 'b-farm', sessionId: 'farm', amount: 2_000, maxPrice: 0.006, purpose: 'sustainable_agriculture', region: 'KE' });
    await send('tokens.bid', { bidId: 'b-flood', sessionId: 'flood', amount: 2_000, maxPrice: 0.006, purpose: 'climate_adaptation', region: 'BD' });
    await send('market.clearRequested', { at: '2026-11-24T10:00:00.000Z' });
    await system.runtime.settled();

    const market = await collect(system.store.readStream(MARKET));
    const trades = market.filter((e) => e.type === 'tokens.traded').map((e) => e.data as EventData<'tokens.traded'>);
    // At the same limit price, the flood bid (higher climate-justice priority) is served first, in full; the farm takes the rest.
    expect(trades.map((t) => [t.buyer, t.amount])).toEqual([['flood', 2_000], ['farm', 1_000]]);
    for (const t of trades) expect(t.price).toBeLessThanOrEqual(0.006);

    // Both sides of every trade are in the ledgers, caused by the trade's own fact.
    const [miner, flood, farm] = await Promise.all(['miner', 'flood', 'farm'].map((id) => ledgerOf(system, id)));
    for (const ledger of [miner!, flood!, farm!]) expect(ledgerViolations(ledger)).toEqual([]);
    expect(miner!.balances.traded).toBe(3_000);
    expect((flood!.balances.traded ?? 0) + (farm!.balances.traded ?? 0)).toBe(-3_000);
    expect(miner!.balances['escrow:o1']).toBe(0);
    const sold = (await collect(system.store.readStream('ledger-miner'))).filter((e) => e.type === 'tokens.sold');
    const tradeFacts = market.filter((e) => e.type === 'tokens.traded');
    expect(sold.map((e) => e.metadata.causationId)).toEqual(tradeFacts.map((e) => e.eventId));

    // Replaying the market stream reproduces the book and the clearing exactly.
    const live = persistedState(actorKindOf(MARKET), await system.runtime.snapshotOf(MARKET));
    expect(persistedState(actorKindOf(MARKET), foldActor(actorKindOf(MARKET), market))).toEqual(live);
  });

  it('refuses an offer of more tokens than the seller holds, and writes nothing', async () => {
    const system = simulatedSystem({ seed: 'market-refused' });
    await system.start('poor', { model: 'scripted:latency=10,seed=2' });
    await expect(system.runtime.deliver(MARKET, { type: 'tokens.offered', data: { offerId: 'o9', sessionId: 'poor', amount: 999_999, floorPrice: 0.001, expiresAt: '2026-11-25T00:00:00.000Z' }, causationId: null }))
      .rejects.toThrow(/would break its laws/);
    await expect(collect(system.store.readStream(MARKET))).rejects.toThrow(/does not exist/);
  });
});
