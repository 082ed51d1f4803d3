import type { RecordedEvent } from '../../src/events/envelope.ts';
import type { LanguageModel } from '../../src/models/languageModel.ts';
import { createScriptedModel } from '../../src/models/scriptedModel.ts';
import type { SimulatedClock } from '../../src/runtime/clock.ts';
import { collect } from '../../src/store/eventStore.ts';
import { sessionScenario, type SessionScenario } from '../support/sessionScenario.ts';

/**
 * Query families whose turns use very different numbers of tokens, told apart by a keyword the scripted model looks
 * for in its prompt: what memory should learn and plain mode-based budgets cannot (all three triage as express).
 */
export const FAMILIES = [
  { name: 'crops', tokensPerCall: 180, texts: ['Which drought crops suit Machakos farmers?', 'Which drought crops suit Kitui farmers?', 'Which drought crops grow in Makueni?', 'Best drought crops for Embu smallholders?'] },
  { name: 'mangroves', tokensPerCall: 1_400, texts: ['How do mangroves protect Khulna coasts?', 'How do mangroves protect Barisal coasts?', 'Do mangroves protect Chittagong coasts?', 'How well do mangroves shield Bhola coasts?'] },
  { name: 'heat', tokensPerCall: 4_200, texts: ['Plan heatwave cooling centres for Nairobi.', 'Plan heatwave cooling centres for Mombasa.', 'Plan heatwave cooling centres in Kisumu.', 'Where should heatwave cooling centres go in Nakuru?'] },
] as const;

export const MODEL = 'scripted:latency=100';

/** Every call uses the tokens of its family (±10 % by a digit of the prompt's length), so actual use is scripted. */
export function familyModels(clock: SimulatedClock): (spec: string) => LanguageModel {
  const model = createScriptedModel({
    spec: 'by-family', latencyMs: 100, wait: (ms, signal) => clock.wait(ms, signal),
    replies: (request) => {
      const family = FAMILIES.find((f) => request.prompt.toLowerCase().includes(f.name === 'crops' ? 'crops' : f.name === 'mangroves' ? 'mangroves' : 'heatwave'));
      const per = family?.tokensPerCall ?? 300;
      const total = Math.round(per * (0.9 + 0.05 * (request.prompt.length % 5)));
      return { text: `An answer of ${total} tokens.`, usage: { inputTokens: Math.round(total * 0.6), outputTokens: total - Math.round(total * 0.6) } };
    },
  });
  return () => model;
}

export async function allEvents(s: SessionScenario): Promise<RecordedEvent[]> {
  return collect(s.store.readAll());
}

export { sessionScenario };
