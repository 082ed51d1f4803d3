import { COLD_RECENT_ITEMS, MAX_BRIEF_TOKENS, RECENT_MOVES, appendNewest, itemCap, kindRules, type ItemKind, type MoveReason, type SessionState, type TierBudgets, type TierItem, type TierMove } from './sessionState.ts';
import { countTokens, firstSentence, fitTokens, normaliseSpace } from './tokenText.ts';

/**
 * The tier operations every event handler is built from. Each returns a new state and leaves its input alone, so a
 * fold over the same events always yields equal states, and a checkpointed state can be folded on from. Each costs
 * the same however long the session: it copies hot and warm (bounded by their budgets) and cold's and the moves'
 * summaries (bounded by their recent windows), never the whole history.
 */

/** Sees every item that reaches cold and every move, as it happens: how the whole history is collected (tierHistory.ts). */
export type TierSink = {
  cold(item: TierItem): void;
  move(move: TierMove): void;
};

/** The event being applied: its position (item ids and moves carry it) and who, if anyone, collects the history. */
export type Step = { position: string; sink: TierSink | null };

/** Puts an item into hot or warm, keeping the tier ordered by age (seq), which is what "oldest first" reads. */
function place(state: SessionState, tier: 'hot' | 'warm', item: TierItem): SessionState {
  const items = [...state[tier]];
  let at = items.length;
  while (at > 0 && items[at - 1]!.seq > item.seq) at--;
  items.splice(at, 0, item);
  return { ...state, [tier]: items, tokens: { ...state.tokens, [tier]: state.tokens[tier] + item.tokens } };
}

/** An item reaches cold, for good: counted, kept among the newest, and handed to the collector if there is one. */
function enterCold(state: SessionState, item: TierItem, step: Step): SessionState {
  step.sink?.cold(item);
  const { cold } = state;
  return {
    ...state,
    cold: { count: cold.count + 1, byKind: { ...cold.byKind, [item.kind]: (cold.byKind[item.kind] ?? 0) + 1 }, recent: appendNewest(cold.recent, item, COLD_RECENT_ITEMS) },
    tokens: { ...state.tokens, cold: state.tokens.cold + item.tokens },
  };
}

function findIn(state: SessionState, tier: 'hot' | 'warm', id: string): TierItem | undefined {
  return state[tier].find((item) => item.id === id);
}

/** Moves an item down a tier and records the move, at the position of the event that caused it. */
export function moveItem(state: SessionState, id: string, from: 'hot' | 'warm', to: 'warm' | 'cold', reason: MoveReason, step: Step): SessionState {
  const item = findIn(state, from, id);
  if (item === undefined) return state;
  const left: SessionState = { ...state, [from]: state[from].filter((i) => i.id !== id), tokens: { ...state.tokens, [from]: state.tokens[from] - item.tokens } };
  const moved = to === 'cold' ? enterCold(left, item, step) : place(left, to, item);
  const move: TierMove = { itemId: id, from, to, reason, position: step.position };
  step.sink?.move(move);
  const { moves } = moved;
  return { ...moved, moves: { count: moves.count + 1, byReason: { ...moves.byReason, [reason]: (moves.byReason[reason] ?? 0) + 1 }, recent: appendNewest(moves.recent, move, RECENT_MOVES) } };
}

/** The text an item of `kind` is stored with: within its cap, and on one line unless it is cold's. */
export function itemText(kind: ItemKind, text: string, budgets: TierBudgets): string {
  // Hot and warm items are one line each in a prompt; cold keeps the conversation exactly as it was said, uncut.
  if (kindRules[kind].home === 'cold') return text;
  return fitTokens(normaliseSpace(text), itemCap(kind, budgets));
}

export type NewItem = {
  kind: ItemKind;
  text: string;
  /** Default: the text's first sentence. */
  brief?: string;
  turn: number | null;
  /** Distinguishes several items of one kind from one event (the questions of a query). */
  part?: number;
  /**
   * For a cold item quoting a recorded text: `text` is `lead + quoted`, and its size is the two counted apart. An
   * answer is then counted once however often it is quoted (counts of texts seen are remembered), where counting
   * each header-plus-answer whole would count every answer again. The sum is within a few tokens of the joined
   * text's count (BPE splits differently at the seam); cold has no budget, so nothing depends on the difference.
   */
  quote?: { lead: string; quoted: string };
};

/**
 * Creates an item in its kind's home tier, cut to the kind's cap. An item of a single-slot kind (focus, mode, roles,
 * decision) first moves the current one out of hot, so there is one current focus and one last decision.
 */
export function addItem(state: SessionState, spec: NewItem, step: Step): SessionState {
  const { position } = step;
  const rule = kindRules[spec.kind];
  let next = state;
  if (rule.supersededTo !== null) {
    for (const current of state.hot.filter((i) => i.kind === spec.kind)) next = moveItem(next, current.id, 'hot', rule.supersededTo, 'superseded', step);
  }
  const cap = itemCap(spec.kind, state.budgets);
  const text = itemText(spec.kind, spec.text, state.budgets);
  const quoted = spec.quote !== undefined && rule.home === 'cold' && text === spec.quote.lead + spec.quote.quoted;
  const item: TierItem = {
    id: spec.part === undefined ? `${spec.kind}:${position}` : `${spec.kind}:${position}:${spec.part}`,
    kind: spec.kind,
    text,
    tokens: quoted ? countTokens(spec.quote!.lead) + countTokens(spec.quote!.quoted) : countTokens(text),
    brief: fitTokens(normaliseSpace(spec.brief ?? firstSentence(spec.text)), Math.min(cap, MAX_BRIEF_TOKENS)),
    position,
    seq: next.nextSeq,
    turn: spec.turn,
  };
  const counted = { ...next, nextSeq: next.nextSeq + 1 };
  return rule.home === 'cold' ? enterCold(counted, item, step) : place(counted, rule.home, item);
}

/** The current hot item of a single-slot kind, e.g. the focus. */
export function currentItem(state: SessionState, kind: ItemKind): TierItem | undefined {
  return state.hot.find((i) => i.kind === kind);
}

/** Moves to cold every hot or warm item that `done` picks: answered questions, finished tasks. */
export function resolveItems(state: SessionState, done: (item: TierItem) => boolean, step: Step): SessionState {
  let next = state;
  for (const tier of ['hot', 'warm'] as const) {
    for (const item of state[tier].filter(done)) next = moveItem(next, item.id, tier, 'cold', 'resolved', step);
  }
  return next;
}

/**
 * Restores the budgets after an event: while hot is over, its oldest unpinned item moves to warm; then while warm
 * is over, its oldest item moves to cold. Hot first, because what leaves hot lands in warm.
 */
export function rebalance(state: SessionState, step: Step): SessionState {
  let next = state;
  while (next.tokens.hot > next.budgets.hot) {
    const oldest = next.hot.find((i) => !kindRules[i.kind].pinned);
    // Pinned caps sum to half the hot budget (kindRules), so an unpinned item is always left to move.
    if (oldest === undefined) throw new Error(`pinned hot items hold ${next.tokens.hot} tokens, over the hot budget of ${next.budgets.hot}`);
    next = moveItem(next, oldest.id, 'hot', 'warm', 'overflow', step);
  }
  while (next.tokens.warm > next.budgets.warm) {
    next = moveItem(next, next.warm[0]!.id, 'warm', 'cold', 'overflow', step);
  }
  return next;
}
