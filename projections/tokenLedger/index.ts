export { applyLedgerEvent, evolveLedger } from './evolveLedger.ts';
export { ledgerViolations } from './ledgerInvariants.ts';
export { available, balance, initialLedgerState, partyAccount, quotaAccount, reservedAccount, usedAccount, type LedgerState, type UsageTotals } from './ledgerState.ts';
export { ledgerStoreConfig } from './ledgerStore.ts';
export { ledgerProjection } from './ledgerProjection.ts';
export { addReconciliation, emptyReconciliationSummary, RECENT_RECONCILIATIONS, type Reconciliation, type ReconciliationSummary } from './reconciliation.ts';
