import type { LedgerState, UsageTotals } from '../../../projections/tokenLedger/ledgerState.ts';
import { ledgerViolations } from '../../../projections/tokenLedger/ledgerInvariants.ts';
import { sessionStateAt } from '../../runtime/stateAt.ts';
import { openEventStore } from '../../store/openEventStore.ts';
import { sessionPointArgs } from '../sessionPointArgs.ts';
import type { CommandIo } from '../commandIo.ts';
import { toJson } from '../output.ts';
import { answeredPoint } from '../pointFlag.ts';
import { sessionScope } from '../../runtime/consistentCut.ts';
import { cliStoreUri } from '../cliConfig.ts';

export const ledgerUsage = 'ledger <sessionId> [--at <position | ISO time>] [--json] [--store <uri>]';

/** A session's token ledger as of a point: balances, reservations, usage and cost, loans, reconciliation. */
export async function ledgerCommand(args: string[], io: CommandIo): Promise<number> {
  const { sessionId, at: asked, json, store: storeUri } = sessionPointArgs('ledger', args);
  const store = await openEventStore(cliStoreUri(storeUri), { existing: true });
  try {
    const point = await answeredPoint(store, asked, sessionScope(sessionId));
    const { ledger, position } = await sessionStateAt(store, sessionId, point.at);
    const violations = ledgerViolations(ledger);
    if (json) {
      io.out(toJson({ sessionId, ...point.json, position, ledger, violations }));
      return violations.length === 0 ? 0 : 1;
    }
    printLedger(io, sessionId, point.described, ledger, violations);
    return violations.length === 0 ? 0 : 1;
  } finally {
    await store.close();
  }
}

function printLedger(io: CommandIo, sessionId: string, when: string, ledger: LedgerState, violations: string[]): void {
  io.out(`ledger of session ${sessionId} as of ${when}: ${ledger.postings} postings, ${violations.length === 0 ? 'every law holds' : `BROKEN: ${violations.join('; ')}`}`);
  io.out('');
  io.out('account                                   balance');
  for (const [account, amount] of Object.entries(ledger.balances).sort()) io.out(`${account.padEnd(40)} ${String(amount).padStart(8)}`);
  const reservations = Object.entries(ledger.reservations);
  if (reservations.length > 0) {
    io.out('');
    io.out('open reservations');
    for (const [requestId, r] of reservations) io.out(`  ${requestId}  ${r.agentStream}  ${r.amount} tokens  ${r.model}  turn ${r.turn}`);
  }
  io.out('');
  io.out('usage                                      calls   input  output   cost USD');
  const row = (name: string, u: UsageTotals) => io.out(`${name.padEnd(40)} ${String(u.calls).padStart(6)} ${String(u.inputTokens).padStart(7)} ${String(u.outputTokens).padStart(7)} ${u.costUsd.toFixed(6).padStart(10)}`);
  for (const [agent, u] of Object.entries(ledger.usage.byAgent)) row(agent, u);
  for (const [model, u] of Object.entries(ledger.usage.byModel)) row(`model ${model}`, u);
  row('session total', ledger.usage.total);
  const loans = Object.entries(ledger.loans).filter(([, amount]) => amount !== 0);
  if (loans.length > 0) {
    io.out('');
    for (const [pair, amount] of loans) io.out(`loan ${pair}: ${amount} tokens outstanding`);
  }
  const reconciled = ledger.reconciled;
  const unsettled = reconciled.unsettled ?? 0;
  if (reconciled.count + unsettled > 0) {
    io.out('');
    io.out(`${reconciled.count} turn(s) reconciled: ${reconciled.estimated} tokens estimated, ${reconciled.actual} used; error ${reconciled.meanErrorPct.toFixed(2)} % on average, ${reconciled.meanAbsErrorPct.toFixed(2)} % mean absolute, ${reconciled.maxAbsErrorPct.toFixed(2)} % at most`
      + (unsettled > 0 ? `; ${unsettled} turn(s) with no call settled left out` : ''));
    const shown = ledger.reconciliations.length < reconciled.count + unsettled ? `the newest ${ledger.reconciliations.length} (every one is a budget.reconciled event in the ledger stream)` : 'each turn';
    io.out(`turn  estimated  actual  error %   ${shown}`);
    for (const r of ledger.reconciliations) io.out(`${String(r.turn).padStart(4)} ${String(r.estimated).padStart(10)} ${String(r.actual).padStart(7)} ${r.unsettled ? '       —  no call settled' : r.errorPct.toFixed(2).padStart(8)}`);
  }
  const open = Object.entries(ledger.turns);
  if (open.length > 0) io.out(`open turn(s): ${open.map(([turn, t]) => `${turn} (${t.estimated} estimated, ${t.actual} used so far)`).join(', ')}`);
  // The ledger refuses for lack of budget, and for a prompt longer than its model's window: each reason is in its `tokens.refused`.
  if (ledger.refusals > 0) io.out(`\n${ledger.refusals} call(s) refused by the ledger (budget or context window; \`chronicle events <sessionId> --type tokens.refused\` says which)`);
}
