import { createActor } from 'xstate';
import { describe, expect, it } from 'vitest';
import { RECENT_OUTCOMES, type SessionContext } from '../../machines/sessionMachine.ts';
import { foldActor, machineEventOf, persistedState } from '../../src/runtime/actorFold.ts';
import { actorKindOf } from '../../src/runtime/actorKinds.ts';
import { EMERGENCY_STREAM, emergencyEvent } from '../../src/runtime/emergencyRegister.ts';
import type { Query } from '../../src/runtime/sessionService.ts';
import { collect, readWholeStreams } from '../../src/store/eventStore.ts';
import { query, simulatedSystem } from '../support/simulatedSystem.ts';

type Shape = {
  name: string; settings: Parameters<ReturnType<typeof simulatedSystem>['start']>[1]; turns: number; together?: boolean;
  /** The query of each turn (default: a short express question). */
  queries?: Query[];
  /** A flood declared for this region before the first turn. */
  emergencyIn?: string;
  /** The session's agent streams (default: its express agent). */
  agents?: string[];
  /** Each turn's `mode:status`, as its `turn.completed` records it, so the shape is known to take the path it names. */
  outcomes?: string[];
};

const COUNCIL_QUERY = query("What drought-tolerant crops and water-harvesting practices should smallholder farmers in Kenya's Machakos County adopt, and how should they sequence the investments over three seasons?", 'KE', 'sustainable_agriculture');
const FLOOD_QUERY = query('Design a flood early-warning system for coastal Bangladesh: compare sensor networks, SMS alerts and community radio, estimate costs, and list the first three steps for the Barisal division.', 'BD', 'climate_adaptation');
const agentsOf = (...roles: string[]) => roles.map((role) => `agent-s1.${role}.0`);
const COUNCIL_AGENTS = agentsOf('analyst', 'critic', 'domain_expert', 'economist', 'synthesiser');

// Every path the machines have today: plain answers, queued queries, provider errors with retries, a breaker that
// opens, falls back, half-opens after its cool-down and probes, timeouts, turns that fail outright, councils (whole,
// queued, with failing members, failing outright) and emergency councils in a declared flood.
const SHAPES: Shape[] = [
  { name: 'express answers over several turns', settings: { model: 'scripted:latency=120,seed=1' }, turns: 3 },
  { name: 'queries queued while a turn runs', settings: { model: 'scripted:latency=300,seed=2' }, turns: 3, together: true },
  { name: 'flaky provider with retries', settings: { model: 'scripted:latency=50,seed=3,failRate=0.5,failKinds=server|rate-limit', maxAttempts: 5 }, turns: 4 },
  {
    name: 'breaker opens, fallback answers, half-open probe after the cool-down',
    settings: { model: 'scripted:latency=40,seed=4,failRate=1,failKinds=server', fallbackModel: 'scripted:latency=40,seed=5', breakerThreshold: 2, breakerCooldownMs: 2_000 },
    turns: 4,
  },
  { name: 'timeouts on a slow primary, fallback answers', settings: { model: 'scripted:latency=5000,seed=6', fallbackModel: 'scripted:latency=30,seed=7', modelTimeoutMs: 1_000, breakerThreshold: 1 }, turns: 2 },
  { name: 'turns that fail outright (no fallback)', settings: { model: 'scripted:latency=20,seed=8,failRate=1,failKinds=server|malformed', maxAttempts: 2 }, turns: 2 },
  // Councils: roles in parallel, then a synthesiser; with members failing; and a council that fails outright.
  { name: 'council turns, then an express turn', settings: { model: 'scripted:latency=150,seed=9' }, turns: 3, queries: [COUNCIL_QUERY, FLOOD_QUERY, query('Which crops tolerate drought?')], agents: [...COUNCIL_AGENTS, ...agentsOf('express')], outcomes: ['council:answered', 'council:answered', 'express:answered'] },
  { name: 'council queued behind a council', settings: { model: 'scripted:latency=150,seed=10' }, turns: 2, together: true, queries: [COUNCIL_QUERY, FLOOD_QUERY], agents: COUNCIL_AGENTS, outcomes: ['council:answered', 'council:answered'] },
  { name: 'council with flaky members, retries and failures', settings: { model: 'scripted:latency=60,seed=15,failRate=0.4,failKinds=server|malformed', maxAttempts: 2 }, turns: 3, queries: [COUNCIL_QUERY, FLOOD_QUERY, COUNCIL_QUERY], agents: COUNCIL_AGENTS, outcomes: ['council:answered', 'council:failed', 'council:answered'] },
  { name: 'council whose every member fails', settings: { model: 'scripted:latency=20,seed=12,failRate=1,failKinds=malformed', maxAttempts: 1 }, turns: 2, queries: [COUNCIL_QUERY, FLOOD_QUERY], agents: COUNCIL_AGENTS.slice(0, -1), outcomes: ['council:failed', 'council:failed'] },
  // Emergencies: the declared flood's roles for BD adaptation queries; other purposes and regions triaged as usual.
  {
    name: 'emergency turns in a declared flood, then ordinary ones', settings: { model: 'scripted:latency=100,seed=13' }, turns: 3, emergencyIn: 'BD',
    queries: [FLOOD_QUERY, { ...FLOOD_QUERY, purpose: 'education' }, query('Where are the nearest flood shelters?', 'BD', 'disaster_response')],
    agents: [...agentsOf('hydrologist', 'logistics', 'public_health', 'synthesiser'), ...COUNCIL_AGENTS.slice(0, -1)],
    outcomes: ['emergency:answered', 'council:answered', 'emergency:answered'],
  },
];

