import type { ItemKind, SessionState, TierItem } from './sessionState.ts';
import { countTokens, fitTokens } from './tokenText.ts';

/**
 * The texts an agent receives from the tiered state: the context its prompt includes, and the summary a fresh
 * instance gets in a hand-off. Both are chosen greedily under a token limit, and the limit holds for the text as
 * sent (see `assemble`). Pure and deterministic: the same state and limit give the same text.
 */

/** What a limit lets in first: the focus and what is still unanswered, then the last decision, roles and mode. */
const HOT_PRIORITY: readonly ItemKind[] = ['focus', 'subject', 'question', 'decision', 'roles', 'mode'];
/** Then work in flight, then the recent decisions; newest first within a kind. */
const WARM_PRIORITY: readonly ItemKind[] = ['coordination', 'decision', 'question'];
/** How the essential lines read, whatever order they were let in. */
const HOT_ORDER: readonly ItemKind[] = ['subject', 'focus', 'mode', 'roles', 'decision', 'question'];

const HOT_HEADING = 'Essential context:';

type Candidate = { item: TierItem; tier: 'hot' | 'warm'; forms: string[] };
type Chosen = Map<string, { candidate: Candidate; line: string }>;

const rank = (order: readonly ItemKind[], kind: ItemKind) => {
  const at = order.indexOf(kind);
  return at === -1 ? order.length : at;
};

function byPriority(order: readonly ItemKind[]) {
  return (a: TierItem, b: TierItem) => rank(order, a.kind) - rank(order, b.kind) || b.seq - a.seq;
}

function render(chosen: Chosen, preamble: string | null, recentHeading: string): string {
  if (chosen.size === 0) return '';
  const picked = [...chosen.values()];
  const hot = picked.filter((c) => c.candidate.tier === 'hot')
    .sort((a, b) => rank(HOT_ORDER, a.candidate.item.kind) - rank(HOT_ORDER, b.candidate.item.kind) || a.candidate.item.seq - b.candidate.item.seq);
  const warm = picked.filter((c) => c.candidate.tier === 'warm').sort((a, b) => a.candidate.item.seq - b.candidate.item.seq);
  const lines = preamble === null ? [] : [preamble];
  if (hot.length > 0) lines.push(HOT_HEADING, ...hot.map((c) => `- ${c.line}`));
  if (warm.length > 0) lines.push(recentHeading, ...warm.map((c) => `- ${c.line}`));
  return lines.join('\n');
}

/** A line's share of a limit: its own tokens and the line break that joins it to the next. */
function lineCost(line: string): number {
  return countTokens(line) + 1;
}

/**
 * Tokens a limit keeps back for the seams between lines. Lines are counted once each (counts of texts seen are
 * remembered), not the whole text per trial, which was quadratic in the context's length and ran every turn. A
 * seam can change how BPE splits its two sides; with o200k it merges (a punctuation run takes the break with it)
 * rather than adds, so the lines' counts plus one token per break bound the whole in practice. The reserve covers
 * an exceptional seam, and the tests count the whole text against the limit for random conversations and limits.
 */
const SEAM_RESERVE = 8;

/**
 * Lets candidates in by priority, each in the first of its forms whose line (with the heading it opens, if any)
 * still fits under the limit less the seam reserve. A limit no larger than the reserve lets nothing in.
 */
function assemble(candidates: readonly Candidate[], maxTokens: number, preamble: string | null, recentHeading: string): { chosen: Chosen; text: string } {
  const chosen: Chosen = new Map();
  // The last line has no break after it, hence the one token back.
  let room = maxTokens - SEAM_RESERVE + 1;
  const opened = { hot: false, warm: false };
  for (const candidate of candidates) {
    const { tier } = candidate;
    const overhead = (chosen.size === 0 && preamble !== null ? lineCost(preamble) : 0)
      + (opened[tier] ? 0 : lineCost(tier === 'hot' ? HOT_HEADING : recentHeading));
    for (const line of candidate.forms) {
      const cost = overhead + lineCost(`- ${line}`);
      if (cost > room) continue;
      room -= cost;
      opened[tier] = true;
      chosen.set(candidate.item.id, { candidate, line });
      break;
    }
  }
  return { chosen, text: render(chosen, preamble, recentHeading) };
}

