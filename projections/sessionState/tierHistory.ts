import type { RecordedEvent } from '../../src/events/envelope.ts';
import { stepSessionState } from './evolveSessionState.ts';
import { initialSessionState, type SessionState, type SessionStateOptions, type TierItem, type TierMove } from './sessionState.ts';

/** The state of a fold with everything it only summarises: the whole cold tier and every move. */
export type TierHistory = {
  state: SessionState;
  /** Every item in cold (created there or moved down to it), in age order (seq), each with its full text. */
  cold: TierItem[];
  /** Every move between tiers, in the order made. */
  moves: TierMove[];
};

/**
 * The log is the cold store: the state carries a summary of cold and of the moves, and this fold of the session's
 * events (from the start, in global order) collects them whole. It is the same fold — `stepSessionState` with a
 * collector — so `state` equals `foldSessionState(events, options)`, `cold` has `state.cold.count` items and
 * `state.tokens.cold` tokens, and `moves` has `state.moves.count` moves.
 */
export function foldTierHistory(events: Iterable<RecordedEvent>, options: SessionStateOptions = {}): TierHistory {
  const cold: TierItem[] = [];
  const moves: TierMove[] = [];
  const sink = { cold: (item: TierItem) => cold.push(item), move: (move: TierMove) => moves.push(move) };
  let state = initialSessionState(options);
  for (const event of events) state = stepSessionState(state, event, sink);
  // Items reach cold in the order they leave hot and warm; the tier reads oldest first, as hot and warm do.
  return { state, cold: cold.sort((a, b) => a.seq - b.seq), moves };
}

/** The complete cold tier of a session's events: every item ever moved or created there, oldest first, full text. */
export function materialiseColdTier(events: Iterable<RecordedEvent>, options: SessionStateOptions = {}): TierItem[] {
  return foldTierHistory(events, options).cold;
}
