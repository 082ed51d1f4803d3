import { describe, expect, it } from 'vitest';
import type { SessionContext } from '../../machines/sessionMachine.ts';
import { budgetOutcomeOf } from '../../projections/budgetLearning/budgetLearning.ts';
import { applyLedgerEvent } from '../../projections/tokenLedger/evolveLedger.ts';
import { ledgerViolations } from '../../projections/tokenLedger/ledgerInvariants.ts';
import { initialLedgerState } from '../../projections/tokenLedger/ledgerState.ts';
import { createScriptedModel } from '../../src/models/scriptedModel.ts';
import { ActorRuntime } from '../../src/runtime/actorRuntime.ts';
import { SimulatedClock } from '../../src/runtime/clock.ts';
import { seededIds } from '../../src/runtime/ids.ts';
import { agentConfigFor, startSession } from '../../src/runtime/sessionService.ts';
import { sessionStateAt } from '../../src/runtime/stateAt.ts';
import { collect } from '../../src/store/eventStore.ts';
import { MemoryEventStore } from '../../src/store/memoryEventStore.ts';

function system() {
  const store = new MemoryEventStore();
  const clock = new SimulatedClock();
  let providerCalls = 0;
  const model = createScriptedModel({ spec: 'metered', latencyMs: 50, wait: (ms, signal) => clock.wait(ms, signal), replies: () => { providerCalls++; return { text: 'ok', usage: { inputTokens: 60, outputTokens: 40 } }; } });
  const runtime = new ActorRuntime({ store, clock, ids: seededIds('ledger'), models: () => model });
  return { store, clock, runtime, calls: () => providerCalls };
}

describe('ledger enforcement in the runtime', () => {
  it('budgets the turn, gives its agent that quota, reserves before every call, settles, returns what is left and reconciles, all in the ledger stream', async () => {
    const { store, clock, runtime } = system();
    const config = agentConfigFor({ model: 'metered', outputReserveTokens: 100 }, () => createScriptedModel());
    await startSession(runtime, 's1', config, 5_000);
    await runtime.deliver('session-s1', { type: 'query.received', data: { text: 'Flood maps?', region: 'BD', purpose: 'climate_adaptation' }, causationId: null });
    await clock.advance(1_000);
    await runtime.settled();
    const ledger = await collect(store.readStream('ledger-s1'));
    expect(ledger.map((e) => e.type)).toEqual(['budget.allocated', 'factorSet.adopted', 'turn.budgeted', 'quota.assigned', 'tokens.reserved', 'tokens.settled', 'quota.returned', 'budget.reconciled']);
    const state = ledger.reduce((s, e) => applyLedgerEvent(s, e.type, e.data), initialLedgerState);
    expect(ledgerViolations(state)).toEqual([]);
    expect(state.usage.total).toMatchObject({ calls: 1, inputTokens: 60, outputTokens: 40 });
    const session = await collect(store.readStream('session-s1'));
    const budget = session.find((e) => e.type === 'budget.estimated')!.data as { total: number; mode: string };
    // The express agent's quota is the turn's budget, and all of it is back in the pool once the turn is over.
    expect(ledger[2]!.data).toMatchObject({ turn: 0, amount: budget.total, mode: 'express' });
    expect(ledger[3]!.data).toMatchObject({ agentStream: 'agent-s1.express.0', amount: budget.total });
    expect(state.balances.session).toBe(5_000 - 100);
    expect(ledger[7]!.data).toMatchObject({ turn: 0, actual: 100, mode: 'express', budgeted: budget.total, budgetErrorPct: Math.round(((100 - budget.total) / budget.total) * 10_000) / 100 });
    const requested = (await collect(store.readStream('agent-s1.express.0'))).find((e) => e.type === 'model.requested')!;
    expect((ledger[4]!.data as { requestId: string }).requestId).toBe((requested.data as { requestId: string }).requestId);
  });

  it('refuses a call the budget cannot cover: recorded, never sent to the provider', async () => {
    const { store, clock, runtime, calls } = system();
    await startSession(runtime, 's2', agentConfigFor({ model: 'metered', outputReserveTokens: 400 }, () => createScriptedModel()), 300);
    await runtime.deliver('session-s2', { type: 'query.received', data: { text: 'Flood maps?', region: 'BD', purpose: 'climate_adaptation' }, causationId: null });
    await clock.advance(1_000);
    await runtime.settled();
    expect(calls()).toBe(0);
    const ledgerTypes = (await collect(store.readStream('ledger-s2'))).map((e) => e.type);
    expect(ledgerTypes).toContain('tokens.refused');
    expect(ledgerTypes).not.toContain('tokens.reserved');
    // A turn that got no answer teaches budget learning nothing: its reconciliation carries no budget error.
    const reconciled = (await collect(store.readStream('ledger-s2'))).find((e) => e.type === 'budget.reconciled')!.data;
    expect(reconciled).toMatchObject({ turn: 0, actual: 0, unsettled: true });
    expect(reconciled).not.toHaveProperty('budgetErrorPct');
    // Nor does it read as a perfect estimate in the ledger's error aggregate: it is left out, and counted apart.
    const { ledger } = await sessionStateAt(store, 's2');
    expect(ledger.reconciled).toMatchObject({ count: 0, meanErrorPct: 0, unsettled: 1 });
    expect(budgetOutcomeOf(reconciled)).toBeUndefined();
    const outcome = ((await runtime.snapshotOf('session-s2')).context as SessionContext).recentOutcomes[0]!;
    expect(outcome).toMatchObject({ status: 'failed' });
    expect(outcome.text).toMatch(/refused: budget: the call needs \d+ tokens/);
  });

  it('concurrent agents of one session cannot overspend it: only what the budget covers is granted', async () => {
    const { store, clock, runtime, calls } = system();
    const config = agentConfigFor({ model: 'metered', outputReserveTokens: 200 }, () => createScriptedModel());
    await startSession(runtime, 's3', config, 1_000);
    // Five agents assigned at once, each promised the whole budget, all asking at the same moment.
    const agents = [0, 1, 2, 3, 4].map((n) => `agent-s3.analyst.${n}`);
    await Promise.all(agents.map((agentStream, n) => runtime.deliver(agentStream, {
      type: 'agent.assigned', data: { sessionId: 's3', sessionStream: 'session-s3', agentStream, role: 'analyst', instance: n, config, quotaTokens: 1_000 }, causationId: null,
    })));
    await Promise.all(agents.map((agentStream) => runtime.deliver(agentStream, { type: 'task.assigned', data: { turn: 0, query: 'Heat?', region: 'IN', purpose: 'climate_adaptation' }, causationId: null })));
    await clock.advance(1_000);
    await runtime.settled();
    const ledger = await collect(store.readStream('ledger-s3'));
    const reserved = ledger.filter((e) => e.type === 'tokens.reserved').reduce((n, e) => n + (e.data as { amount: number }).amount, 0);
    expect(reserved).toBeLessThanOrEqual(1_000);
    expect(calls()).toBe(ledger.filter((e) => e.type === 'tokens.reserved').length);
    expect(ledger.filter((e) => e.type === 'tokens.refused').length).toBeGreaterThan(0);
    const state = ledger.reduce((s, e) => applyLedgerEvent(s, e.type, e.data), initialLedgerState);
    expect(ledgerViolations(state)).toEqual([]);
  });
});
