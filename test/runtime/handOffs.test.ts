import { createActor } from 'xstate';
import { describe, expect, it } from 'vitest';
import type { SessionContext } from '../../machines/sessionMachine.ts';
import { applyLedgerEvent } from '../../projections/tokenLedger/evolveLedger.ts';
import { ledgerViolations } from '../../projections/tokenLedger/ledgerInvariants.ts';
import { initialLedgerState } from '../../projections/tokenLedger/ledgerState.ts';
import type { EventData } from '../../src/events/catalogue.ts';
import type { RecordedEvent } from '../../src/events/envelope.ts';
import { foldActor, machineEventOf, persistedState } from '../../src/runtime/actorFold.ts';
import { actorKindOf } from '../../src/runtime/actorKinds.ts';
import { readSessionEvents, sessionStream } from '../../src/runtime/sessionStreams.ts';
import { collect } from '../../src/store/eventStore.ts';
import { query, simulatedSystem } from '../support/simulatedSystem.ts';
import { KHULNA_FOLLOW_UPS } from '../../src/cli/khulnaConversation.ts';

const QUESTIONS = KHULNA_FOLLOW_UPS.slice(0, 10);

const dataOf = <T extends Parameters<typeof Object.keys>[0]>(events: RecordedEvent[], type: string) => events.filter((e) => e.type === type).map((e) => e.data as T);

/** Every actor stream folded from the store equals the live state after every event (as in replayDeterminism). */
async function expectReplayable(system: ReturnType<typeof simulatedSystem>): Promise<string[]> {
  const byStream = Map.groupBy(system.steps, (step) => step.streamId);
  for (const [streamId, live] of byStream) {
    const kind = actorKindOf(streamId);
    const recorded = await collect(system.store.readStream(streamId));
    const folded: unknown[] = [];
    foldActor(kind, recorded, (_event, snapshot) => folded.push(persistedState(kind, snapshot)));
    expect(folded, streamId).toEqual(live.map((s) => s.state));
    const bare = createActor(kind.machine).start();
    for (const event of recorded) bare.send(machineEventOf(event));
    const { value, context, status } = bare.getPersistedSnapshot() as unknown as { value: unknown; context: unknown; status: string };
    expect({ value, context, status }, `${streamId} (bare actor)`).toEqual(live.at(-1)!.state);
  }
  return [...byStream.keys()].sort();
}

async function expectLedgerLawful(system: ReturnType<typeof simulatedSystem>, sessionId: string): Promise<void> {
  const ledger = (await collect(system.store.readStream(`ledger-${sessionId}`))).reduce((s, e) => applyLedgerEvent(s, e.type, e.data), initialLedgerState);
  expect(ledgerViolations(ledger)).toEqual([]);
}

