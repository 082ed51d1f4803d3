import { describe, expect, it } from 'vitest';
import { evolveSessionMemory, initialSessionMemory, memoryAdvice, type SessionMemoryState } from '../../projections/sessionMemory/index.ts';
import type { EventData } from '../../src/events/catalogue.ts';
import { allEvents, familyModels, FAMILIES, MODEL, sessionScenario } from './memoryScenario.ts';

const REGION = { crops: 'KE', mangroves: 'BD', heat: 'KE' } as const;
const PURPOSE = { crops: 'food_security', mangroves: 'climate_adaptation', heat: 'public_health' } as const;

/** |actual − estimate| / estimate, in %: the error of a budget as `budget.reconciled` states it. */
const errorPct = (estimate: number, actual: number) => (Math.abs(actual - estimate) / estimate) * 100;
const mean = (xs: readonly number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;

describe('memory-advised budgets', () => {
  it('predict turn usage better than the plain mode-based estimate on a mix of query families', async () => {
    const s = sessionScenario({ seed: 'memory-estimates', models: familyModels });
    // 3 families × 8 sessions, interleaved: crops, mangroves, heat, crops, …; one turn per session.
    const plan = Array.from({ length: 8 }, (_, round) => FAMILIES.map((f) => ({ f, round }))).flat();
    const rows: { session: string; plain: number; advised: number | null; actual: number }[] = [];
    for (const [i, { f, round }] of plan.entries()) {
      const sessionId = `${f.name}${round}`;
      await s.start(sessionId, { model: MODEL });
      await s.ask(sessionId, { text: f.texts[round % f.texts.length]!, region: REGION[f.name], purpose: PURPOSE[f.name] });
      const events = await allEvents(s);
      const asked = events.findIndex((e) => e.type === 'query.received' && e.metadata.sessionId === sessionId);
      // Memory as of just before this session's turn: every earlier event of the log.
      const before: SessionMemoryState = events.slice(0, asked).reduce(evolveSessionMemory, initialSessionMemory);
      const mine = (type: string) => events.find((e) => e.type === type && e.metadata.sessionId === sessionId)!.data;
      const decided = mine('triage.decided') as EventData<'triage.decided'>;
      const received = mine('query.received') as EventData<'query.received'>;
      const advice = memoryAdvice(before, { ...received, mode: decided.decision.mode });
      rows.push({
        session: sessionId,
        plain: (mine('budget.estimated') as EventData<'budget.estimated'>).total,
        advised: advice.suggestedTokens,
        actual: (mine('budget.reconciled') as EventData<'budget.reconciled'>).actual,
      });
      if (i === 0) expect(advice).toMatchObject({ similar: [], suggestedTokens: null }); // nothing remembered yet
    }
    const plainError = mean(rows.map((r) => errorPct(r.plain, r.actual)));
    const advisedError = mean(rows.map((r) => errorPct(r.advised ?? r.plain, r.actual)));
    const advised = rows.filter((r) => r.advised !== null).length;
    console.log(`budget error over ${rows.length} turns: (a) plain estimate mean |error| ${plainError.toFixed(1)} %, (b) memory-advised ${advisedError.toFixed(1)} % (advice given for ${advised}, plain used for the rest)`);
    console.table(rows);
    expect(advised).toBeGreaterThanOrEqual(rows.length - FAMILIES.length);
    expect(advisedError).toBeLessThan(plainError);
  });
});
