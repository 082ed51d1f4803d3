import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { RecordedEvent } from '../../../src/events/envelope.ts';
import { countTokens } from '../../../src/models/tokenCount.ts';
import {
  COLD_RECENT_ITEMS, RECENT_MOVES, evolveSessionState, foldSessionState, foldTierHistory, initialSessionState, kindRules, stepSessionState,
  type SessionState, type TierBudgets, type TierHistory, type TierItem, type TierMove,
} from '../../../projections/sessionState/index.ts';
import { conversation, step } from './conversations.ts';
import { sessionLog } from './sessionLog.ts';

/** The laws after every event; returns the first one broken, so fast-check can shrink to it. */
function broken({ state, cold, moves }: TierHistory, coldArrivals: readonly TierItem[], stepMoves: readonly TierMove[]): string | null {
  if (state.tokens.hot > state.budgets.hot) return `hot holds ${state.tokens.hot} > ${state.budgets.hot}`;
  if (state.tokens.warm > state.budgets.warm) return `warm holds ${state.tokens.warm} > ${state.budgets.warm}`;
  for (const tier of ['hot', 'warm'] as const) {
    const sum = state[tier].reduce((n, i) => n + i.tokens, 0);
    if (sum !== state.tokens[tier]) return `${tier} total ${state.tokens[tier]} is not the sum of its items, ${sum}`;
    if (state[tier].some((item, i, all) => i > 0 && all[i - 1]!.seq >= item.seq)) return `${tier} is not in age order`;
    if (state[tier].some((i) => kindRules[i.kind].home === 'cold')) return `a cold-only item is in ${tier}`;
  }
  if (state.warm.some((i) => kindRules[i.kind].pinned)) return 'a pinned item is in warm';
  // Cold as carried: a summary of the whole tier the collector saw.
  const coldSum = cold.reduce((n, i) => n + i.tokens, 0);
  if (coldSum !== state.tokens.cold) return `cold total ${state.tokens.cold} is not the sum of its items, ${coldSum}`;
  if (cold.length !== state.cold.count) return `cold counts ${state.cold.count} items, the log gives ${cold.length}`;
  const byKind: Record<string, number> = {};
  for (const item of cold) byKind[item.kind] = (byKind[item.kind] ?? 0) + 1;
  if (JSON.stringify(Object.entries(byKind).sort()) !== JSON.stringify(Object.entries(state.cold.byKind).sort())) return 'cold counts by kind disagree with its items';
  if (JSON.stringify(state.cold.recent) !== JSON.stringify(coldArrivals.slice(-COLD_RECENT_ITEMS))) return 'cold.recent is not the newest items to reach cold';
  if (moves.length !== state.moves.count || JSON.stringify(state.moves.recent) !== JSON.stringify(moves.slice(-RECENT_MOVES))) return 'the moves summary disagrees with the moves made';
  const ids = [...state.hot, ...state.warm, ...cold].map((i) => i.id);
  if (ids.length !== state.nextSeq || new Set(ids).size !== ids.length) return 'the tiers do not partition the items created';
  // Oldest first: whatever overflow moved down in this event is older than everything that may still move.
  for (const move of stepMoves.filter((m) => m.reason === 'overflow')) {
    // It may have moved on again in the same event: out of hot into a warm tier that then overflowed too.
    const below = move.to === 'warm' ? [...state.warm, ...cold] : cold;
    const moved = below.find((i) => i.id === move.itemId);
    const stayed = move.from === 'hot' ? state.hot.filter((i) => !kindRules[i.kind].pinned) : state.warm;
    if (moved === undefined) return `moved item ${move.itemId} is not in ${move.to} or below`;
    if (stayed.some((i) => i.seq < moved.seq)) return `${move.itemId} left ${move.from} before an older item`;
  }
  return null;
}

/** Folds with a collector, checking the laws after every event; returns the state with its whole history. */
function foldChecked(events: readonly RecordedEvent[], budgets: TierBudgets): TierHistory {
  let state = initialSessionState({ budgets });
  const arrivals: TierItem[] = [];
  const moves: TierMove[] = [];
  let stepMoves: TierMove[] = [];
  const sink = { cold: (item: TierItem) => arrivals.push(item), move: (move: TierMove) => { moves.push(move); stepMoves.push(move); } };
  for (const event of events) {
    stepMoves = [];
    state = stepSessionState(state, event, sink);
    const problem = broken({ state, cold: [...arrivals].sort((a, b) => a.seq - b.seq), moves }, arrivals, stepMoves);
    if (problem !== null) throw new Error(`after ${event.type} at ${event.position}: ${problem}`);
  }
  const history = { state, cold: [...arrivals].sort((a, b) => a.seq - b.seq), moves };
  expect(history).toEqual(foldTierHistory(events, { budgets }));
  return history;
}

const budgets = fc.record({ hot: fc.integer({ min: 100, max: 300 }), warm: fc.integer({ min: 100, max: 800 }) });

describe('tiered session state: budgets, order of demotion, determinism', () => {
  it('keeps every tier within budget after every event of a long random conversation, moving the oldest down first', () => {
    fc.assert(fc.property(fc.array(step, { minLength: 1, maxLength: 40, size: 'max' }), budgets, (steps, b) => {
      const { state, cold } = foldChecked(conversation(steps), b);
      for (const item of [...state.hot, ...state.warm, ...cold]) {
        // An answer is sized as its lead and the answer counted apart (see NewItem.quote): within a few tokens of the whole.
        if (item.kind === 'answer') expect(Math.abs(item.tokens - countTokens(item.text))).toBeLessThanOrEqual(3);
        else expect(item.tokens).toBe(countTokens(item.text));
      }
    }), { numRuns: 60 });
  });

  it('moves the oldest open questions down when new ones overflow hot', () => {
    const log = sessionLog().started();
    for (let i = 0; i < 12; i++) log.query(`Which dyke section ${i} fails first? How much would section ${i} cost to raise by half a metre?`);
    const { state, moves } = foldChecked(log.events, { hot: 200, warm: 500 });
    const turnsIn = (tier: 'hot' | 'warm') => [...new Set(state[tier].filter((i) => i.kind === 'question').map((i) => i.turn))];
    const hot = turnsIn('hot');
    const warm = turnsIn('warm');
    expect(hot.at(-1)).toBe(11);
    expect(warm.length).toBeGreaterThan(0);
    expect(Math.max(...(warm as number[]))).toBeLessThanOrEqual(Math.min(...(hot as number[])));
    expect(moves.every((m) => m.reason === 'overflow' || m.itemId.startsWith('focus:'))).toBe(true);
    expect(moves.filter((m) => m.from === 'hot' && m.reason === 'overflow').map((m) => m.itemId).slice(0, 2)).toEqual(['question:2:0', 'question:2:1']);
  });

  it('gives the same state for the same events, and the same when folded in two halves through JSON', () => {
    fc.assert(fc.property(fc.array(step, { minLength: 1, maxLength: 30, size: 'max' }), fc.nat(), (steps, cut) => {
      const events = conversation(steps);
      const once = foldSessionState(events);
      expect(foldSessionState(events)).toEqual(once);
      const at = cut % (events.length + 1);
      const checkpoint = JSON.parse(JSON.stringify(foldSessionState(events.slice(0, at)))) as SessionState;
      expect(events.slice(at).reduce(evolveSessionState, checkpoint)).toEqual(once);
    }), { numRuns: 40 });
  });
});