function checkLimit(name: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`${name} must be a non-negative integer, not ${value}`);
}

/** An item compressed: its brief (what its handler judged essential), at most `maxTokens` tokens. */
export function compressItem(item: TierItem, maxTokens: number): string {
  return fitTokens(item.brief, maxTokens);
}

export const DEFAULT_COMPRESSED_ITEM_TOKENS = 24;

/**
 * The session context an agent's prompt includes: every hot item, then as many warm items as fit (each whole, or
 * compressed if only that fits), never more than `maxTokens`. Empty when the session has nothing to say yet.
 */
export function promptContext(state: SessionState, { maxTokens }: { maxTokens: number }): string {
  checkLimit('maxTokens', maxTokens);
  const hot = [...state.hot].sort(byPriority(HOT_PRIORITY)).map((item): Candidate => ({ item, tier: 'hot', forms: [item.text] }));
  const warm = [...state.warm].sort(byPriority(WARM_PRIORITY)).map((item): Candidate => {
    const brief = compressItem(item, DEFAULT_COMPRESSED_ITEM_TOKENS);
    return { item, tier: 'warm', forms: brief === item.text ? [item.text] : [item.text, brief] };
  });
  return assemble([...hot, ...warm], maxTokens, null, 'Recent context:').text;
}

export type CompressedItem = { id: string; kind: ItemKind; text: string; tokens: number };

export type TransferSummary = {
  sessionId: string | null;
  /** Position of the last event folded into the state summarised. */
  position: string | null;
  /** The hot items handed over, unchanged: a hand-off is valid only if these survive it. */
  hot: TierItem[];
  /** The warm items handed over, each compressed. */
  warm: CompressedItem[];
  /** Ids of hot or warm items left out because the limit was reached. */
  omitted: string[];
  text: string;
  tokens: number;
};

export type TransferSummaryOptions = {
  /** Default: the hot and warm budgets together, so a summary is never larger than the tiers it summarises. */
  maxTokens?: number;
  /** Most tokens of one compressed warm item (default 24). */
  itemTokens?: number;
  /** What the state is "as of", when it is not only the recorded log up to its position (default `position <n>`). */
  asOf?: string;
};

/** What a fresh agent instance receives in a hand-off: the hot tier whole and a compressed warm tier. */
export function transferSummary(state: SessionState, options: TransferSummaryOptions = {}): TransferSummary {
  const maxTokens = options.maxTokens ?? state.budgets.hot + state.budgets.warm;
  const itemTokens = options.itemTokens ?? DEFAULT_COMPRESSED_ITEM_TOKENS;
  checkLimit('maxTokens', maxTokens);
  checkLimit('itemTokens', itemTokens);
  const hot = [...state.hot].sort(byPriority(HOT_PRIORITY)).map((item): Candidate => ({ item, tier: 'hot', forms: [item.text] }));
  const warm = [...state.warm].sort(byPriority(WARM_PRIORITY)).map((item): Candidate => ({ item, tier: 'warm', forms: [compressItem(item, itemTokens)] }));
  const preamble = `Hand-off summary of session ${state.sessionId ?? '(none)'} as of ${options.asOf ?? `position ${state.position ?? '(none)'}`}.`;
  const { chosen, text } = assemble([...hot, ...warm], maxTokens, preamble, 'Recent context (compressed):');
  return {
    sessionId: state.sessionId,
    position: state.position,
    hot: state.hot.filter((item) => chosen.has(item.id)),
    warm: state.warm.flatMap((item) => {
      const line = chosen.get(item.id)?.line;
      return line === undefined ? [] : [{ id: item.id, kind: item.kind, text: line, tokens: countTokens(line) }];
    }),
    omitted: [...state.hot, ...state.warm].filter((item) => !chosen.has(item.id)).map((item) => item.id),
    text,
    tokens: countTokens(text),
  };
}
