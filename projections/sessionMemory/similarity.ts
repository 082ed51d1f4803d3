import type { Episode, EpisodeMode } from './episodes.ts';
import type { SessionMemoryState } from './sessionMemory.ts';

/** A new turn's query as memory is asked about it; `mode`, when triage has decided it, limits recall to that mode. */
export interface MemoryQuery {
  text: string;
  region?: string;
  purpose?: string;
  mode?: EpisodeMode;
}

export interface SimilarEpisode {
  sessionId: string;
  turn: number;
  similarity: number;
  tokens: number;
  mode: EpisodeMode;
  outcome: 'answered' | 'failed';
  position: string;
}

export interface MemoryAdvice {
  similar: SimilarEpisode[];
  /** Tokens the turn is likely to use, by what similar turns used; null when nothing is similar enough. */
  suggestedTokens: number | null;
  basis: string;
  /** The log position memory had folded through: refolding the log to it recalls the same turns (audit). */
  through: string | null;
}

/** Below this best similarity, memory offers no figure: the turns it recalls are not the same kind of question. */
export const ADVICE_MIN_SIMILARITY = 0.3;
const COSINE_WEIGHT = 0.9;
const SAME_PURPOSE_BONUS = 0.05;
const SAME_REGION_BONUS = 0.05;

const STOP_WORDS = new Set(('a an and are as at be been but by can could did do does for from had has have how i if in into is it its '
  + 'me my no not of on or our should so than that the their them then there these they this those to was we were what when where '
  + 'which while who why will with would you your about also any each more most other some such up us very please give tell').split(' '));

/** Lower-cased words of letters or digits, stop words and single letters removed, a plural `s` dropped. */
export function terms(text: string): string[] {
  const words = text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
  return words
    .filter((w) => w.length > 1 && !STOP_WORDS.has(w))
    .map((w) => (w.length > 3 && w.endsWith('s') && !/(ss|us|is)$/.test(w) ? w.slice(0, -1) : w));
}

function counts(words: readonly string[]): Map<string, number> {
  const tf = new Map<string, number>();
  for (const w of words) tf.set(w, (tf.get(w) ?? 0) + 1);
  return tf;
}

const round4 = (n: number) => Math.round(n * 10_000) / 10_000;

/**
 * The k remembered turns most like the query: 0.9 × cosine of TF-IDF vectors (raw counts × smoothed IDF over the
 * remembered episodes) + 0.05 for the same purpose + 0.05 for the same region; only turns sharing a word count.
 * Ties go to the newer turn (higher position). A pure function of the state, so replay recalls the same turns.
 */
export function similarEpisodes(state: SessionMemoryState, query: MemoryQuery, k = 3, ranked = rankedEpisodes(state, query, k)): SimilarEpisode[] {
  return (query.mode === undefined ? ranked : ranked.filter((e) => e.mode === query.mode)).slice(0, k);
}

/**
 * The remembered turns sharing a word with the query, most similar first: the `k` best of each mode, so the first
 * `k` of the list, and the first `k` of any one mode (what `similarEpisodes` narrows it to), are exactly those of
 * the full ranking. Computed once, it answers triage's recall and the budget's advice alike. Kept to `k` per mode
 * as it is scored rather than sorted whole: triage reads the top three of ~170 remembered turns for every query.
 */
export function rankedEpisodes(state: SessionMemoryState, query: Pick<MemoryQuery, 'text' | 'region' | 'purpose'>, k = 3): SimilarEpisode[] {
  const index = indexOf(state.episodes);
  const dots = dotProducts(counts(terms(query.text)), index);
  const best = new Map<EpisodeMode, Scored[]>();
  for (let slot = 0; slot < index.episodes.length; slot++) {
    // Only a turn sharing a word has a dot product above 0 (every weight is positive); the others score 0 and are left out.
    const dot = dots.values[slot]!;
    if (dot === 0) continue;
    const words = index.terms[slot]!;
    const norm = normOf(words, index);
    const c = dots.norm === 0 || norm === 0 ? 0 : dot / Math.sqrt(dots.norm * norm);
    if (c <= 0) continue;
    const e = index.episodes[slot]!;
    const bonus = (e.purpose === query.purpose ? SAME_PURPOSE_BONUS : 0) + (e.region === query.region ? SAME_REGION_BONUS : 0);
    let kept = best.get(e.mode);
    if (!kept) best.set(e.mode, kept = []);
    keepBest(kept, { e, similarity: round4(COSINE_WEIGHT * c + bonus), position: words.position }, k);
  }
  const ranked = [...best.values()].flat().sort(ranksBefore);
  return ranked.map(({ e, similarity }) => ({ sessionId: e.sessionId, turn: e.turn, similarity, tokens: e.tokens, mode: e.mode, outcome: e.outcome, position: e.position }));
}

