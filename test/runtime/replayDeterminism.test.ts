import { createActor } from 'xstate';
import { describe, expect, it } from 'vitest';
import { RECENT_OUTCOMES, type SessionContext } from '../../machines/sessionMachine.ts';
import { foldActor, machineEventOf, persistedState } from '../../src/runtime/actorFold.ts';
import { actorKindOf } from '../../src/runtime/actorKinds.ts';
import { collect } from '../../src/store/eventStore.ts';
import { query, simulatedSystem } from '../support/simulatedSystem.ts';

type Shape = { name: string; settings: Parameters<ReturnType<typeof simulatedSystem>['start']>[1]; turns: number; together?: boolean };

// Every path the machines have today: plain answers, queued queries, provider errors with retries, a breaker that
// opens, falls back, half-opens after its cool-down and probes, timeouts, and turns that fail outright.
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
];

describe('replay determinism', () => {
  for (const shape of SHAPES) {
    it(`the folded state equals the live state after every event: ${shape.name}`, async () => {
      const system = simulatedSystem({ seed: shape.name });
      await system.start('s1', shape.settings);
      if (shape.together) {
        for (let turn = 0; turn < shape.turns; turn++) await system.ask('s1', query(`Question ${turn} about flood defences?`));
        await system.runUntilAnswered(['s1'], shape.turns);
      } else {
        for (let turn = 0; turn < shape.turns; turn++) {
          await system.ask('s1', query(`Question ${turn} about flood defences?`));
          await system.runUntilAnswered(['s1'], turn + 1);
          await system.clock.advance(1_000);
        }
      }

      const byStream = Map.groupBy(system.steps, (step) => step.streamId);
      expect([...byStream.keys()].sort()).toEqual(['agent-s1.express.0', 'session-s1']);
      for (const [streamId, live] of byStream) {
        const kind = actorKindOf(streamId);
        const recorded = await collect(system.store.readStream(streamId));
        expect(recorded.map((e) => e.eventId)).toEqual(live.map((s) => s.eventId));

        // Independent fold 1: XState's pure transition() over the events read back from the store.
        const folded: unknown[] = [];
        foldActor(kind, recorded, (_event, snapshot) => folded.push(persistedState(kind, snapshot)));
        expect(folded).toEqual(live.map((s) => s.state));

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
      expect(session.recentOutcomes.map((o) => o.turn)).toEqual([...Array(shape.turns).keys()].slice(-RECENT_OUTCOMES));
    });
  }
});
