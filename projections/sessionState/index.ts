export {
  COLD_RECENT_ITEMS,
  CONTEXT_RULES,
  DEFAULT_BUDGETS,
  MAX_BRIEF_TOKENS,
  MIN_TIER_BUDGET,
  RECENT_MOVES,
  TASKS_REMEMBERED,
  initialSessionState,
  itemCap,
  kindRules,
  type ColdSummary,
  type ItemKind,
  type MoveReason,
  type MoveSummary,
  type RoleAssignment,
  type SessionState,
  type SessionStateOptions,
  type TierBudgets,
  type TierItem,
  type TierMove,
  type TierName,
} from './sessionState.ts';
export { evolveSessionState, foldSessionState, sessionStateEventTypes, stepSessionState, type SessionStateEventType } from './evolveSessionState.ts';
export { foldTierHistory, materialiseColdTier, type TierHistory } from './tierHistory.ts';
export type { Step, TierSink } from './tierMoves.ts';
export {
  DEFAULT_COMPRESSED_ITEM_TOKENS,
  compressItem,
  promptContext,
  transferSummary,
  type CompressedItem,
  type TransferSummary,
  type TransferSummaryOptions,
} from './contextText.ts';
export { createSessionStateProjection, createSessionStateStoreConfig, sessionStateProjection, sessionStateStoreConfig } from './sessionStateStore.ts';
export { CUT_MARKER } from './tokenText.ts';
