import { describe, expect, it } from 'vitest';
import type { EventData } from '../../src/events/catalogue.ts';
import { collect } from '../../src/store/eventStore.ts';
import { query, simulatedSystem } from '../support/simulatedSystem.ts';

const QUESTION = 'Which drought-tolerant maize varieties suit the short rains in Machakos?';

describe('memory feeds triage and budgets, recorded', () => {
  it('a question like an earlier session\'s is triaged with that recall: confidence moved by agreement, budget allocated from what it used', async () => {
    const system = simulatedSystem({ seed: 'recall' });
    for (const id of ['first', 'second']) {
      await system.start(id, { model: 'scripted:latency=10,seed=4' });
      await system.ask(id, query(QUESTION, 'KE', 'sustainable_agriculture'));
      await system.runUntilAnswered([id], 1);
    }
    const factOf = async <T>(sessionId: string, type: string) => (await collect(system.store.readStream(`session-${sessionId}`))).find((e) => e.type === type)!.data as T;
    const first = await factOf<EventData<'triage.decided'>>('first', 'triage.decided');
    const second = await factOf<EventData<'triage.decided'>>('second', 'triage.decided');
    expect(first.recall).toBeUndefined();
    expect(second.recall).toMatchObject({ similar: [{ sessionId: 'first', turn: 0, mode: first.decision.mode }], sameModeShare: 1, confidenceBefore: first.decision.confidence });
    expect(second.decision.confidence).toBe(Math.min(0.99, Math.round((first.decision.confidence + 0.1) * 1000) / 1000));
    // The rationale, read alone, gives the confidence recorded: the rules' figure and what memory made of it.
    expect(second.decision.rationale).toContain(`confidence ${first.decision.confidence.toFixed(3)} = 0.5 + `);
    expect(second.decision.rationale.endsWith(` Memory recalled 1 similar answered turn(s), 1 of them ${first.decision.mode}: confidence ${first.decision.confidence.toFixed(3)} → ${second.decision.confidence.toFixed(3)} (0.1 × (2 × 1 − 1), kept within [0.5, 0.99]).`)).toBe(true);
    expect(first.decision.rationale).not.toContain('Memory recalled');
    const budget = await factOf<EventData<'budget.estimated'>>('second', 'budget.estimated');
    const used = (await collect(system.store.readStream('ledger-first'))).find((e) => e.type === 'budget.reconciled')!.data as EventData<'budget.reconciled'>;
    expect(budget.memory?.similar[0]).toMatchObject({ sessionId: 'first', tokens: used.actual });
    expect(budget.allocated).toBe(Math.ceil(used.actual * 1.15));
    // What the second turn was given is what memory suggested, and it was closer to what the turn used than the formula.
    const reconciled = (await collect(system.store.readStream('ledger-second'))).find((e) => e.type === 'budget.reconciled')!.data as EventData<'budget.reconciled'>;
    expect(Math.abs(reconciled.allocatedErrorPct!)).toBeLessThan(Math.abs(reconciled.budgetErrorPct!));
  });
});
