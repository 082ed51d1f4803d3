import { createStore } from '@xstate/store';
import { describe, expect, it } from 'vitest';
import { countTokens } from '../../../src/models/tokenCount.ts';
import {
  CUT_MARKER,
  createSessionStateStoreConfig,
  evolveSessionState,
  foldSessionState,
  foldTierHistory,
  initialSessionState,
  itemCap,
  promptContext,
  transferSummary,
  sessionStateProjection,
  type SessionState,
  type TierItem,
  type TierMove,
  type TierName,
} from '../../../projections/sessionState/index.ts';
import type { RecordedEvent } from '../../../src/events/envelope.ts';
import { sessionLog } from './sessionLog.ts';

/** The state with what it only summarises made whole from the log: every cold item and every move. */
type Full = Omit<SessionState, 'cold' | 'moves'> & { cold: TierItem[]; moves: TierMove[] };

function full(events: readonly RecordedEvent[]): Full {
  const history = foldTierHistory(events);
  expect(history.state).toEqual(foldSessionState(events));
  return { ...history.state, cold: history.cold, moves: history.moves };
}

const texts = (state: Full, tier: TierName) => state[tier].map((i) => i.text);
const kinds = (state: Full, tier: TierName) => state[tier].map((i) => i.kind);

describe('tiered session state: events to tiers', () => {
  it('puts a turn in flight in hot (focus, mode, roles, its questions) and its task in the coordination queue', () => {
    const log = sessionLog().started();
    const turn = log.query('Which mangroves protect coasts best? We farm shrimp in Khulna.\nHow fast   do they grow?');
    log.dispatch(turn);
    const state = full(log.events);

    expect(state.sessionId).toBe('s1');
    expect(state.turns).toEqual({ received: 1, finished: 0 });
    expect(texts(state, 'hot')).toEqual([
      'Focus (turn 0): Which mangroves protect coasts best? We farm shrimp in Khulna. How fast do they grow?',
      'Mode: express',
      'Open question (turn 0): Which mangroves protect coasts best?',
      'Open question (turn 0): How fast do they grow?',
      'Active roles: express (express.0)',
    ]);
    // The session's message.sent and the agent's task.assigned are one task: it is queued once.
    expect(texts(state, 'warm')).toEqual(['Turn 0: task sent to express.0, awaiting its answer']);
    expect(kinds(state, 'cold')).toEqual(['session', 'query']);
    expect(state.cold[1]!.text).toContain('How fast   do they grow?');
    expect(state.moves).toEqual([]);
    // The state itself carries cold as a summary: its count, its tokens, its kinds, the newest items whole.
    const carried = foldSessionState(log.events);
    expect(carried.cold).toEqual({ count: 2, byKind: { session: 1, query: 1 }, recent: state.cold });
    expect(carried.tokens.cold).toBe(state.cold.reduce((n, i) => n + i.tokens, 0));
    expect(carried.moves).toEqual({ count: 0, byReason: {}, recent: [] });
  });

  it('records the outcome as the last decision and resolves the turn\'s questions and task into cold', () => {
    const log = sessionLog().started();
    log.turn('Which mangroves protect coasts best?', 'Rhizophora mucronata dissipates the most wave energy. It grows about a metre a year.');
    const state = full(log.events);

    expect(kinds(state, 'hot')).toEqual(['focus', 'mode', 'roles', 'decision']);
    expect(state.hot.at(-1)!.text).toBe('Turn 0 answered by express.0 (scripted): Rhizophora mucronata dissipates the most wave energy.');
    expect(state.warm).toEqual([]);
    expect(state.cold.find((i) => i.kind === 'answer')!.text).toBe('Turn 0 answer from express.0 (scripted): Rhizophora mucronata dissipates the most wave energy. It grows about a metre a year.');
    const answeredAt = String(log.events.find((e) => e.type === 'agent.answered')!.position);
    expect(state.moves).toEqual([
      { itemId: 'question:2:0', from: 'hot', to: 'cold', reason: 'resolved', position: answeredAt },
      { itemId: 'coordination:4', from: 'warm', to: 'cold', reason: 'resolved', position: answeredAt },
    ]);
    expect(foldSessionState(log.events).moves).toEqual({ count: 2, byReason: { resolved: 2 }, recent: state.moves });
  });

  it('moves the previous decision to warm and the previous focus to cold when the next turn comes', () => {
    const log = sessionLog().started();
    log.turn('Which mangroves protect coasts best?', 'Rhizophora.');
    log.turn('And salt marshes?', 'They trap sediment.');
    const state = full(log.events);

    expect(texts(state, 'hot').filter((t) => t.startsWith('Focus'))).toEqual(['Focus (turn 1): And salt marshes?']);
    expect(texts(state, 'hot').filter((t) => t.startsWith('Turn'))).toEqual(['Turn 1 answered by express.0 (scripted): They trap sediment.']);
    expect(texts(state, 'warm')).toEqual(['Turn 0 answered by express.0 (scripted): Rhizophora.']);
    expect(state.moves.filter((m) => m.reason === 'superseded')).toEqual([
      { itemId: 'focus:2', from: 'hot', to: 'cold', reason: 'superseded', position: String(log.events.find((e) => e.type === 'query.received' && e.position > 2n)!.position) },
      { itemId: 'decision:10', from: 'hot', to: 'warm', reason: 'superseded', position: String(log.events.at(-1)!.position) },
    ]);
  });

  it('under context rules 2, keeps the first query in hot as the subject once the focus moves on, through any number of turns', () => {
    const log = sessionLog().started(2);
    log.turn('We are designing a flood early-warning system for Barisal district. Which river gauges first?', 'The Kirtankhola.');
    expect(kinds(full(log.events), 'hot')).not.toContain('subject'); // the focus says it while it is the current query
    for (const [query, answer] of [['How should alerts be worded?', 'Plainly.'], ['Who hears them first?', 'Boatmen.'], ['How do we train them?', 'In drills.'], ['And people without phones?', 'Sirens.'], ['Cost?', 'Modest.']]) log.turn(query!, answer!);
    const state = full(log.events);
    expect(texts(state, 'hot').filter((t) => /^(Subject|Focus)/.test(t))).toEqual([
      'Subject (turn 0): We are designing a flood early-warning system for Barisal district. Which river gauges first?',
      'Focus (turn 5): Cost?',
    ]);
    expect(state.contextRules).toBe(2);
    expect(promptContext(foldSessionState(log.events), { maxTokens: 400 })).toContain('- Subject (turn 0): We are designing a flood early-warning system');
    // A hand-off's summary carries it too: the successor learns what the session is about.
    expect(transferSummary(foldSessionState(log.events)).text).toContain('Subject (turn 0): ');

    // A session recorded before the rules (no contextRules) folds as it did: its checkpoints stay true.
    const before = sessionLog().started();
    before.turn('We are designing a flood early-warning system for Barisal district. Which river gauges first?', 'The Kirtankhola.');
    before.turn('Cost?', 'Modest.');
    const old = full(before.events);
    expect(kinds(old, 'hot')).not.toContain('subject');
    expect(old).not.toHaveProperty('contextRules');
  });

  it('keeps the questions of a failed turn open, and of queued queries until their own turn is answered', () => {
    const log = sessionLog().started();
    const first = log.query('Is the dyke high enough?');
    const second = log.query('Who pays for the repair?');
    log.dispatch(first).fail(first, 'provider down');
    // An outcome for a turn that is not the current one is ignored, as the session machine ignores it.
    log.answer(first, 'late answer');
    log.dispatch(second).answer(second, 'The county does.');
    const state = full(log.events);

    expect(state.turns).toEqual({ received: 2, finished: 2 });
    expect(texts(state, 'hot')).toContain('Open question (turn 0): Is the dyke high enough?');
    expect(texts(state, 'hot')).not.toContain('Open question (turn 1): Who pays for the repair?');
    expect(texts(state, 'hot')).toContain('Turn 1 answered by express.0 (scripted): The county does.');
    expect(texts(state, 'warm')).toEqual(['Turn 0 failed at express.0 after 3 attempts: provider down']);
    expect(state.cold.filter((i) => i.kind === 'answer')).toHaveLength(1);
  });

  it('takes mode, roles and a decision from a triage event, and clears the roles when the session closes', () => {
    const log = sessionLog().started();
    log.query('A cyclone is forecast for tomorrow. Which shelters should open?');
    log.triage(0, 'emergency', ['planner', 'logistics']);
    log.dispatch(0, 'q', 'planner').dispatch(0, 'q', 'logistics');
    let state = full(log.events);
    expect(texts(state, 'hot')).toContain('Mode: emergency');
    expect(texts(state, 'hot')).toContain('Active roles: planner (planner.0), logistics (logistics.0)');
    expect(texts(state, 'hot')).toContain('Turn 0 triage: emergency with planner, logistics and a synthesiser (complexity 0.7, confidence 0.9); flood emergency in KE');
    expect(state.cold.some((i) => i.text === 'Mode: express')).toBe(true);

    log.close('user left');
    state = full(log.events);
    expect(texts(state, 'hot')).toContain('Active roles: none');
    expect(texts(state, 'hot')).toContain('Session closed: user left');
    expect(state.warm.filter((i) => i.kind === 'coordination')).toEqual([]);
  });

  it('in a council turn, members\' answers are contributions and only the synthesis answers the turn', () => {
    const log = sessionLog().started();
    const turn = log.query('Which crops and which water practices should farmers in Machakos adopt?');
    log.triage(turn, 'council', ['analyst', 'critic']);
    log.dispatch(turn, 'q', 'analyst').dispatch(turn, 'q', 'critic').answer(turn, 'Sorghum and zai pits. They hold water.', 'analyst');
    let state = full(log.events);
    expect(state.turns.finished).toBe(0);
    expect(texts(state, 'hot').some((t) => t.startsWith('Open question (turn 0)'))).toBe(true);
    expect([...texts(state, 'hot'), ...texts(state, 'warm')]).toContain('Turn 0 contribution from analyst.0 (scripted): Sorghum and zai pits.');
    log.answer(turn, 'Mind the cost of labour.', 'critic').dispatch(turn, 'q', 'synthesiser').answer(turn, 'Plant sorghum in zai pits; budget the labour.', 'synthesiser');
    state = full(log.events);
    expect(state.turns.finished).toBe(1);
    expect(texts(state, 'hot').some((t) => t.startsWith('Open question (turn 0)'))).toBe(false);
    expect([...texts(state, 'hot'), ...texts(state, 'warm')]).toContain('Turn 0 answered by synthesiser.0 (scripted): Plant sorghum in zai pits; budget the labour.');
    // A later turn without a council is answered by its one agent again.
    log.turn('And in the long rains?', 'Maize, if the forecast holds.');
    expect(full(log.events).turns.finished).toBe(2);
  });

  it('cuts an item longer than its cap, with a marker, and keeps the full text in cold', () => {
    const long = `${'Coastal flooding in the delta depends on tides, river discharge, subsidence and storm surge. '.repeat(30)}What should we do first?`;
    const log = sessionLog().started();
    log.query(long);
    const state = full(log.events);
    const focus = state.hot.find((i) => i.kind === 'focus')!;
    expect(focus.text.endsWith(CUT_MARKER)).toBe(true);
    expect(focus.tokens).toBe(countTokens(focus.text));
    expect(focus.tokens).toBeLessThanOrEqual(itemCap('focus', state.budgets));
    expect(focus.tokens).toBeGreaterThan(itemCap('focus', state.budgets) - 5);
    expect(state.cold.find((i) => i.kind === 'query')!.text.endsWith(long)).toBe(true);
    expect(state.tokens.hot).toBeLessThanOrEqual(200);
  });

  it('ignores unknown event types, other sessions and re-delivered events', () => {
    const log = sessionLog().started();
    log.turn('Which mangroves?', 'Rhizophora.');
    const state = foldSessionState(log.events);
    const other = sessionLog('s2', 1000n).started();
    other.query('Not this session');
    const unknown = log.record(log.sessionStream, 'handoff.rehearsed', { anything: true });
    const ledger = log.record(`ledger-s1`, 'budget.allocated', { amount: 100, reason: 'b' });

    expect(evolveSessionState(state, unknown)).toBe(state);
    expect(evolveSessionState(state, ledger)).toBe(state);
    expect(evolveSessionState(state, other.events[1]!)).toBe(state);
    expect(evolveSessionState(state, log.events[2]!)).toBe(state);
    expect(foldSessionState([...log.events, ...log.events])).toEqual(state);
  });

  it('queues a task once even when its text had to be cut, and cuts a long roles line within its cap', () => {
    const role = `regional-${'hydrology'.repeat(40)}`;
    const log = sessionLog().started();
    log.query('Where will the river break its banks?');
    log.dispatch(0, 'q', role).dispatch(0, 'q', 'critic');
    const state = foldSessionState(log.events);
    const tasks = state.warm.filter((i) => i.kind === 'coordination');
    expect(tasks).toHaveLength(2);
    expect(tasks[0]!.text.endsWith(CUT_MARKER)).toBe(true);
    const roles = state.hot.find((i) => i.kind === 'roles')!;
    expect(roles.text.endsWith(CUT_MARKER)).toBe(true);
    expect(roles.tokens).toBeLessThanOrEqual(itemCap('roles', state.budgets));
  });

  it('rejects budgets too small for its caps', () => {
    expect(() => initialSessionState({ budgets: { hot: 50 } })).toThrow(RangeError);
    expect(initialSessionState({ budgets: { warm: 800 } }).budgets).toEqual({ hot: 200, warm: 800 });
  });

  it('runs live in an @xstate/store with the same result as the fold, fed either way', () => {
    const log = sessionLog().started();
    log.turn('Which mangroves?', 'Rhizophora.');
    log.query('And salt marshes?');
    const direct = createStore(createSessionStateStoreConfig());
    const wrapped = createStore(createSessionStateStoreConfig());
    for (const event of log.events) {
      direct.send(event as Parameters<typeof direct.send>[0]);
      wrapped.send({ type: 'recorded', event });
    }
    const folded = foldSessionState(log.events);
    expect(direct.getSnapshot().context).toEqual(folded);
    expect(wrapped.getSnapshot().context).toEqual(folded);
    expect(log.events.reduce(sessionStateProjection.evolve, sessionStateProjection.initial)).toEqual(folded);
  });
});
