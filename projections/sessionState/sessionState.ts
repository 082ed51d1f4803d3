/**
 * The tiered session state (ARCHITECTURE.md §6, issue 4): what an agent of a session needs to know, split by how
 * often it is needed. Hot is the essential context every prompt carries (≤ 200 tokens by default), warm the recent
 * decisions and the coordination queue (≤ 500), cold everything else: the full decision history and the complete
 * conversation. The tiers partition the items: an item is created once, in one tier, and only ever moves down,
 * so nothing the session said is lost and every move is on record.
 *
 * The log is the cold store. The state holds hot and warm whole (bounded by their budgets) but only a summary of
 * cold (how many items, their tokens, how many of each kind, the newest few) and of the moves (how many, the newest
 * few): so a checkpoint of it, and every step of the fold, costs the same however long the session has run. The
 * complete cold tier and every move are the same fold of the session's events with a collector
 * (`foldTierHistory` / `materialiseColdTier` in tierHistory.ts), so they are never lost, only not carried.
 *
 * Everything here survives a JSON round trip (checkpoints store it): positions are decimal strings, no bigints,
 * no Maps, no undefined.
 */
export type TierName = 'hot' | 'warm' | 'cold';

export type ItemKind =
  /** What the session is about: its first query, kept once later queries have moved the focus on (rules 2). */
  | 'subject'
  /** The latest query's topic. */
  | 'focus'
  /** The path the session is on: express, council or emergency. */
  | 'mode'
  /** The roles assigned and the agent instance holding each. */
  | 'roles'
  /** A turn's outcome, a triage choice, the session's close. The newest is the "last decision". */
  | 'decision'
  /** A question asked and not yet answered. */
  | 'question'
  /** Work handed to another actor and not yet finished: a task sent to an agent. */
  | 'coordination'
  /** The conversation itself, in full: queries, answers, the session's start. */
  | 'query'
  | 'answer'
  | 'session';

export type TierItem = {
  /** `<kind>:<position>` (and `:<n>` when one event gives several): stable across replays. */
  id: string;
  kind: ItemKind;
  text: string;
  /** tiktoken o200k_base count of `text`. */
  tokens: number;
  /**
   * The item said shortly, for compressed views (a transfer summary's warm tier): made by the handler that knows
   * what matters in it, e.g. a decision's turn and gist without the agent and model that hot already names.
   */
  brief: string;
  /** Global position of the event the item came from. */
  position: string;
  /** Creation order; an item's age. The oldest item is the one with the smallest seq. */
  seq: number;
  /** The turn the item belongs to, which is what an outcome resolves; null when it belongs to none. */
  turn: number | null;
};

export type MoveReason =
  /** Its tier went over budget and it was the oldest item that may leave. */
  | 'overflow'
  /** A newer item of its kind took its place (a new focus, a newer decision). */
  | 'superseded'
  /** What it waited for happened (the question was answered, the task finished). */
  | 'resolved';

export type TierMove = { itemId: string; from: 'hot' | 'warm'; to: 'warm' | 'cold'; reason: MoveReason; position: string };

/** Cold, as the state carries it: a summary and the newest items. The whole tier is `materialiseColdTier(events)`. */
export type ColdSummary = {
  /** Items in cold: every item ever created there or moved down to it. Its tokens are `tokens.cold`. */
  count: number;
  byKind: Partial<Record<ItemKind, number>>;
  /** The newest items to reach cold (at most `COLD_RECENT_ITEMS`), in the order they arrived, whole. */
  recent: TierItem[];
};

/** The moves between tiers, as the state carries them. Every move is in `foldTierHistory(events).moves`. */
export type MoveSummary = {
  count: number;
  byReason: Partial<Record<MoveReason, number>>;
  /** The newest moves (at most `RECENT_MOVES`), in the order made. */
  recent: TierMove[];
};

export const COLD_RECENT_ITEMS = 2;
export const RECENT_MOVES = 8;
/**
 * How many tasks the coordination queue remembers having seen, so the two records of one task (the session's
 * `message.sent`, then the agent's `task.assigned`, a few events apart) queue it once. Far more than the tasks of
 * one turn, which is all that can stand between the two.
 */
export const TASKS_REMEMBERED = 16;

export type TierBudgets = { hot: number; warm: number };

export type RoleAssignment = { role: string; agentStream: string };