describe('context windows and hand-offs', () => {
  it('a long session with a small window hands its agent over, and the fresh instance answers from the transferred state', async () => {
    const system = simulatedSystem({ seed: 'handoff-long' });
    await system.start('long', { model: 'scripted:latency=20,seed=11', contextWindow: 2_000 });
    for (const [turn, text] of QUESTIONS.entries()) {
      await system.ask('long', query(text, 'BD', 'climate_adaptation'));
      await system.runUntilAnswered(['long'], turn + 1);
    }
    const events = await readSessionEvents(system.store, 'long');
    const session = (await system.runtime.snapshotOf(sessionStream('long'))).context as SessionContext;
    expect(session.answered).toBe(QUESTIONS.length);

    const crossed = dataOf<EventData<'context.thresholdCrossed'>>(events, 'context.thresholdCrossed');
    expect(crossed.length).toBeGreaterThan(0);
    const completed = dataOf<EventData<'transition.completed'>>(events, 'transition.completed');
    expect(completed.length).toBeGreaterThanOrEqual(1);
    const first = completed[0]!;
    expect(first.participants).toEqual([{ role: 'express', fromAgent: 'agent-long.express.0', toAgent: 'agent-long.express.1', instance: 1 }]);
    // The old instance is retired, and every later task went to its successor.
    const retired = (await collect(system.store.readStream('agent-long.express.0'))).filter((e) => e.type === 'agent.retired');
    expect(retired).toHaveLength(1);
    expect(Object.values(session.agents)).not.toContain('agent-long.express.0');

    // What the fresh instance was handed is in the first prompt it sent: its essential lines, verbatim.
    const successor = await collect(system.store.readStream('agent-long.express.1'));
    const assigned = successor.find((e) => e.type === 'agent.assigned')!.data as EventData<'agent.assigned'>;
    expect(assigned.transfer!.summary).toContain('Essential context:');
    const validated = dataOf<EventData<'transition.validated'>>(await collect(system.store.readStream(assigned.transfer!.transitionStream)), 'transition.validated');
    expect(validated[0]).toMatchObject({ ok: true, role: 'express', sessionId: 'long' });
    expect(validated[0]!.presentInPrompt).toBe(validated[0]!.essentialLines);
    const prompt = (successor.find((e) => e.type === 'model.requested')!.data as { prompt: string }).prompt;
    expect(prompt).toContain(assigned.transfer!.summary);
    expect(assigned.transfer!.summary).toMatch(/Focus \(turn \d+\)/);
    // The summary is the session as of the turn whose answer triggered the hand-off, answer included, and it says
    // what the session is about: its subject, the first query.
    const transferredAt = events.find((e) => e.type === 'transition.completed')!.position;
    const handedTurn = (events.findLast((e) => e.type === 'turn.completed' && e.position < transferredAt)!.data as EventData<'turn.completed'>).turn;
    expect(assigned.transfer!.summary).toContain(`Focus (turn ${handedTurn}): ${QUESTIONS[handedTurn]!.slice(0, 30)}`);
    expect(assigned.transfer!.summary).toContain(`Turn ${handedTurn} answered by express.0`);
    expect(assigned.transfer!.summary).toContain(`Subject (turn 0): ${QUESTIONS[0]!.slice(0, 30)}`);
    // It names the last recorded position it read, and that it also read facts written with the hand-off itself.
    const asOf = /^Hand-off summary of session long as of position (\d+) and this hand-off's (\d+) facts\.$/.exec(assigned.transfer!.summary.split('\n')[0]!);
    expect(asOf, assigned.transfer!.summary.split('\n')[0]).not.toBeNull();
    const assignedAt = successor.find((e) => e.type === 'agent.assigned')!.position;
    const readUpTo = events.find((e) => e.position === BigInt(asOf![1]!));
    expect(readUpTo, 'a real position of the session').toBeDefined();
    expect(readUpTo!.position).toBeLessThan(assignedAt);
    expect(Number(asOf![2])).toBeGreaterThan(0);

    // Checkpoints at the thresholds and at the hand-off.
    const reasons = (await collect(system.store.readStream('checkpoint-long'))).map((e) => (e.data as { reason: string }).reason);
    expect(reasons).toContain('handoff');
    const streams = await expectReplayable(system);
    expect(streams).toContain(first.participants[0]!.toAgent);
    expect(streams.some((s) => s.startsWith('transition-long.'))).toBe(true);
    await expectLedgerLawful(system, 'long');
  });

  it('two council members filling their windows in the same turn are handed over together, in one coordinated hand-off', async () => {
    const system = simulatedSystem({ seed: 'handoff-council' });
    // Members' windows fill at the same pace (each keeps its recent turns); the synthesiser, which reads them all, faster.
    await system.start('council', { model: 'scripted:latency=20,seed=12', contextWindow: 1_800, budgetTokens: 200_000 });
    const complex = 'What drought-tolerant crops and water-harvesting practices should smallholder farmers in Kenya\'s Machakos County adopt, and how should they sequence the investments over three seasons?';
    let coordinated: EventData<'transition.requested'> | undefined;
    for (let turn = 0; turn < 8 && !coordinated; turn++) {
      await system.ask('council', query(`${complex} (round ${turn})`, 'KE', 'sustainable_agriculture'));
      await system.runUntilAnswered(['council'], turn + 1);
      coordinated = dataOf<EventData<'transition.requested'>>(await readSessionEvents(system.store, 'council'), 'transition.requested').find((r) => r.protocol === 'coordinated');
    }
    expect(coordinated, 'a coordinated hand-off within 8 council turns').toBeDefined();
    const events = await readSessionEvents(system.store, 'council');
    const round = dataOf<EventData<'context.thresholdCrossed'>>(events, 'context.thresholdCrossed');
    // Every participant reported crossing the collective threshold in the same turn, the one just before the hand-off.
    const turns = new Set(coordinated!.participants.map((p) => round.filter((c) => c.agentStream === p.fromAgent).at(-1)!.turn));
    expect(turns.size).toBe(1);
    expect(coordinated!.participants.length).toBeGreaterThanOrEqual(2);
    const completed = dataOf<EventData<'transition.completed'>>(events, 'transition.completed').find((c) => c.transitionId === coordinated!.transitionId);
    expect(completed).toBeDefined();
    // Coordination asked every participant for readiness, and each confirmed.
    expect((await collect(system.store.readStream(coordinated!.transitionStream))).filter((e) => e.type === 'transition.ready')).toHaveLength(coordinated!.participants.length);
    // The next turn is served by the fresh instances.
    const before = ((await system.runtime.snapshotOf(sessionStream('council'))).context as SessionContext).turn;
    await system.ask('council', query(complex, 'KE', 'sustainable_agriculture'));
    await system.runUntilAnswered(['council'], before + 1);
    const session = (await system.runtime.snapshotOf(sessionStream('council'))).context as SessionContext;
    for (const p of completed!.participants) expect(session.agents[p.role]).not.toBe(p.fromAgent);
    await expectReplayable(system);
    await expectLedgerLawful(system, 'council');
  });

  it('a hand-off whose participant never confirms readiness fails on its timeout, and the old instance keeps the work', async () => {
    const system = simulatedSystem({ seed: 'handoff-timeout' });
    await system.start('t', { model: 'scripted:latency=20,seed=13', handoffReadinessMs: 2_000 });
    await system.ask('t', query('Where should Mombasa build its first sea wall?'));
    await system.runUntilAnswered(['t'], 1);
    const config = ((await system.runtime.snapshotOf(sessionStream('t'))).context as SessionContext).agent!;
    // A coordinated hand-off of the live agent and one that is not running anywhere (it will never answer).
    await system.runtime.deliver('transition-t.9', {
      type: 'transition.requested', causationId: null,
      data: {
        transitionId: 'transition-t.9', transitionStream: 'transition-t.9', sessionId: 't', sessionStream: 'session-t', protocol: 'coordinated', reason: 'test', config,
        participants: [
          { role: 'express', fromAgent: 'agent-t.express.0', toAgent: 'agent-t.express.1', instance: 1 },
          { role: 'critic', fromAgent: 'agent-t.critic.0', toAgent: 'agent-t.critic.1', instance: 1 },
        ],
      },
    });
    await system.clock.advance(2_500);
    await system.runtime.settled();
    const transition = await collect(system.store.readStream('transition-t.9'));
    expect(transition.map((e) => e.type)).toContain('transition.ready');
    const failed = transition.filter((e) => e.type === 'message.sent' && (e.data as { messageType: string }).messageType === 'transition.failed');
    expect(failed).toHaveLength(1);
    expect(((failed[0]!.data as { data: { reason: string } }).data.reason)).toBe('no consensus: agent-t.critic.0 did not confirm readiness within 2000 ms');
    expect(persistedState(actorKindOf('transition-t.9'), await system.runtime.snapshotOf('transition-t.9')).value).toBe('failed');
    // Nobody was retired and no successor was assigned; the old instance answers the next turn.
    expect((await collect(system.store.readStream('agent-t.express.0'))).some((e) => e.type === 'agent.retired')).toBe(false);
    await system.ask('t', query('And the second one?'));
    await system.runUntilAnswered(['t'], 2);
    const session = (await system.runtime.snapshotOf(sessionStream('t'))).context as SessionContext;
    expect(session.recentOutcomes.at(-1)).toMatchObject({ status: 'answered', agentStream: 'agent-t.express.0' });
    await expectReplayable(system);
  });
});
