// The imports from src/ besides event types: counting tokens is a pure function of the text (tiktoken's
// o200k_base, a fixed table), so a fold that uses it (and remembers its results) stays deterministic and replayable.
import { rememberedResults } from '../../src/models/rememberedResults.ts';
import { countTokens, tokenPrefix } from '../../src/models/tokenCount.ts';

export { countTokens };

/** Appended where text was cut, so a reader (or model) knows more existed; the full text stays in the cold tier. */
export const CUT_MARKER = ' […]';

/** Runs of whitespace (newlines included) as one space: hot and warm lines are one line each, and cheaper. */
export function normaliseSpace(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

/** Where one sentence ends and the next begins: whitespace after . ! or ? (and any closing quotes or brackets). */
const SENTENCE_BREAK = /(?<=[.!?]["')\]]*)\s+/;

/** Sentences split after . ! or ? followed by whitespace, so "3.5" and "express.0" stay whole. */
export function sentences(text: string): string[] {
  const flat = normaliseSpace(text);
  return flat === '' ? [] : flat.split(SENTENCE_BREAK);
}

/**
 * `sentences(text)[0]`, or '' when there is none, without normalising and splitting the whole text (an answer's gist
 * is wanted of every answer): the first break in the text as it stands is the first one after normalising, as only
 * whitespace changes and the break's pattern looks behind at non-space characters, unless it is trailing whitespace,
 * which normalising trims.
 */
export function firstSentence(text: string): string {
  const cut = SENTENCE_BREAK.exec(text);
  if (cut === null || cut.index + cut[0].length === text.length) return normaliseSpace(text);
  return normaliseSpace(text.slice(0, cut.index));
}

/** The question sentences of a query, once each; a query that asks nothing with "?" is itself the question. */
export function questionSentences(text: string): string[] {
  const asked = sentences(text).filter((s) => /\?["')\]]*$/.test(s));
  return [...new Set(asked.length > 0 ? asked : [normaliseSpace(text)])];
}

/**
 * A token is rarely longer than this many characters, so searching past `maxTokens` times it is wasted work; a
 * cut made within that window still fits, it may only be a little shorter than the longest that would.
 */
const MAX_CHARS_PER_TOKEN = 32;

/**
 * Folds and prompt assembly cut the same texts again and again (a warm item's brief every turn), so results are
 * remembered; the function is pure, so a remembered answer is the answer. Bounded, oldest forgotten first.
 */
const fitted = rememberedResults<string>(4_096);

/**
 * `text` if it has at most `maxTokens` tokens, else a prefix that fits together with the cut marker, ending at a
 * word boundary when one is near. Deterministic. The first guess is the text's first tokens decoded (one encode,
 * one decode), which nearly always fits once re-counted with the marker; only when it does not is the cut found by
 * a binary search over code points (token counts of prefixes are almost but not strictly monotone).
 */
export function fitTokens(text: string, maxTokens: number): string {
  return fitted.get(`${maxTokens}\u0000${text}`, () => cutToFit(text, maxTokens));
}

/** Tokens past the cut a window must hold, so that BPE at the window's end cannot change the tokens before the cut. */
const WINDOW_MARGIN_TOKENS = 8;
/** A first window of this many characters per token wanted: enough for most prose (about 4), grown if not. */
const FIRST_WINDOW_CHARS_PER_TOKEN = 6;

function cutToFit(text: string, maxTokens: number): string {
  const limit = maxTokens * MAX_CHARS_PER_TOKEN;
  // Longer than that many characters, it does not fit; shorter, it is counted (cheap, being short).
  if (text.length <= limit && countTokens(text) <= maxTokens) return text;
  const markerTokens = countTokens(CUT_MARKER);
  if (countTokens(CUT_MARKER.trim()) > maxTokens) return '';
  const fits = (candidate: string) => countTokens(candidate) <= maxTokens;
  const atWordIfNear = (prefix: string, fallback: string) => {
    // A word cut in half costs tokens and reads badly; step back to the last space if that keeps most of the text.
    const space = prefix.trimEnd().lastIndexOf(' ');
    if (space > prefix.length * 0.6) {
      const atWord = `${prefix.slice(0, space).trimEnd()}${CUT_MARKER}`;
      if (fits(atWord)) return atWord;
    }
    return fallback;
  };
  if (maxTokens > markerTokens) {
    // The first tokens decoded nearly always fit once re-counted with the marker. Only a window of the text is
    // encoded (a long answer cut to a 50-token line would otherwise be encoded whole), grown until it holds
    // enough tokens past the cut or reaches the end.
    const keep = maxTokens - markerTokens;
    for (let window = (keep + WINDOW_MARGIN_TOKENS) * FIRST_WINDOW_CHARS_PER_TOKEN; ; window *= 4) {
      const head = text.slice(0, Math.min(window, limit));
      const { prefix, tokens } = tokenPrefix(head, keep);
      const whole = head.length === text.length || head.length === limit;
      if (tokens < keep + WINDOW_MARGIN_TOKENS && !whole) continue;
      const guess = prefix.trimEnd();
      if (guess.length > 0 && guess.length < text.length && fits(`${guess}${CUT_MARKER}`)) return atWordIfNear(guess, `${guess}${CUT_MARKER}`);
      break;
    }
  }
  // Code points, so a cut never splits a surrogate pair; a code point is at most two UTF-16 units.
  const window = maxTokens * MAX_CHARS_PER_TOKEN;
  const chars = Array.from(text.slice(0, window * 2)).slice(0, window);
  if (/^[\uD800-\uDBFF]$/.test(chars.at(-1) ?? '')) chars.pop();
  const cut = (n: number) => `${chars.slice(0, n).join('').trimEnd()}${n === 0 ? CUT_MARKER.trim() : CUT_MARKER}`;
  let lo = 0;
  let hi = chars.length;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (fits(cut(mid))) lo = mid;
    else hi = mid - 1;
  }
  return atWordIfNear(chars.slice(0, lo).join(''), cut(lo));
}