describe('replay determinism', () => {
  for (const shape of SHAPES) {
    it(`the folded state equals the live state after every event: ${shape.name}`, async () => {
      const system = simulatedSystem({ seed: shape.name });
      await system.start('s1', shape.settings);
      if (shape.emergencyIn) {
        const recordedAt = new Date(system.clock.now()).toISOString();
        await system.store.appendToStream(EMERGENCY_STREAM, [emergencyEvent('emergency.declared', { emergencyId: 'flood-1', region: shape.emergencyIn, kind: 'flood' }, { eventId: '0199a000-0000-7000-8000-000000000001', recordedAt })]);
      }
      const queryOf = (turn: number) => shape.queries?.[turn] ?? query(`Question ${turn} about flood defences?`);
      if (shape.together) {
        for (let turn = 0; turn < shape.turns; turn++) await system.ask('s1', queryOf(turn));
        await system.runUntilAnswered(['s1'], shape.turns);
      } else {
        for (let turn = 0; turn < shape.turns; turn++) {
          await system.ask('s1', queryOf(turn));
          await system.runUntilAnswered(['s1'], turn + 1);
          await system.clock.advance(1_000);
        }
      }

      const byStream = Map.groupBy(system.steps, (step) => step.streamId);
      expect([...byStream.keys()].sort()).toEqual([...(shape.agents ?? ['agent-s1.express.0']), 'session-s1'].sort());
      for (const [streamId, live] of byStream) {
        const kind = actorKindOf(streamId);
        const recorded = await collect(system.store.readStream(streamId));
        expect(recorded.map((e) => e.eventId)).toEqual(live.map((s) => s.eventId));

        // Independent fold 1: XState's pure transition() over the events read back from the store.
        const folded: unknown[] = [];
        foldActor(kind, recorded, (_event, snapshot) => folded.push(persistedState(kind, snapshot)));
        expect(folded).toEqual(live.map((s) => s.state));
        // The same fold consuming a read of its own (each event's data made its machine event in place, as
        // `replayStreams` folds), through the read of many streams.
        const consumed: unknown[] = [];
        for await (const read of readWholeStreams(system.store, [streamId])) foldActor(kind, read.events, (_event, snapshot) => consumed.push(persistedState(kind, snapshot)), { consume: true });
        expect(consumed).toEqual(folded);

        // Independent fold 2: a bare live XState actor fed the same events.
        const bare = createActor(kind.machine).start();
        recorded.forEach((event, i) => {
          bare.send(machineEventOf(event));
          const { value, context, status } = bare.getPersistedSnapshot() as unknown as { value: unknown; context: unknown; status: string };
          expect({ value, context, status }, `${streamId} after revision ${event.revision} (${event.type})`).toEqual(live[i]!.state);
        });
        bare.stop();
      }

      const session = system.steps.filter((s) => s.streamId === 'session-s1').at(-1)!.state.context as SessionContext;
      expect(session.turn).toBe(shape.turns);
      if (shape.outcomes) {
        const completed = (await collect(system.store.readStream('session-s1'))).filter((e) => e.type === 'turn.completed').map((e) => e.data as { mode: string; status: string });
        expect(completed.map((c) => `${c.mode}:${c.status}`)).toEqual(shape.outcomes);
      }
      expect(session.recentOutcomes.map((o) => o.turn)).toEqual([...Array(shape.turns).keys()].slice(-RECENT_OUTCOMES));
    });
  }
});