interface Scored {
  e: Episode;
  similarity: number;
  position: bigint;
}

/** More similar first; of equally similar turns, the newer (higher position). Positions are unique, so this is a total order. */
function ranksBefore(a: Scored, b: Scored): number {
  return b.similarity - a.similarity || (b.position > a.position ? 1 : -1);
}

/** Inserts `entry` into `kept` (at most `k` entries, best first) if it ranks among the `k` best. */
function keepBest(kept: Scored[], entry: Scored, k: number): void {
  if (kept.length === k && ranksBefore(entry, kept[k - 1]!) >= 0) return;
  let at = kept.length;
  while (at > 0 && ranksBefore(entry, kept[at - 1]!) < 0) at--;
  kept.splice(at, 0, entry);
  if (kept.length > k) kept.pop();
}

/*
 * Triage ranks memory for every turn, and between two turns the episode list changes by a few episodes at most
 * (the newest appended, the oldest dropped past the cap). So what ranking needs of the list — which episodes hold
 * each word (and so its document frequency), each episode's vector norm — is kept up to date rather than rebuilt
 * from every episode per query. Episodes and their lists are never changed in place (the fold makes new ones), so
 * a value derived from one is its value; a state read back from JSON is simply indexed afresh. Every figure is
 * computed with the same expressions, summed in the same order, as the plain definition: TF-IDF weights of raw
 * counts × smoothed IDF (`idf`), a dot product over the query's words in the query's order, each vector's norm over
 * its own words in their order, cosine = dot / sqrt(norm × norm). So a ranking is the same to the last bit.
 */

/** An episode's words, counts in first-occurrence order, and its position as a bigint to order ties by. */
interface EpisodeTerms {
  words: string[];
  counts: number[];
  position: bigint;
  /** The square of its TF-IDF norm, valid while `normEpoch` is the index's epoch. */
  norm: number;
  normEpoch: number;
}

const episodeTerms = new WeakMap<Episode, EpisodeTerms>();

function termsOf(episode: Episode): EpisodeTerms {
  let found = episodeTerms.get(episode);
  if (!found) {
    const tf = counts(terms(episode.query));
    found = { words: [...tf.keys()], counts: [...tf.values()], position: BigInt(episode.position), norm: 0, normEpoch: -1 };
    episodeTerms.set(episode, found);
  }
  return found;
}

/** One episode holding a word: its place in the list (counted from the index's first, `seq`) and the word's count. */
interface Posting {
  seq: number;
  count: number;
}

/** An episode list indexed by word: a word's document frequency is the length of its postings. */
interface EpisodeIndex {
  episodes: readonly Episode[];
  /** Each episode's words, in list order. */
  terms: EpisodeTerms[];
  /** The `seq` of the list's first episode: an episode's slot in the list is its seq less this. */
  firstSeq: number;
  /** Per word, the episodes holding it, in list order. */
  postings: Map<string, Posting[]>;
  /** Smoothed IDF by document frequency, for this list's length. */
  idfByDf: number[];
  /** Changes whenever every norm may have changed (a new list length, a new index); single norms are reset in between. */
  epoch: number;
}

let epochs = 0;
/** The index of the newest list asked about: the next list is usually this one with a few episodes on. */
let latest: EpisodeIndex | undefined;

function indexOf(episodes: readonly Episode[]): EpisodeIndex {
  if (latest?.episodes === episodes) return latest;
  latest = (latest && advanced(latest, episodes)) ?? freshIndex(episodes);
  return latest;
}

function freshIndex(episodes: readonly Episode[]): EpisodeIndex {
  const index: EpisodeIndex = { episodes, terms: [], firstSeq: 0, postings: new Map(), idfByDf: [], epoch: ++epochs };
  for (const e of episodes) addEpisode(index, termsOf(e));
  return index;
}

/**
 * `index` moved on to `episodes`, when that list is the indexed one with its oldest `dropped` episodes gone and
 * newer ones after (as `rememberEpisode` makes it); undefined when it is any other list. Takes the index over: it
 * then describes `episodes` only.
 */
