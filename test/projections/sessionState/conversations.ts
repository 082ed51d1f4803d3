import fc from 'fast-check';
import { sessionLog } from './sessionLog.ts';

/**
 * Random conversations for the property tests: turns answered, failed, queued behind each other, held in council,
 * handed to a fresh instance, and events the fold does not know. Words include non-Latin scripts, because token
 * counts (and cuts) behave differently there.
 */
const words = [
  'flood', 'mangrove', 'dyke', 'drought', 'heat', 'Khulna', 'Nairobi', 'shelter', 'budget', 'carbon', 'grid', 'rainfall',
  'sediment', 'storm', 'surge', 'county', 'insurance', 'crop', 'yield', 'maize', 'Mafuriko', 'pwani', 'বন্যা', 'ঢাকা',
  '海岸', '洪水', 'e.g.', '3.5', 'm/s', '🌊', 'CO2e', 'per', 'the', 'of', 'and', 'which', 'how', 'should', 'we', 'first',
];

const sentence = fc
  .tuple(fc.array(fc.constantFrom(...words), { minLength: 1, maxLength: 24 }), fc.constantFrom('.', '?', '?', '!', ''))
  .map(([ws, end]) => `${ws.join(' ')}${end}`);

/** Mostly a few sentences; sometimes a wall of text, to make items hit their caps and tiers overflow. */
export const text = fc.oneof(
  { weight: 5, arbitrary: fc.array(sentence, { minLength: 1, maxLength: 5 }).map((s) => s.join(' ')) },
  { weight: 1, arbitrary: fc.tuple(sentence, fc.integer({ min: 10, max: 80 })).map(([s, n]) => Array.from({ length: n }, () => s).join('\n')) },
);

export type Step =
  | { op: 'turn'; query: string; answer: string }
  | { op: 'fail'; query: string; reason: string }
  | { op: 'queue'; queries: string[]; answers: string[] }
  | { op: 'council'; mode: 'council' | 'emergency'; roles: string[]; query: string; answers: string[]; synthesis: string }
  | { op: 'handoff'; role: string }
  | { op: 'ask'; query: string }
  | { op: 'unknown' };

export const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ op: fc.constant('turn' as const), query: text, answer: text }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('fail' as const), query: text, reason: sentence }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('queue' as const), queries: fc.array(text, { minLength: 2, maxLength: 4 }), answers: fc.array(text, { minLength: 4, maxLength: 4 }) }) },
  {
    weight: 1,
    arbitrary: fc.record({
      op: fc.constant('council' as const), mode: fc.constantFrom('council' as const, 'emergency' as const),
      roles: fc.subarray(['analyst', 'critic', 'planner'], { minLength: 1 }), query: text, answers: fc.array(text, { minLength: 1, maxLength: 3 }), synthesis: text,
    }),
  },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('handoff' as const), role: fc.constantFrom('express', 'analyst') }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('ask' as const), query: text }) },
  { weight: 1, arbitrary: fc.constant({ op: 'unknown' as const }) },
);

/** The events of a conversation made of these steps, in the order the runtime would record them. */
export function conversation(steps: readonly Step[]) {
  const log = sessionLog().started();
  const instances = new Map<string, number>();
  let pending: number[] = [];
  const finishPending = () => {
    for (const turn of pending) log.dispatch(turn).answer(turn, `Answer to turn ${turn}. It is settled.`);
    pending = [];
  };
  for (const s of steps) {
    switch (s.op) {
      case 'turn': finishPending(); log.turn(s.query, s.answer); break;
      case 'fail': { finishPending(); const turn = log.query(s.query); log.dispatch(turn).fail(turn, s.reason); break; }
      case 'queue': {
        finishPending();
        const turns = s.queries.map((q) => log.query(q));
        turns.forEach((turn, i) => log.dispatch(turn).answer(turn, s.answers[i]!));
        break;
      }
      case 'council': finishPending(); log.council(s.query, s.roles, s.answers, s.synthesis, s.mode); break;
      case 'handoff': {
        const instance = (instances.get(s.role) ?? 0) + 1;
        instances.set(s.role, instance);
        const agentStream = log.agentStream(s.role, instance);
        log.record(agentStream, 'agent.assigned', { sessionId: 's1', sessionStream: log.sessionStream, agentStream, role: s.role, instance, config: { model: 'scripted', fallbackModel: null, contextWindow: 8000, modelTimeoutMs: 1000, maxAttempts: 3, breakerThreshold: 3, breakerCooldownMs: 1000 } });
        break;
      }
      // A question left unanswered for now: it is answered when the next turn-making step comes.
      case 'ask': pending.push(log.query(s.query)); break;
      case 'unknown': log.record(log.sessionStream, 'tokens.traded', { amount: 75 }); break;
    }
  }
  return log.events;
}
