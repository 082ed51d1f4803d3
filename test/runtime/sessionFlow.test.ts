import { createActor } from 'xstate';
import { describe, expect, it } from 'vitest';
import type { SessionContext } from '../../machines/sessionMachine.ts';
import { ledgerViolations } from '../../projections/tokenLedger/ledgerInvariants.ts';
import { budgetHistory } from '../../src/cli/commands/budgetsCommand.ts';
import type { EventData } from '../../src/events/catalogue.ts';
import type { RecordedEvent } from '../../src/events/envelope.ts';
import type { LanguageModel } from '../../src/models/languageModel.ts';
import { ModelCallError } from '../../src/models/modelCallError.ts';
import { createScriptedModel } from '../../src/models/scriptedModel.ts';
import { estimateBudget, SEED_BASES } from '../../src/policy/budget/budgetEstimate.ts';
import { priorityOf } from '../../src/policy/priority/index.ts';
import { triageQuery } from '../../src/policy/triage/index.ts';
import { foldActor, machineEventOf, persistedState } from '../../src/runtime/actorFold.ts';
import { actorKindOf } from '../../src/runtime/actorKinds.ts';
import { askInSession, type Query } from '../../src/runtime/sessionService.ts';
import { collect } from '../../src/store/eventStore.ts';
import type { SimulatedClock } from '../../src/runtime/clock.ts';
import { dataOf, sentOf, sessionScenario, type SessionScenario } from '../support/sessionScenario.ts';

const BARISAL = 'Design a flood early-warning system for coastal Bangladesh: compare sensor networks, SMS alerts and community radio, estimate costs, and list the first three steps for the Barisal division.';
const MACHAKOS = "What drought-tolerant crops and water-harvesting practices should smallholder farmers in Kenya's Machakos County adopt, and how should they sequence the investments over three seasons?";
const CRYPTO = 'How do I maximise profit from crypto mining in Texas?';

const MODEL = 'scripted:latency=200,seed=1';
const COUNCIL_ROLES = ['analyst', 'critic', 'domain_expert', 'economist'];
const FLOOD_ROLES = ['hydrologist', 'logistics', 'public_health'];

type Answered = EventData<'agent.answered'>;
type Failed = EventData<'agent.failed'>;
type Task = EventData<'task.assigned'>;
type Decided = EventData<'triage.decided'>;
type Estimated = EventData<'budget.estimated'>;
type Completed = EventData<'turn.completed'>;

const usageOf = (a: Answered) => a.usage.inputTokens + a.usage.outputTokens;
const agent = (sessionId: string, role: string) => `agent-${sessionId}.${role}.0`;
const pos = (e: RecordedEvent) => e.position;

/** The turn's events in the session stream, from its `query.received` up to and including its `turn.completed`. */
function turnEvents(session: readonly RecordedEvent[], turn: number): RecordedEvent[] {
  const starts = session.map((e, i) => (e.type === 'query.received' ? i : -1)).filter((i) => i >= 0);
  const ends = session.map((e, i) => (e.type === 'turn.completed' ? i : -1)).filter((i) => i >= 0);
  return session.slice(starts[turn]!, ends[turn]! + 1);
}

async function expectLedgerLawful(s: SessionScenario, sessionId: string) {
  const ledger = await s.ledger(sessionId);
  expect(ledgerViolations(ledger.state), `ledger of ${sessionId}`).toEqual([]);
  return ledger;
}

/** Every actor stream folded from the store equals the live state after every event, and a bare actor agrees. */
async function expectReplayable(s: SessionScenario, sessionId: string): Promise<string[]> {
  const byStream = Map.groupBy(s.steps.filter((step) => step.streamId.includes(`-${sessionId}`)), (step) => step.streamId);
  for (const [streamId, live] of byStream) {
    const kind = actorKindOf(streamId);
    const recorded = await collect(s.store.readStream(streamId));
    expect(recorded.map((e) => e.eventId), streamId).toEqual(live.map((step) => step.eventId));
    const folded: unknown[] = [];
    foldActor(kind, recorded, (_event, snapshot) => folded.push(persistedState(kind, snapshot)));
    expect(folded, streamId).toEqual(live.map((step) => step.state));
    const bare = createActor(kind.machine).start();
    recorded.forEach((event, i) => {
      bare.send(machineEventOf(event));
      const { value, context, status } = bare.getPersistedSnapshot() as unknown as { value: unknown; context: unknown; status: string };
      expect({ value, context, status }, `${streamId} after revision ${event.revision} (${event.type}), bare actor`).toEqual(live[i]!.state);
    });
    bare.stop();
  }
  return [...byStream.keys()].sort();
}

/**
 * One model for every spec: each call's outcome decided by the role in its prompt (`You are the <role> agent…`).
 * Answers name their role, so a test can see whose text went where.
 */
