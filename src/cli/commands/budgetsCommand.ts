import { z } from 'zod';
import { budgetAccuracy, errorPct, type BudgetRecord, type ModeAccuracy } from '../../../projections/budgetLearning/budgetAccuracy.ts';
import { budgetOutcomeOf, initialBudgetLearning, learnFromOutcome, type BudgetLearningState } from '../../../projections/budgetLearning/budgetLearning.ts';
import type { EventData } from '../../events/catalogue.ts';
import { BUDGET_MODES, SEED_BASES } from '../../policy/budget/budgetEstimate.ts';
import type { EventStore } from '../../store/eventStore.ts';
import { openEventStore } from '../../store/openEventStore.ts';
import { commandOptions } from '../commandOptions.ts';
import type { CommandIo } from '../commandIo.ts';
import { toJson } from '../output.ts';
import { cliStoreUri } from '../cliConfig.ts';

export const budgetsUsage = 'budgets [--window <turns>] [--json] [--store <uri>]';

const schema = z.strictObject({
  window: z.coerce.number().int().min(1, 'must be a whole number of turns, at least 1').optional(),
  json: z.boolean().optional(),
  store: z.string().optional(),
});

/** Every turn budgeted by mode, in log order, with what learning made of them. */
export async function budgetHistory(store: EventStore): Promise<{ records: BudgetRecord[]; learning: BudgetLearningState }> {
  const records: BudgetRecord[] = [];
  let learning = initialBudgetLearning;
  for await (const event of store.readAll({ filter: { eventTypePrefix: 'budget.reconciled' } })) {
    const outcome = budgetOutcomeOf(event.data);
    if (!outcome) continue;
    learning = learnFromOutcome(learning, outcome, event.eventId);
    const { turn } = event.data as EventData<'budget.reconciled'>;
    records.push({ ...outcome, sessionId: event.metadata.sessionId, turn, position: String(event.position), errorPct: errorPct(outcome) });
  }
  return { records, learning };
}

/**
 * Budget prediction accuracy across sessions: for each mode, the distribution of the error of the turn budgets
 * (estimate vs tokens used), over all turns and in consecutive windows, and the bases learning has arrived at.
 */
export async function budgetsCommand(args: string[], io: CommandIo): Promise<number> {
  const { values } = commandOptions('budgets', args, { window: { type: 'string' }, json: { type: 'boolean' }, store: { type: 'string' } }, schema);
  const store = await openEventStore(cliStoreUri(values.store), { existing: true });
  try {
    const { records, learning } = await budgetHistory(store);
    const accuracy = budgetAccuracy(records, values.window ?? 5);
    const bases = Object.fromEntries(BUDGET_MODES.map((mode) => [mode, { seed: SEED_BASES[mode], learnt: Math.round(learning.bases[mode].base), learnedFrom: learning.bases[mode].learnedFrom }]));
    if (values.json) {
      io.out(toJson({ turns: records.length, bases, accuracy }));
      return 0;
    }
    if (records.length === 0) {
      io.out('no turn has been budgeted and reconciled yet');
      return 0;
    }
    io.out(`${records.length} budgeted turn(s) reconciled; error = (tokens used − budget) / budget`);
    for (const mode of accuracy) printMode(io, mode);
    io.out('');
    io.out('bases (tokens, before roles and confidence):');
    for (const [mode, b] of Object.entries(bases)) io.out(`  ${mode.padEnd(10)} seed ${String(b.seed).padStart(5)}  learnt ${String(b.learnt).padStart(5)}  from ${b.learnedFrom} turn(s)`);
    return 0;
  } finally {
    await store.close();
  }
}

function printMode(io: CommandIo, m: ModeAccuracy): void {
  io.out('');
  io.out(`${m.mode}: ${m.count} turn(s), mean |error| ${m.meanAbsErrorPct.toFixed(1)} %, median ${m.medianAbsErrorPct.toFixed(1)} %, p90 ${m.p90AbsErrorPct.toFixed(1)} %, bias ${m.meanErrorPct >= 0 ? '+' : ''}${m.meanErrorPct.toFixed(1)} %`);
  for (const w of m.windows) io.out(`  turns ${String(w.from).padStart(3)}–${String(w.to).padEnd(3)} mean |error| ${w.meanAbsErrorPct.toFixed(1).padStart(6)} %  bias ${(w.meanErrorPct >= 0 ? '+' : '') + w.meanErrorPct.toFixed(1)} %`);
}