function advanced(index: EpisodeIndex, episodes: readonly Episode[]): EpisodeIndex | undefined {
  const before = index.episodes;
  if (episodes.length === 0) return undefined;
  const dropped = before.indexOf(episodes[0]!);
  if (dropped < 0) return undefined;
  const kept = before.length - dropped;
  if (kept > episodes.length) return undefined;
  for (let i = 1; i < kept; i++) if (before[dropped + i] !== episodes[i]) return undefined;
  // Each word's change in document frequency: a word the dropped and the added episodes both hold has none.
  const changed = new Map<string, number>();
  for (let i = 0; i < dropped; i++) dropOldest(index, changed);
  for (let i = kept; i < episodes.length; i++) addEpisode(index, termsOf(episodes[i]!), changed);
  index.episodes = episodes;
  if (episodes.length !== before.length) {
    // Every IDF depends on the list's length: every norm is stale.
    index.idfByDf = [];
    index.epoch = ++epochs;
  } else {
    // Same length: only the norms of episodes holding a word whose document frequency changed are stale.
    for (const [word, change] of changed) {
      if (change !== 0) for (const { seq } of index.postings.get(word) ?? []) index.terms[seq - index.firstSeq]!.normEpoch = -1;
    }
  }
  return index;
}

function addEpisode(index: EpisodeIndex, episode: EpisodeTerms, changed?: Map<string, number>): void {
  const seq = index.firstSeq + index.terms.length;
  index.terms.push(episode);
  for (let i = 0; i < episode.words.length; i++) {
    const word = episode.words[i]!;
    let postings = index.postings.get(word);
    if (!postings) index.postings.set(word, postings = []);
    postings.push({ seq, count: episode.counts[i]! });
    changed?.set(word, (changed.get(word) ?? 0) + 1);
  }
}

/** Drops the list's first episode: it is the first posting of each of its words. */
function dropOldest(index: EpisodeIndex, changed: Map<string, number>): void {
  const episode = index.terms.shift()!;
  for (const word of episode.words) {
    const postings = index.postings.get(word)!;
    postings.shift();
    if (postings.length === 0) index.postings.delete(word);
    changed.set(word, (changed.get(word) ?? 0) - 1);
  }
  index.firstSeq++;
}

/** Smoothed inverse document frequency over the remembered episodes: a word every turn uses says little. */
function idf(index: EpisodeIndex, word: string): number {
  const df = index.postings.get(word)?.length ?? 0;
  let value = index.idfByDf[df];
  if (value === undefined) index.idfByDf[df] = value = Math.log((1 + index.episodes.length) / (1 + df)) + 1;
  return value;
}

/**
 * The query's dot product with every episode (by slot), summed over the query's words in the query's order, and
 * the square of the query's norm.
 */
function dotProducts(q: Map<string, number>, index: EpisodeIndex): { values: Float64Array; norm: number } {
  const values = new Float64Array(index.episodes.length);
  let norm = 0;
  for (const [word, n] of q) {
    const weight = idf(index, word);
    const w = n * weight;
    norm += w * w;
    for (const { seq, count } of index.postings.get(word) ?? []) values[seq - index.firstSeq]! += w * count * weight;
  }
  return { values, norm };
}

/** The square of an episode's TF-IDF norm, over its words in their order. */
function normOf(episode: EpisodeTerms, index: EpisodeIndex): number {
  if (episode.normEpoch !== index.epoch) {
    let norm = 0;
    for (let i = 0; i < episode.words.length; i++) norm += (episode.counts[i]! * idf(index, episode.words[i]!)) ** 2;
    episode.norm = norm;
    episode.normEpoch = index.epoch;
  }
  return episode.norm;
}

/**
 * What memory says of a new turn: the similar turns, and — when the best is at least 0.3 similar — the
 * similarity-weighted mean of the tokens the answered ones among them (similarity ≥ 0.3) used. Failed turns are left
 * out of the figure: a council that failed early used less than the question needs.
 */
export function memoryAdvice(state: SessionMemoryState, query: MemoryQuery, k = 3, ranked?: SimilarEpisode[]): MemoryAdvice {
  const similar = similarEpisodes(state, query, k, ranked);
  const best = similar[0]?.similarity ?? 0;
  const usable = similar.filter((s) => s.similarity >= ADVICE_MIN_SIMILARITY && s.outcome === 'answered');
  if (usable.length === 0) {
    const why = similar.length === 0 ? `no remembered turn (of ${state.episodes.length}) shares a word with the query`
      : best < ADVICE_MIN_SIMILARITY ? `best similarity ${best} is below ${ADVICE_MIN_SIMILARITY}` : 'the similar turns all failed';
    return { similar, suggestedTokens: null, basis: `no advice: ${why}`, through: state.through };
  }
  const weight = usable.reduce((s, e) => s + e.similarity, 0);
  const suggestedTokens = Math.round(usable.reduce((s, e) => s + e.similarity * e.tokens, 0) / weight);
  const list = usable.map((e) => `${e.sessionId}#${e.turn} (${e.similarity}, ${e.tokens})`).join(', ');
  return { similar, suggestedTokens, basis: `similarity-weighted mean of the tokens used by ${usable.length} similar answered turn(s): ${list}`, through: state.through };
}
