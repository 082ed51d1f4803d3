import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { countTokens } from '../../../src/models/tokenCount.ts';
import { foldSessionState, initialSessionState, promptContext, transferSummary, type SessionState } from '../../../projections/sessionState/index.ts';
import { conversation, step } from './conversations.ts';
import { sessionLog } from './sessionLog.ts';

/** A session twelve turns in, the last two questions still open and their tasks in flight. */
function busySession(): SessionState {
  const log = sessionLog().started();
  for (let i = 0; i < 10; i++) {
    log.turn(`Which ward floods first when rainfall passes ${50 + i} mm a day? We have sensor data.`, `Ward ${i} floods first, because its drains were sized for the 1990 climate. Raising them costs ${i + 1} million.`);
  }
  const a = log.query('How should the county rank the drainage upgrades?');
  const b = log.query('Which upgrade protects the hospital soonest? And what does it cost?');
  log.dispatch(a).dispatch(b);
  return foldSessionState(log.events);
}

const focusOf = (state: SessionState) => state.hot.find((i) => i.kind === 'focus')!.text;
const openQuestions = (state: SessionState) => [...state.hot, ...state.warm].filter((i) => i.kind === 'question').map((i) => i.text);

describe('tiered session state: prompt context and transfer summary', () => {
  it('gives a prompt the hot tier and the warm items that fit, within the limit', () => {
    const state = busySession();
    const text = promptContext(state, { maxTokens: 400 });
    expect(countTokens(text)).toBeLessThanOrEqual(400);
    expect(text.startsWith('Essential context:\n- Focus (turn 11): Which upgrade protects the hospital soonest? And what does it cost?')).toBe(true);
    for (const item of state.hot) expect(text).toContain(item.text);
    expect(openQuestions(state)).toContain('Open question (turn 11): And what does it cost?');
    expect(text).toContain('Recent context:\n');
    expect(text).toContain('Turn 11: task sent to express.0, awaiting its answer');
    expect(promptContext(state, { maxTokens: 400 })).toBe(text);
  });

  it('keeps the focus and the newest open questions first when the limit is tight', () => {
    const state = busySession();
    const text = promptContext(state, { maxTokens: 60 });
    expect(countTokens(text)).toBeLessThanOrEqual(60);
    expect(text).toContain(focusOf(state));
    expect(text).toContain('Open question (turn 11): And what does it cost?');
    expect(promptContext(state, { maxTokens: 3 })).toBe('');
    expect(promptContext(initialSessionState(), { maxTokens: 500 })).toBe('');
    expect(() => promptContext(state, { maxTokens: -1 })).toThrow(RangeError);
  });

  it('never exceeds the limit, for any conversation and any limit', () => {
    fc.assert(fc.property(fc.array(step, { minLength: 1, maxLength: 25, size: 'max' }), fc.integer({ min: 0, max: 900 }), (steps, maxTokens) => {
      const state = foldSessionState(conversation(steps));
      const text = promptContext(state, { maxTokens });
      expect(countTokens(text)).toBeLessThanOrEqual(maxTokens);
      // What the limit is enforced by: the whole never takes more than its lines apart and one token per break.
      const lines = text === '' ? [] : text.split('\n');
      expect(countTokens(text)).toBeLessThanOrEqual(lines.reduce((sum, line) => sum + countTokens(line), Math.max(0, lines.length - 1)));
      if (maxTokens >= state.budgets.hot + 40) for (const item of state.hot) expect(text).toContain(item.text);
    }), { numRuns: 60 });
  });

  it('hands a fresh instance the hot tier whole and the warm tier compressed, within the two budgets', () => {
    const state = busySession();
    const summary = transferSummary(state);
    expect(summary.sessionId).toBe('s1');
    expect(summary.position).toBe(state.position);
    expect(summary.hot).toEqual(state.hot);
    expect(summary.omitted).toEqual([]);
    expect(summary.warm.map((w) => w.id)).toEqual(state.warm.map((i) => i.id));
    for (const w of summary.warm) {
      expect(w.tokens).toBeLessThanOrEqual(24);
      expect(w.tokens).toBeLessThan(state.warm.find((i) => i.id === w.id)!.tokens);
    }
    expect(summary.warm.find((w) => w.kind === 'decision')!.text).toBe('Turn 0: Ward 0 floods first, because its drains were sized for the 1990 climate.');
    expect(summary.tokens).toBe(countTokens(summary.text));
    expect(summary.tokens).toBeLessThanOrEqual(state.budgets.hot + state.budgets.warm);
    expect(summary.text.split('\n')[0]).toBe(`Hand-off summary of session s1 as of position ${state.position}.`);
    expect(summary.text).toContain(focusOf(state));
    for (const question of openQuestions(state)) expect(summary.text).toContain(question.slice(0, 30));
    expect(transferSummary(state)).toEqual(summary);
  });

  it('lets a transfer summary drop the oldest compressed items first under a smaller limit', () => {
    const state = busySession();
    const full = transferSummary(state);
    const small = transferSummary(state, { maxTokens: full.tokens - 40, itemTokens: 16 });
    expect(small.tokens).toBeLessThanOrEqual(full.tokens - 40);
    expect(small.hot).toEqual(state.hot);
    for (const w of small.warm) expect(w.tokens).toBeLessThanOrEqual(16);
    expect(small.warm.some((w) => w.kind === 'coordination')).toBe(true);
  });
});
