import { readSessionEvents } from '../../src/runtime/sessionStreams.ts';
import type { EventStore } from '../../src/store/eventStore.ts';
import { query, simulatedSystem } from '../support/simulatedSystem.ts';
import { KHULNA_FOLLOW_UPS } from '../../src/cli/khulnaConversation.ts';

const QUESTIONS = KHULNA_FOLLOW_UPS.slice(0, 5);
const COUNCIL = query("What drought-tolerant crops and water-harvesting practices should smallholder farmers in Kenya's Machakos County adopt, and how should they sequence the investments over three seasons?", 'KE', 'sustainable_agriculture');

/**
 * A session with every kind of actor, recorded on a simulated clock: express turns on a small context window until
 * the agent is handed over through a transition actor, then a council turn (several agents in parallel).
 */
export async function recordSessionWithEveryActorKind(store?: EventStore): Promise<{ store: EventStore; sessionId: string }> {
  const system = simulatedSystem({ seed: 'inspect', ...(store ? { store } : {}) });
  const sessionId = 's1';
  await system.start(sessionId, { model: 'scripted:latency=40,seed=21', contextWindow: 2_000, budgetTokens: 200_000 });
  let turns = 0;
  for (const text of QUESTIONS) {
    await system.ask(sessionId, query(text, 'BD', 'climate_adaptation'));
    await system.runUntilAnswered([sessionId], ++turns);
    if ((await readSessionEvents(system.store, sessionId)).some((e) => e.streamId.startsWith('transition-'))) break;
  }
  await system.ask(sessionId, COUNCIL);
  await system.runUntilAnswered([sessionId], ++turns);
  return { store: system.store, sessionId };
}
