import { afterEach, describe, expect, it } from 'vitest';
import { AGENT_MACHINE_REVISION_10, AGENT_MACHINE_REVISION_11, AGENT_MACHINE_REVISION_9, AGENT_MACHINE_VERSION, agentMachineRevision9, type AgentContext } from '../../machines/agentMachine.ts';
import type { SessionContext } from '../../machines/sessionMachine.ts';
import { auditSession } from '../../src/audit/auditSession.ts';
import type { RecordedEvent } from '../../src/events/envelope.ts';
import { ActorRuntime } from '../../src/runtime/actorRuntime.ts';
import { actorKinds, type ActorKind } from '../../src/runtime/actorKinds.ts';
import { seededIds } from '../../src/runtime/ids.ts';
import { replayStream } from '../../src/runtime/replay.ts';
import { resumeUnfinishedSessions } from '../../src/runtime/resumeSessions.ts';
import { sessionStateAt } from '../../src/runtime/stateAt.ts';
import { collect } from '../../src/store/eventStore.ts';
import { askThroughRefusals, refusalScenario } from '../support/refusalScenario.ts';

const currentAgentKind = actorKinds.agent!;

/** Runs `record` with the build as it was at agent revision 9: its agents are written by, and stamped with, that definition. */
async function asRevision9<T>(record: () => Promise<T>): Promise<T> {
  actorKinds.agent = { category: 'agent', machine: agentMachineRevision9, version: AGENT_MACHINE_REVISION_9, earlier: new Map() } satisfies ActorKind;
  try {
    return await record();
  } finally {
    actorKinds.agent = currentAgentKind;
  }
}

const breakerOf = (events: readonly RecordedEvent[]) => (replayStream('agent-r1.express.0', events).context as AgentContext).breaker;

describe('streams written under an earlier revision of a machine', () => {
  afterEach(() => {
    actorKinds.agent = currentAgentKind;
  });

  it('replay under the definition that wrote them, audit clean, and their actors carry on under the current one', async () => {
    // Revision 9 counted the ledger's two refusals against the provider and opened the breaker.
    const { store, clock, runtime, ask, start, models } = refusalScenario('revision-9');
    await asRevision9(async () => {
      await start({ asRecordedBefore: true });
      await askThroughRefusals(ask, { thenShort: false });
      await runtime.settled();
      runtime.stop();
    });
    const written = await collect(store.readStream('agent-r1.express.0'));
    expect(new Set(written.map((e) => e.metadata.machineVersion))).toEqual(new Set([AGENT_MACHINE_REVISION_9]));
    // This build would not open it; the replay shows what revision 9 did, as the log's own cool-down timer says.
    expect(breakerOf(written)).toMatchObject({ state: 'open', trips: 1 });
    expect(written.filter((e) => e.type === 'timer.started' && (e.data as { key: string }).key === 'breakerCooldown')).toHaveLength(1);
    expect((await auditSession(store, 'r1')).ok).toBe(true);

    // A process of this build takes the session over: the open breaker and its cool-down carry on as recorded.
    const successor = new ActorRuntime({ store, clock, ids: seededIds('revision-10'), models });
    await resumeUnfinishedSessions(successor);
    const askAgain = async (text: string) => {
      const turn = ((await successor.snapshotOf('session-r1')).context as SessionContext).turn;
      await successor.deliver('session-r1', { type: 'query.received', data: { text, region: 'BD', purpose: 'climate_adaptation' }, causationId: null });
      while (((await successor.snapshotOf('session-r1')).context as SessionContext).turn <= turn) await clock.advance(50);
    };
    await askAgain('And which embankments after them?');
    await clock.advance(60_000); // the cool-down revision 9 started fires: half-open
    await askAgain('And which embankments after them?');
    await successor.settled();

    const mixed = await collect(store.readStream('agent-r1.express.0'));
    const versions = mixed.map((e) => e.metadata.machineVersion);
    const firstCurrent = versions.indexOf(AGENT_MACHINE_VERSION);
    expect(firstCurrent).toBe(written.length);
    expect(versions.slice(firstCurrent).every((v) => v === AGENT_MACHINE_VERSION)).toBe(true);
    const session = (await successor.snapshotOf('session-r1')).context as SessionContext;
    expect(session.recentOutcomes.slice(-2).map((o) => o.status)).toEqual(['failed', 'answered']);
    expect(session.recentOutcomes.at(-2)!.text).toMatch(/circuit breaker open/);
    // The probe closed the breaker; the live actor and a replay of the mixed stream agree, event by event.
    expect(breakerOf(mixed)).toMatchObject({ state: 'closed', trips: 1 });
    expect(replayStream('agent-r1.express.0', mixed).context).toEqual((await successor.snapshotOf('agent-r1.express.0')).context);
    expect((await auditSession(store, 'r1')).ok).toBe(true);
    // A point in time on either side of the change of definition.
    const at = async (event: RecordedEvent) => ((await sessionStateAt(store, 'r1', { position: event.position })).actors.find((a) => a.streamId === 'agent-r1.express.0')!.context as AgentContext).breaker.state;
    expect(await at(written.at(-1)!)).toBe('open');
    expect(await at(mixed.at(-1)!)).toBe('closed');
    successor.stop();
  });

  it('a version the build does not know is still refused, naming both', async () => {
    const { store, runtime, ask, start } = refusalScenario('unknown-version');
    await start();
    await ask('Which dykes first?');
    await runtime.settled();
    runtime.stop();
    const events = await collect(store.readStream('agent-r1.express.0'));
    const foreign = events.map((e) => ({ ...e, metadata: { ...e.metadata, machineVersion: 'agent@8:0123456789abcdef' } }));
    expect(() => replayStream('agent-r1.express.0', foreign)).toThrow(`machine version agent@8:0123456789abcdef, but this build runs ${AGENT_MACHINE_VERSION} and replays ${AGENT_MACHINE_REVISION_11}, ${AGENT_MACHINE_REVISION_10}, ${AGENT_MACHINE_REVISION_9}.`);
  });
});

