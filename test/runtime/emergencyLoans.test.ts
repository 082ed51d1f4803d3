import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { SessionContext } from '../../machines/sessionMachine.ts';
import { applyLedgerEvent } from '../../projections/tokenLedger/evolveLedger.ts';
import { ledgerViolations } from '../../projections/tokenLedger/ledgerInvariants.ts';
import { initialLedgerState } from '../../projections/tokenLedger/ledgerState.ts';
import type { EventData } from '../../src/events/catalogue.ts';
import { EMERGENCY_STREAM, emergencyEvent } from '../../src/runtime/emergencyRegister.ts';
import { agentConfigFor, startSession } from '../../src/runtime/sessionService.ts';
import { sessionStream } from '../../src/runtime/sessionStreams.ts';
import { collect } from '../../src/store/eventStore.ts';
import { query, simulatedSystem } from '../support/simulatedSystem.ts';

const ledgerOf = async (system: ReturnType<typeof simulatedSystem>, sessionId: string) => collect(system.store.readStream(`ledger-${sessionId}`));

describe('emergency loans between sessions', () => {
  it('an emergency short of tokens borrows from a lower-priority session, both sides recorded in one write, and repays what it did not use', async () => {
    const system = simulatedSystem({ seed: 'loans' });
    const config = agentConfigFor({ model: 'scripted:latency=20,seed=21' }, () => ({ profile: undefined }) as never);
    // Two sessions already running here: a low-priority one with a large budget, a high-priority one with little.
    await startSession(system.runtime, 'miner', config, 50_000);
    await system.ask('miner', query('How do I maximise profit from crypto mining in Texas?', 'US', 'crypto_mining'));
    await startSession(system.runtime, 'farmer', config, 300);
    await system.ask('farmer', query('Which maize variety suits the short rains?', 'KE', 'sustainable_agriculture'));
    await system.runUntilAnswered(['miner'], 1);

    await system.store.appendToStream(EMERGENCY_STREAM, [emergencyEvent('emergency.declared', { emergencyId: 'flood-1', region: 'BD', kind: 'flood' }, { eventId: randomUUID(), recordedAt: '2026-11-24T09:00:00.000Z' })]);
    await startSession(system.runtime, 'flood', config, 500);
    await system.ask('flood', query('Where should families in Barisal go as the river rises tonight?', 'BD', 'disaster_response'));
    await system.runUntilAnswered(['flood'], 1);

    const flood = ((await system.runtime.snapshotOf(sessionStream('flood'))).context as SessionContext).recentOutcomes[0]!;
    expect(flood).toMatchObject({ status: 'answered', mode: 'emergency' });
    const borrowerLedger = await ledgerOf(system, 'flood');
    const lenderLedger = await ledgerOf(system, 'miner');
    const borrowed = borrowerLedger.filter((e) => e.type === 'tokens.borrowedFromSession');
    const lent = lenderLedger.filter((e) => e.type === 'tokens.lentToSession');
    expect(borrowed.length).toBeGreaterThan(0);
    // Each loan is one event on each side, with the same amount, caused by the same fact, from the lower-priority session only.
    expect(borrowed.map((e) => (e.data as EventData<'tokens.borrowedFromSession'>).fromSession)).toEqual(borrowed.map(() => 'miner'));
    expect(lent.map((e) => [(e.data as EventData<'tokens.lentToSession'>).amount, e.metadata.causationId])).toEqual(borrowed.map((e) => [(e.data as EventData<'tokens.borrowedFromSession'>).amount, e.metadata.causationId]));
    // The farmer (priority above the miner's, below the emergency's) is not asked: the lowest priority lends first and covered it.
    expect((await ledgerOf(system, 'farmer')).some((e) => e.type === 'tokens.lentToSession')).toBe(false);

    const fold = (events: typeof borrowerLedger) => events.reduce((s, e) => applyLedgerEvent(s, e.type, e.data), initialLedgerState);
    const b = fold(borrowerLedger);
    const l = fold(lenderLedger);
    expect(ledgerViolations(b)).toEqual([]);
    expect(ledgerViolations(l)).toEqual([]);
    // What is still owed on one side is what is still lent on the other; what was unused went back at the turn's end.
    expect(-(b.balances['borrowed:miner'] ?? 0)).toBe(l.balances['lent:flood'] ?? 0);
    expect(borrowerLedger.some((e) => e.type === 'tokens.repaidToSession')).toBe(true);
    expect(lenderLedger.some((e) => e.type === 'tokens.repaymentReceived')).toBe(true);
    expect(b.priority).toBeGreaterThan(l.priority!);
  });

  it('a session that is not an emergency is refused rather than borrowing', async () => {
    const system = simulatedSystem({ seed: 'no-loans' });
    const config = agentConfigFor({ model: 'scripted:latency=20,seed=22' }, () => ({ profile: undefined }) as never);
    await startSession(system.runtime, 'miner', config, 50_000);
    await system.ask('miner', query('How do I maximise profit from crypto mining in Texas?', 'US', 'crypto_mining'));
    await system.runUntilAnswered(['miner'], 1);
    await startSession(system.runtime, 'poor', config, 200);
    await system.ask('poor', query('Where should families in Barisal go as the river rises tonight?', 'BD', 'disaster_response'));
    await system.runUntilAnswered(['poor'], 1);
    const outcome = ((await system.runtime.snapshotOf(sessionStream('poor'))).context as SessionContext).recentOutcomes[0]!;
    expect(outcome.status).toBe('failed');
    expect((await ledgerOf(system, 'miner')).some((e) => e.type === 'tokens.lentToSession')).toBe(false);
  });
});