function roleScriptedModels(fails: (role: string) => boolean) {
  return (clock: SimulatedClock) => {
    const model = createScriptedModel({
      spec: 'by-role', latencyMs: 100, wait: (ms, signal) => clock.wait(ms, signal),
      replies: (request) => {
        const role = /^You are the (\w+) agent/.exec(request.prompt)?.[1] ?? 'unknown';
        return fails(role)
          ? new ModelCallError('refused', `the ${role} prompt was refused by the content filter`)
          : { text: `The ${role} answers: act on the evidence, keep the plan revisable.`, usage: { inputTokens: 100 + role.length, outputTokens: 50 } };
      },
    });
    return (_spec: string): LanguageModel => model;
  };
}

describe('session flow through the runtime: triage, council, emergency, learning, admission', () => {
  it('express: one agent answers a simple query; the turn is triaged, prioritised, budgeted, answered and reconciled', async () => {
    const s = sessionScenario({ seed: 'flow-express' });
    await s.start('s1', { model: MODEL });
    const q: Query = { text: 'Which crops tolerate drought?', region: 'KE', purpose: 'climate_adaptation' };
    const outcome = await s.ask('s1', q);

    const session = await s.session('s1');
    const turn = turnEvents(session, 0);
    expect(turn.map((e) => e.type)).toEqual([
      'query.received', 'triage.decided', 'priority.assigned', 'budget.estimated', 'message.sent', 'message.sent', 'agent.answered', 'turn.completed',
    ]);
    const [received, decided, priority, estimated, assigned, task, answered, completed] = turn;
    expect(received!.data).toEqual(q);
    expect(decided!.data as Decided).toMatchObject({ turn: 0, decision: { mode: 'express', roles: ['express'], emergency: null } });
    expect((decided!.data as Decided).decision).toEqual(triageQuery(q));
    expect(priority!.data).toEqual({ turn: 0, priority: priorityOf(q) });
    const decision = (decided!.data as Decided).decision;
    const budget = estimateBudget({ turn: 0, mode: 'express', roles: 1, confidence: decision.confidence });
    expect(estimated!.data).toEqual(budget);
    expect(budget).toMatchObject({ base: SEED_BASES.express, learnedFrom: 0, learnedThrough: null });
    expect(assigned!.data).toMatchObject({ to: agent('s1', 'express'), messageType: 'agent.assigned' });
    expect(task!.data).toMatchObject({ to: agent('s1', 'express'), messageType: 'task.assigned', data: { turn: 0, query: q.text, region: 'KE', purpose: 'climate_adaptation', quotaTokens: budget.total } });
    const answer = answered!.data as Answered;
    expect(answer).toMatchObject({ turn: 0, agentStream: agent('s1', 'express') });
    expect(completed!.data).toEqual({ turn: 0, status: 'answered', mode: 'express', agents: [agent('s1', 'express')] });

    // What the caller gets is the agent's answer, and the tokens it used.
    expect(outcome).toMatchObject({ turn: 0, query: q.text, status: 'answered', mode: 'express', text: answer.text, agentStream: agent('s1', 'express'), tokens: usageOf(answer) });

    const { events, state } = await expectLedgerLawful(s, 's1');
    const [budgeted] = dataOf<EventData<'turn.budgeted'>>(events, 'turn.budgeted');
    expect(budgeted).toMatchObject({ turn: 0, amount: budget.total, mode: 'express', roles: 1, confidence: decision.confidence });
    expect(dataOf(events, 'quota.assigned')).toEqual([{ agentStream: agent('s1', 'express'), amount: budget.total }]);
    const [reconciled] = dataOf<EventData<'budget.reconciled'>>(events, 'budget.reconciled');
    const actual = usageOf(answer);
    expect(reconciled).toMatchObject({
      turn: 0, actual, mode: 'express', roles: 1, confidence: decision.confidence, budgeted: budget.total,
      budgetErrorPct: Math.round(((actual - budget.total) / budget.total) * 10_000) / 100,
    });
    // The ledger's postings come after the facts they account for: budget, then quota, then reconciliation at the end.
    const types = events.map((e) => e.type);
    expect(types.indexOf('turn.budgeted')).toBeLessThan(types.indexOf('quota.assigned'));
    expect(types.at(-1)).toBe('budget.reconciled');
    expect(state.usage.total.inputTokens + state.usage.total.outputTokens).toBe(outcome.tokens);
    // Everything the turn did not use is back in the pool.
    expect(state.balances.session).toBe(20_000 - outcome.tokens);
    expect(Object.values(state.loans).filter((n) => n > 0)).toEqual([]);
  });

  it('council: each role works in parallel on its share, the synthesiser merges every answer, and its answer is the turn', async () => {
    const s = sessionScenario({ seed: 'flow-council' });
    await s.start('s1', { model: MODEL });
    const q: Query = { text: MACHAKOS, region: 'KE', purpose: 'sustainable_agriculture' };
    const outcome = await s.ask('s1', q);

    const session = await s.session('s1');
    const decision = dataOf<Decided>(session, 'triage.decided')[0]!.decision;
    expect(decision).toMatchObject({ mode: 'council', roles: COUNCIL_ROLES, emergency: null });
    const estimate = dataOf<Estimated>(session, 'budget.estimated')[0]!;
    expect(estimate).toEqual(estimateBudget({ turn: 0, mode: 'council', roles: COUNCIL_ROLES.length + 1, confidence: decision.confidence }));
    const share = Math.floor(estimate.total / (COUNCIL_ROLES.length + 1));

    // Every role gets an agent and a task, all sent before any answer is recorded.
    const tasks = sentOf<Task>(session, 'task.assigned');
    const roleTasks = tasks.filter((t) => !t.to.includes('.synthesiser.'));
    expect(sentOf(session, 'agent.assigned').map((a) => a.to).slice(0, COUNCIL_ROLES.length)).toEqual(COUNCIL_ROLES.map((r) => agent('s1', r)));
    expect(roleTasks.map((t) => t.to)).toEqual(COUNCIL_ROLES.map((r) => agent('s1', r)));
    const answers = session.filter((e) => e.type === 'agent.answered');
    expect(answers).toHaveLength(COUNCIL_ROLES.length + 1);
    const firstAnswer = answers[0]!;
    for (const t of roleTasks) expect(pos(t.event)).toBeLessThan(pos(firstAnswer));
    // … and the models were called in parallel: every role's call was requested before any call returned.
    const roleStreams = await Promise.all(COUNCIL_ROLES.map((r) => s.stream(agent('s1', r))));
    const requested = roleStreams.flatMap((events) => events.filter((e) => e.type === 'model.requested'));
    const responded = roleStreams.flatMap((events) => events.filter((e) => e.type === 'model.responded'));
    expect(requested).toHaveLength(COUNCIL_ROLES.length);
    expect(Math.max(...requested.map((e) => Number(e.position)))).toBeLessThan(Math.min(...responded.map((e) => Number(e.position))));

    // Each task carries an equal share of the turn's budget (the synthesiser counted as a role).
    for (const t of tasks) expect(t.data.quotaTokens).toBe(share);

    // Each role answered; the synthesiser's task lists every role's answer, exactly.
    const roleAnswers = answers.slice(0, COUNCIL_ROLES.length).map((e) => e.data as Answered);
    expect(roleAnswers.map((a) => a.agentStream).sort()).toEqual(COUNCIL_ROLES.map((r) => agent('s1', r)).sort());
    const synthesis = tasks.find((t) => t.to === agent('s1', 'synthesiser'))!;
    expect(pos(synthesis.event)).toBeGreaterThan(pos(answers[COUNCIL_ROLES.length - 1]!));
    expect(synthesis.data.contributions).toEqual(roleAnswers.map((a) => ({
      role: COUNCIL_ROLES.find((r) => agent('s1', r) === a.agentStream), agentStream: a.agentStream, status: 'answered', text: a.text,
    })));
    // The synthesiser's prompt holds every contribution.
    const synthPrompt = dataOf<EventData<'model.requested'>>(await s.stream(agent('s1', 'synthesiser')), 'model.requested')[0]!.prompt;
    for (const a of roleAnswers) expect(synthPrompt).toContain(a.text);

    // The synthesiser's answer is the turn's outcome; its tokens are every agent's.
    const synthAnswer = answers.at(-1)!.data as Answered;
    expect(synthAnswer.agentStream).toBe(agent('s1', 'synthesiser'));
    const allTokens = answers.reduce((n, e) => n + usageOf(e.data as Answered), 0);
    expect(outcome).toMatchObject({ turn: 0, status: 'answered', mode: 'council', text: synthAnswer.text, agentStream: agent('s1', 'synthesiser'), tokens: allTokens });
    expect(dataOf<Completed>(session, 'turn.completed')).toEqual([{
      turn: 0, status: 'answered', mode: 'council', agents: [...COUNCIL_ROLES, 'synthesiser'].map((r) => agent('s1', r)),
    }]);

    const { events, state } = await expectLedgerLawful(s, 's1');
    expect(state.usage.total.inputTokens + state.usage.total.outputTokens).toBe(allTokens);
    expect(dataOf(events, 'turn.budgeted')).toEqual([expect.objectContaining({ turn: 0, amount: estimate.total, mode: 'council', roles: 5, confidence: decision.confidence })]);
    expect(dataOf<EventData<'quota.assigned'>>(events, 'quota.assigned').map((a) => a.amount)).toEqual([share, share, share, share, share]);
    expect(dataOf(events, 'budget.reconciled')).toEqual([expect.objectContaining({ turn: 0, actual: allTokens, mode: 'council', roles: 5, budgeted: estimate.total })]);
  });

  it('council with failing members: the synthesiser merges what there is and is told of the failures', async () => {
    const failing = new Set(['critic', 'economist']);
    const s = sessionScenario({ seed: 'flow-council-partial', models: roleScriptedModels((role) => failing.has(role)) });
    await s.start('s1', { model: 'by-role', maxAttempts: 1 });
    const outcome = await s.ask('s1', { text: MACHAKOS, region: 'KE', purpose: 'sustainable_agriculture' });

    const session = await s.session('s1');
    const failures = dataOf<Failed>(session, 'agent.failed');
    expect(failures.map((f) => f.agentStream).sort()).toEqual([agent('s1', 'critic'), agent('s1', 'economist')]);
    const synthesis = sentOf<Task>(session, 'task.assigned').find((t) => t.to === agent('s1', 'synthesiser'))!;
    const contributions = synthesis.data.contributions!;
    expect(contributions).toHaveLength(COUNCIL_ROLES.length);
    for (const role of COUNCIL_ROLES) {
      const c = contributions.find((x) => x.role === role)!;
      expect(c.agentStream).toBe(agent('s1', role));
      if (failing.has(role)) expect(c).toMatchObject({ status: 'failed', text: `refused: the ${role} prompt was refused by the content filter` });
      else expect(c).toMatchObject({ status: 'answered', text: `The ${role} answers: act on the evidence, keep the plan revisable.` });
    }
    // The synthesiser's prompt says who could not answer.
    const prompt = dataOf<EventData<'model.requested'>>(await s.stream(agent('s1', 'synthesiser')), 'model.requested')[0]!.prompt;
    expect(prompt).toContain('The critic could not answer:');
    expect(prompt).toContain('From the analyst:');

    const answered = dataOf<Answered>(session, 'agent.answered');
    expect(outcome).toMatchObject({ status: 'answered', mode: 'council', agentStream: agent('s1', 'synthesiser'), text: 'The synthesiser answers: act on the evidence, keep the plan revisable.' });
    expect(outcome.tokens).toBe(answered.reduce((n, a) => n + usageOf(a), 0));
    expect(dataOf<Completed>(session, 'turn.completed')[0]).toMatchObject({ status: 'answered', mode: 'council', agents: [...COUNCIL_ROLES, 'synthesiser'].map((r) => agent('s1', r)) });
    const { events } = await expectLedgerLawful(s, 's1');
    // The failed members' reservations were released, never settled.
    expect(dataOf<EventData<'tokens.released'>>(events, 'tokens.released').map((r) => r.agentStream).sort()).toEqual([agent('s1', 'critic'), agent('s1', 'economist')]);
    expect(dataOf<EventData<'tokens.settled'>>(events, 'tokens.settled').map((r) => r.agentStream).sort())
      .toEqual(['analyst', 'domain_expert', 'synthesiser'].map((r) => agent('s1', r)));
    await expectReplayable(s, 's1');
  });

  it('council where every member fails: the turn fails with every reason, no synthesiser is assigned, and the session goes on', async () => {
    // Every council role fails; the express agent of the next turn does not.
    const s = sessionScenario({ seed: 'flow-council-failed', models: roleScriptedModels((role) => role !== 'express') });
    await s.start('s1', { model: 'by-role', maxAttempts: 1 });
    const outcome = await s.ask('s1', { text: MACHAKOS, region: 'KE', purpose: 'sustainable_agriculture' });

    expect(outcome.status).toBe('failed');
    expect(outcome.mode).toBe('council');
    expect(outcome.tokens).toBe(0);
    expect(outcome.text).toMatch(/^every council role failed \(/);
    for (const role of COUNCIL_ROLES) expect(outcome.text).toContain(`${role}: refused: the ${role} prompt was refused by the content filter`);
    const session = await s.session('s1');
    expect(session.some((e) => e.type === 'message.sent' && (e.data as { to: string }).to === agent('s1', 'synthesiser'))).toBe(false);
    expect((await collect(s.store.readAll())).some((e) => e.streamId === agent('s1', 'synthesiser'))).toBe(false);
    expect(dataOf<Completed>(session, 'turn.completed')).toEqual([{ turn: 0, status: 'failed', mode: 'council', agents: COUNCIL_ROLES.map((r) => agent('s1', r)) }]);
    const { events } = await expectLedgerLawful(s, 's1');
    // Reconciled, but with no budget error for learning to take from a turn that got no answer.
    const [reconciled] = dataOf(events, 'budget.reconciled');
    expect(reconciled).toMatchObject({ turn: 0, actual: 0 });
    expect(reconciled).not.toHaveProperty('mode');

    // A failed council does not wedge the session: the next (simple) question is answered.
    const next = await s.ask('s1', { text: 'Which crops tolerate drought?', region: 'KE', purpose: 'climate_adaptation' });
    expect(next).toMatchObject({ turn: 1, status: 'answered', mode: 'express', text: 'The express answers: act on the evidence, keep the plan revisable.' });
    await expectLedgerLawful(s, 's1');
    await expectReplayable(s, 's1');
  });

  it('emergency: a declared flood turns a BD adaptation query into an emergency council with a larger budget; lifting it restores triage by complexity', async () => {
    const s = sessionScenario({ seed: 'flow-emergency' });
    await s.declare('flood-bd-2026', 'BD', 'flood');
    await s.start('bd', { model: MODEL });
    await s.start('ke', { model: MODEL });
    const bd: Query = { text: BARISAL, region: 'BD', purpose: 'climate_adaptation' };

    const first = await s.ask('bd', bd);
    let session = await s.session('bd');
    const decision = dataOf<Decided>(session, 'triage.decided')[0]!.decision;
    expect(decision).toMatchObject({ mode: 'emergency', roles: FLOOD_ROLES, confidence: 0.99, emergency: { emergencyId: 'flood-bd-2026', region: 'BD', kind: 'flood' } });
    expect(decision.rationale).toContain('flood-bd-2026');
    const tasks = sentOf<Task>(session, 'task.assigned');
    expect(tasks.map((t) => t.to)).toEqual([...FLOOD_ROLES, 'synthesiser'].map((r) => agent('bd', r)));
    expect(first).toMatchObject({ turn: 0, status: 'answered', mode: 'emergency', agentStream: agent('bd', 'synthesiser') });
    expect(dataOf<Completed>(session, 'turn.completed')[0]).toEqual({ turn: 0, status: 'answered', mode: 'emergency', agents: [...FLOOD_ROLES, 'synthesiser'].map((r) => agent('bd', r)) });

    // A larger budget than the same query would get as an ordinary council.
    const emergencyBudget = dataOf<Estimated>(session, 'budget.estimated')[0]!;
    expect(emergencyBudget).toMatchObject({ mode: 'emergency', roles: FLOOD_ROLES.length + 1, seedBase: 3_750, base: 3_750 });
    const asCouncil = triageQuery(bd);
    expect(asCouncil.mode).toBe('council');
    const councilBudget = estimateBudget({ turn: 0, mode: 'council', roles: asCouncil.roles.length + 1, confidence: asCouncil.confidence });
    expect(councilBudget.base).toBe(2_500);
    expect(emergencyBudget.total).toBeGreaterThan(councilBudget.total);
    for (const t of tasks) expect(t.data.quotaTokens).toBe(Math.floor(emergencyBudget.total / (FLOOD_ROLES.length + 1)));

    // The emergency is BD's: a KE query asked while it is in force is triaged by complexity.
    const ke = await s.ask('ke', { text: MACHAKOS, region: 'KE', purpose: 'climate_adaptation' });
    const keDecision = dataOf<Decided>(await s.session('ke'), 'triage.decided')[0]!.decision;
    expect(keDecision).toMatchObject({ mode: 'council', emergency: null, roles: COUNCIL_ROLES });
    expect(keDecision.rationale).not.toContain('flood-bd-2026');
    expect(ke.mode).toBe('council');

    // In BD, a purpose that is not about responding to it is not an emergency either (and the rationale says so).
    const education = await s.ask('bd', { ...bd, purpose: 'education' });
    session = await s.session('bd');
    const educationDecision = dataOf<Decided>(session, 'triage.decided')[1]!.decision;
    expect(educationDecision).toMatchObject({ mode: 'council', emergency: null });
    expect(educationDecision.rationale).toContain('does not change the mode');
    expect(education).toMatchObject({ turn: 1, mode: 'council' });

    // Lifted: the next BD adaptation query in the same session is triaged by complexity again.
    await s.lift('flood-bd-2026', 'BD');
    const after = await s.ask('bd', bd);
    session = await s.session('bd');
    const afterDecision = dataOf<Decided>(session, 'triage.decided')[2]!.decision;
    expect(afterDecision).toEqual(triageQuery(bd));
    expect(afterDecision).toMatchObject({ mode: 'council', emergency: null });
    expect(after).toMatchObject({ turn: 2, status: 'answered', mode: 'council' });
    expect(dataOf<Estimated>(session, 'budget.estimated')[2]).toMatchObject({ mode: 'council' });
    const lastTasks = sentOf<Task>(turnEvents(session, 2), 'task.assigned').map((t) => t.to);
    expect(lastTasks).toEqual([...COUNCIL_ROLES, 'synthesiser'].map((r) => agent('bd', r)));

    await expectLedgerLawful(s, 'bd');
    await expectLedgerLawful(s, 'ke');
    // Replay: every actor of the emergency session folds to the live state after every event.
    const streams = await expectReplayable(s, 'bd');
    expect(streams).toEqual([...new Set([...FLOOD_ROLES, ...COUNCIL_ROLES, 'synthesiser'])].map((r) => agent('bd', r)).concat('session-bd').sort());
    await expectReplayable(s, 'ke');
  });

  it('budget learning: over 20 express sessions the budget error shrinks, and each estimate learnt from every turn before it', async () => {
    const s = sessionScenario({ seed: 'flow-learning' });
    const places = ['Machakos', 'Kitui', 'Makueni', 'Garissa', 'Turkana', 'Marsabit', 'Isiolo', 'Samburu', 'Wajir', 'Mandera',
      'Baringo', 'Kajiado', 'Narok', 'Laikipia', 'Tana River', 'Lamu', 'Kilifi', 'Kwale', 'Taita Taveta', 'Embu'];
    for (const [i, place] of places.entries()) {
      await s.start(`l${i}`, { model: 'scripted:latency=10,seed=9' });
      const outcome = await s.ask(`l${i}`, { text: `Which crops tolerate drought in ${place}?`, region: 'KE', purpose: 'climate_adaptation' });
      expect(outcome).toMatchObject({ status: 'answered', mode: 'express' });
    }

    const estimates = (await Promise.all(places.map(async (_p, i) => dataOf<Estimated>(await s.session(`l${i}`), 'budget.estimated')[0]!)));
    expect(estimates.map((e) => e.learnedFrom)).toEqual([...places.keys()]);
    expect(estimates[0]!.learnedThrough).toBeNull();
    for (const e of estimates.slice(1)) expect(e.learnedThrough).toMatch(/^[0-9a-f-]{36}$/);
    // The base only moves down here (every turn used far less than budgeted), never up.
    for (let i = 1; i < estimates.length; i++) expect(estimates[i]!.base).toBeLessThanOrEqual(estimates[i - 1]!.base);

    const { records, learning } = await budgetHistory(s.store);
    expect(records).toHaveLength(20);
    expect(records.map((r) => r.sessionId)).toEqual(places.map((_p, i) => `l${i}`));
    expect(learning.bases.express.learnedFrom).toBe(20);
    const meanAbs = (xs: typeof records) => xs.reduce((n, r) => n + Math.abs(r.errorPct), 0) / xs.length;
    const first5 = meanAbs(records.slice(0, 5));
    const last5 = meanAbs(records.slice(-5));
    console.log(`budget learning (express, 20 sessions): first 5 mean |error| ${first5.toFixed(2)} %, last 5 mean |error| ${last5.toFixed(2)} %; `
      + `base ${estimates[0]!.base} → ${estimates.at(-1)!.base} (learnt ${learning.bases.express.base.toFixed(1)}); `
      + `errors ${records.map((r) => r.errorPct.toFixed(1)).join(', ')}`);
    expect(last5).toBeLessThan(first5 - 10);
    // Each session's ledger holds the estimate the session recorded.
    for (const [i, e] of estimates.entries()) {
      const { events } = await expectLedgerLawful(s, `l${i}`);
      // Memory of the sessions before sets what the turn is given; the formula's total is what learning measures.
      expect(dataOf<EventData<'turn.budgeted'>>(events, 'turn.budgeted')[0]!.amount).toBe(e.allocated ?? e.total);
    }
  });

  it('admission under saturation: waiting turns are admitted by climate-justice priority, highest first', async () => {
    const s = sessionScenario({ seed: 'flow-admission', maxActiveTurns: 1 });
    const slow = { model: 'scripted:latency=5000,seed=3' };
    const asks: Record<string, Query> = {
      us: { text: CRYPTO, region: 'US', purpose: 'crypto_mining' },
      us2: { text: 'Which ASIC miners use the least power per terahash?', region: 'US', purpose: 'crypto_mining' },
      ke: { text: 'Which crops tolerate drought?', region: 'KE', purpose: 'sustainable_agriculture' },
      bd: { text: 'Where are the nearest flood shelters?', region: 'BD', purpose: 'climate_adaptation' },
    };
    for (const id of Object.keys(asks)) await s.start(id, slow);

    const us = askInSession(s.runtime, 'us', asks.us!);
    await s.clock.advance(100);
    expect(s.runtime.admission.queued).toBe(0);
    // While the US turn runs: the low-priority one first, then the high-priority ones.
    const waiting = ['us2', 'ke', 'bd'].map((id) => askInSession(s.runtime, id, asks[id]!));
    await s.clock.advance(100);
    expect(s.runtime.admission.queued).toBe(3);
    const outcomes = await s.drive(Promise.all([us, ...waiting]));
    for (const [i, id] of ['us', 'us2', 'ke', 'bd'].entries()) expect(outcomes[i]).toMatchObject({ status: 'answered', query: asks[id]!.text });

    const all = await collect(s.store.readAll());
    const received = all.filter((e) => e.type === 'query.received');
    expect(received.map((e) => e.metadata.sessionId)).toEqual(['us', 'bd', 'ke', 'us2']);
    const priorities = all.filter((e) => e.type === 'priority.assigned').map((e) => (e.data as EventData<'priority.assigned'>).priority.priority);
    expect(priorities).toEqual(['us', 'bd', 'ke', 'us2'].map((id) => priorityOf(asks[id]!).priority));
    expect(priorities.slice(1)).toEqual([...priorities.slice(1)].sort((a, b) => b - a));
    // One turn at a time: each admitted turn starts after the one before it completed.
    const completed = all.filter((e) => e.type === 'turn.completed');
    expect(completed.map((e) => e.metadata.sessionId)).toEqual(['us', 'bd', 'ke', 'us2']);
    for (let i = 1; i < received.length; i++) expect(received[i]!.position).toBeGreaterThan(completed[i - 1]!.position);
    expect(s.runtime.admission.queued).toBe(0);
  });

  // BUG (src/runtime/sessionService.ts, askInSession): admission waits on priorityOf(query) alone, which knows nothing
  // of emergencies, while `chronicle emergency` promises "triage serves them first" (src/cli/main.ts,
  // emergencyCommand.ts). Under saturation a BD flood-response query waits behind an ordinary KE one (priority 21.75 >
  // 15.3) and behind ordinary BD ones. Turn into `it` once a declared emergency's requests are admitted first.
  it('under saturation, a declared emergency\'s requests are admitted before ordinary ones', async () => {
    const s = sessionScenario({ seed: 'flow-emergency-admission', maxActiveTurns: 1 });
    await s.declare('flood-bd-2026', 'BD', 'flood');
    const slow = { model: 'scripted:latency=5000,seed=3' };
    for (const id of ['us', 'ke', 'bd']) await s.start(id, slow);
    const running = askInSession(s.runtime, 'us', { text: CRYPTO, region: 'US', purpose: 'crypto_mining' });
    await s.clock.advance(100);
    const ke = askInSession(s.runtime, 'ke', { text: 'Which crops tolerate drought?', region: 'KE', purpose: 'climate_adaptation' });
    const bd = askInSession(s.runtime, 'bd', { text: 'Where are the nearest flood shelters?', region: 'BD', purpose: 'disaster_response' });
    const [, , flood] = await s.drive(Promise.all([running, ke, bd]));
    expect(flood.mode).toBe('emergency');
    const received = (await collect(s.store.readAll())).filter((e) => e.type === 'query.received').map((e) => e.metadata.sessionId);
    expect(received).toEqual(['us', 'bd', 'ke']);
  });

  it('the runtime\'s council threshold decides which queries go to a council', async () => {
    const high = sessionScenario({ seed: 'flow-threshold', councilThreshold: 0.9 });
    await high.start('s1', { model: MODEL });
    const outcome = await high.ask('s1', { text: BARISAL, region: 'BD', purpose: 'climate_adaptation' });
    const decision = dataOf<Decided>(await high.session('s1'), 'triage.decided')[0]!.decision;
    expect(decision).toEqual(triageQuery({ text: BARISAL, region: 'BD', purpose: 'climate_adaptation' }, { councilThreshold: 0.9 }));
    expect(decision.mode).toBe('express');
    expect(outcome).toMatchObject({ mode: 'express', agentStream: agent('s1', 'express') });
  });

  // BUG (src/runtime/sessionService.ts, askAdmitted): the turn a query will be is computed from a snapshot taken
  // before its `query.received` is delivered, so two asks racing in one session both count on turn 0 and both
  // resolve with turn 0's outcome: the second caller gets the first question's answer. Turn into `it` once fixed.
  it('two questions asked at once in one session each get their own answer', async () => {
    const s = sessionScenario({ seed: 'flow-same-session' });
    await s.start('s1', { model: MODEL });
    const a: Query = { text: 'Which crops tolerate drought?', region: 'KE', purpose: 'climate_adaptation' };
    const b: Query = { text: 'Where are the nearest flood shelters?', region: 'KE', purpose: 'climate_adaptation' };
    const [first, second] = await s.drive(Promise.all([askInSession(s.runtime, 's1', a), askInSession(s.runtime, 's1', b)]));
    expect(first).toMatchObject({ turn: 0, query: a.text });
    expect(second).toMatchObject({ turn: 1, query: b.text });
  });

  // BUG (src/runtime/sessionService.ts, askInSession/askAdmitted): a query asked in a session that was never started
  // (or is closed) is recorded but never starts a turn, and the caller waits forever, holding its admission slot:
  // with maxActiveTurns every later ask waits behind it. Turn into `it` once it is refused.
  it('asking in a closed session is refused at once, and does not hold an admission slot', async () => {
    const s = sessionScenario({ seed: 'flow-closed', maxActiveTurns: 1 });
    await s.start('done', { model: MODEL });
    await s.start('open', { model: MODEL });
    await s.runtime.deliver('session-done', { type: 'session.closed', data: { reason: 'finished' }, causationId: null });
    const q: Query = { text: 'Which crops tolerate drought?', region: 'KE', purpose: 'climate_adaptation' };
    await expect(s.drive(askInSession(s.runtime, 'done', q), 5_000)).rejects.toThrow(/closed/);
    await expect(s.drive(askInSession(s.runtime, 'open', q), 5_000)).resolves.toMatchObject({ status: 'answered' });
  });

  // BUG (src/runtime/ledgerKeeper.ts, turn.completed / agent.answered): a council member's unused quota goes back to
  // the pool only when the whole turn completes, so on a tight session budget the synthesiser is refused ("the agent
  // has 0 and the session pool 0") while the finished members still hold most of their shares unused, and the turn
  // fails though the session has tokens left. Turn into `it` once the synthesiser can use them.
  it('a council on a tight session budget: the synthesiser can use what the finished members left', async () => {
    const s = sessionScenario({ seed: 'flow-tight-budget' });
    await s.start('s1', { model: MODEL }, 2_500);
    const outcome = await s.ask('s1', { text: MACHAKOS, region: 'KE', purpose: 'sustainable_agriculture' });
    const { events, state } = await expectLedgerLawful(s, 's1');
    const refused = dataOf<EventData<'tokens.refused'>>(events, 'tokens.refused');
    // A refusal is only right when the session really lacks the tokens; here the synthesiser is refused 1 332 while
    // 1 973 sit unused in the finished members' quotas (back in the pool, unused, once the turn is over).
    const synthesiserRefusal = refused.find((r) => r.agentStream === agent('s1', 'synthesiser'));
    const unusedAtEnd = state.balances.session ?? 0;
    if (synthesiserRefusal) expect(synthesiserRefusal.needed).toBeGreaterThan(unusedAtEnd);
    // … so the council's answer should not be lost to the budget.
    expect(outcome).toMatchObject({ status: 'answered', mode: 'council' });
  });

  it('a query asked while a council deliberates is queued, then triaged on its own', async () => {
    const s = sessionScenario({ seed: 'flow-council-queue' });
    await s.start('s1', { model: MODEL });
    const council = askInSession(s.runtime, 's1', { text: MACHAKOS, region: 'KE', purpose: 'sustainable_agriculture' });
    await s.clock.advance(50);
    const snapshot = (await s.runtime.snapshotOf('session-s1')).context as SessionContext;
    expect(snapshot.mode).toBe('council');
    const express = askInSession(s.runtime, 's1', { text: 'Which crops tolerate drought?', region: 'KE', purpose: 'climate_adaptation' });
    const [c, e] = await s.drive(Promise.all([council, express]));
    expect(c).toMatchObject({ turn: 0, mode: 'council', status: 'answered' });
    expect(e).toMatchObject({ turn: 1, mode: 'express', status: 'answered' });
    const session = await s.session('s1');
    expect(dataOf<Decided>(session, 'triage.decided').map((d) => [d.turn, d.decision.mode])).toEqual([[0, 'council'], [1, 'express']]);
    // The express turn starts only once the council's turn is complete.
    const decided = session.filter((e2) => e2.type === 'triage.decided');
    const completed = session.filter((e2) => e2.type === 'turn.completed');
    expect(decided[1]!.position).toBeGreaterThan(completed[0]!.position);
    await expectLedgerLawful(s, 's1');
    await expectReplayable(s, 's1');
  });

  it('replay: every actor of a council session folds, event by event, to the state the live actor had', async () => {
    const s = sessionScenario({ seed: 'flow-council-replay' });
    await s.start('s1', { model: 'scripted:latency=80,seed=21,failRate=0.3,failKinds=server', maxAttempts: 2 });
    await s.ask('s1', { text: MACHAKOS, region: 'KE', purpose: 'sustainable_agriculture' });
    await s.ask('s1', { text: BARISAL, region: 'BD', purpose: 'climate_adaptation' });
    const streams = await expectReplayable(s, 's1');
    expect(streams).toEqual([...COUNCIL_ROLES, 'synthesiser'].map((r) => agent('s1', r)).concat('session-s1').sort());
    await expectLedgerLawful(s, 's1');
  });
});