export type SessionState = {
  /** The session folded; events of any other session are ignored. Null until the first event names it. */
  sessionId: string | null;
  budgets: TierBudgets;
  /** Position of the last event applied, so a re-delivered event is applied once. */
  position: string | null;
  /** Seq of the next item created. Equals the number of items across all tiers (hot, warm and `cold.count`). */
  nextSeq: number;
  /** Queries received (the next query's turn number) and turns finished, answered or failed. */
  turns: { received: number; finished: number };
  mode: string | null;
  /**
   * The turn triage sent to a council (or emergency council), while it runs: its members' answers are
   * contributions, and only the synthesiser's answers the turn. Null otherwise (absent in older checkpoints).
   */
  councilTurn?: number | null;
  activeRoles: RoleAssignment[];
  hot: TierItem[];
  warm: TierItem[];
  cold: ColdSummary;
  tokens: Record<TierName, number>;
  /** The moves between tiers (the demotions are part of the fold): how many, and the newest. */
  moves: MoveSummary;
  /** The texts of the newest tasks queued (at most `TASKS_REMEMBERED`), oldest first: a task is queued once. */
  tasksSeen: string[];
  /**
   * The context rules the session started under (`session.started`), present from rules 2 on: 2 pins the session's
   * subject in hot. Sessions recorded before it fold without it, exactly as their checkpoints recorded them.
   */
  contextRules?: typeof CONTEXT_RULES;
};

/**
 * The context rules new sessions record in `session.started`. 2: the first query stays in hot as the session's
 * subject once the focus has moved on; under 1 it went to cold with its focus, and after a few turns a prompt (and a
 * hand-off's summary) no longer said what the session was about ("How do we train them?" — who, for what?).
 */
export const CONTEXT_RULES = 2;

export const DEFAULT_BUDGETS: TierBudgets = { hot: 200, warm: 500 };

/**
 * Below this the per-kind caps (fractions of the hot budget) leave too few tokens to say "Mode: express"; a smaller
 * budget is a configuration mistake, reported rather than silently producing empty items.
 */
export const MIN_TIER_BUDGET = 100;

export type SessionStateOptions = { sessionId?: string; budgets?: Partial<TierBudgets> };

export function initialSessionState(options: SessionStateOptions = {}): SessionState {
  const budgets = { hot: options.budgets?.hot ?? DEFAULT_BUDGETS.hot, warm: options.budgets?.warm ?? DEFAULT_BUDGETS.warm };
  for (const tier of ['hot', 'warm'] as const) {
    const budget = budgets[tier];
    if (!Number.isSafeInteger(budget) || budget < MIN_TIER_BUDGET) throw new RangeError(`the ${tier} budget must be an integer of at least ${MIN_TIER_BUDGET} tokens, not ${budget}`);
  }
  return {
    sessionId: options.sessionId ?? null,
    budgets,
    position: null,
    nextSeq: 0,
    turns: { received: 0, finished: 0 },
    mode: null,
    councilTurn: null,
    activeRoles: [],
    hot: [],
    warm: [],
    cold: { count: 0, byKind: {}, recent: [] },
    tokens: { hot: 0, warm: 0, cold: 0 },
    moves: { count: 0, byReason: {}, recent: [] },
    tasksSeen: [],
  };
}

type KindRule = {
  /** The tier an item of this kind is created in. */
  home: TierName;
  /**
   * Pinned items are the hot tier's fixed slots (subject, focus, mode, roles): overflow never moves them, because a
   * hot tier without its focus would not be the essential context. Their caps sum to 65 % of the hot budget (half,
   * before the subject), so the hot tier always fits once every unpinned item has moved down.
   */
  pinned: boolean;
  /** Largest size of one item, as a share of its home tier's budget; longer text is cut, with a marker. */
  share: number;
  /** Kinds with one current item: where the previous one goes when a new one arrives. */
  supersededTo: 'warm' | 'cold' | null;
};

export const kindRules: Record<ItemKind, KindRule> = {
  subject: { home: 'hot', pinned: true, share: 0.15, supersededTo: 'cold' },
  focus: { home: 'hot', pinned: true, share: 0.25, supersededTo: 'cold' },
  mode: { home: 'hot', pinned: true, share: 0.05, supersededTo: 'cold' },
  roles: { home: 'hot', pinned: true, share: 0.2, supersededTo: 'cold' },
  // The last decision steps down to warm, where it is one of the recent decisions.
  decision: { home: 'hot', pinned: false, share: 0.25, supersededTo: 'warm' },
  question: { home: 'hot', pinned: false, share: 0.2, supersededTo: null },
  coordination: { home: 'warm', pinned: false, share: 0.1, supersededTo: null },
  query: { home: 'cold', pinned: false, share: Infinity, supersededTo: null },
  answer: { home: 'cold', pinned: false, share: Infinity, supersededTo: null },
  session: { home: 'cold', pinned: false, share: Infinity, supersededTo: null },
};

/** A brief is cut further by whoever shows it; this only bounds what the state stores. */
export const MAX_BRIEF_TOKENS = 64;

/** The most tokens one item of a kind may have; cold has no budget, so its items are kept whole. */
export function itemCap(kind: ItemKind, budgets: TierBudgets): number {
  const { home, share } = kindRules[kind];
  return home === 'cold' ? Infinity : Math.floor(budgets[home] * share);
}

/** `items` and then `item`, keeping the newest `limit`: copies at most `limit` items, however many came before. */
export function appendNewest<T>(items: readonly T[], item: T, limit: number): T[] {
  const kept = items.length >= limit ? items.slice(items.length - limit + 1) : [...items];
  kept.push(item);
  return kept;
}
