import type { LedgerState } from './ledgerState.ts';

/**
 * The ledger's laws, checked on every fold by the runtime and by tests: balances sum to zero (tokens are only
 * moved), no quota is below zero beyond its recorded overdraft, and no reservation or pool is negative.
 * Returns the broken laws, empty when all hold.
 */
export function ledgerViolations(state: LedgerState): string[] {
  const problems: string[] = [];
  const sum = Object.values(state.balances).reduce((a, b) => a + b, 0);
  if (sum !== 0) problems.push(`balances sum to ${sum}, not 0`);
  for (const [account, amount] of Object.entries(state.balances)) {
    if (account.startsWith('quota:')) {
      const agent = account.slice('quota:'.length);
      const allowed = state.overdrafts[agent] ?? 0;
      if (amount < -allowed) problems.push(`${account} is ${amount} with only ${allowed} of recorded overdraft`);
    } else if (account.startsWith('borrowed:')) {
      // A debt to another session: never positive (a session cannot be owed by way of its own borrowing).
      if (amount > 0) problems.push(`${account} is ${amount}, but a debt cannot be positive`);
    } else if (account !== 'world' && account !== 'traded' && amount < 0) {
      problems.push(`${account} is ${amount}`);
    }
  }
  for (const [requestId, reservation] of Object.entries(state.reservations)) {
    if (reservation.amount < 0) problems.push(`reservation ${requestId} is negative`);
  }
  return problems;
}
