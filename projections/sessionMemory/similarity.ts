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
export function similarEpisodes(state: SessionMemoryState, query: MemoryQuery, k = 3, ranked = rankedEpisodes(state, query)): SimilarEpisode[] {
  return (query.mode === undefined ? ranked : ranked.filter((e) => e.mode === query.mode)).slice(0, k);
}

/**
 * Every remembered turn sharing a word with the query, most similar first, whatever its mode (`similarEpisodes`
 * narrows it): computed once, it answers triage's recall and the budget's advice alike.
 */
export function rankedEpisodes(state: SessionMemoryState, query: Pick<MemoryQuery, 'text' | 'region' | 'purpose'>): SimilarEpisode[] {
  const index = indexOf(state.episodes);
  const q = weighedQuery(counts(terms(query.text)), index);
  const scored: { e: Episode; similarity: number; position: bigint }[] = [];
  for (let i = 0; i < index.episodes.length; i++) {
    const e = index.episodes[i]!;
    const words = index.terms[i]!;
    const c = cosine(q, words, index);
    if (c <= 0) continue;
    const bonus = (e.purpose === query.purpose ? SAME_PURPOSE_BONUS : 0) + (e.region === query.region ? SAME_REGION_BONUS : 0);
    scored.push({ e, similarity: round4(COSINE_WEIGHT * c + bonus), position: words.position });
  }
  scored.sort((a, b) => b.similarity - a.similarity || (b.position > a.position ? 1 : -1));
  return scored.map(({ e, similarity }) => ({ sessionId: e.sessionId, turn: e.turn, similarity, tokens: e.tokens, mode: e.mode, outcome: e.outcome, position: e.position }));
}

/*
 * Triage ranks memory for every turn, and between two turns the episode list changes by a few episodes at most
 * (the newest appended, the oldest dropped past the cap). So what ranking needs of the list — each word's document
 * frequency, each episode's vector norm — is kept up to date rather than rebuilt from every episode per query.
 * Episodes and their lists are never changed in place (the fold makes new ones), so a value derived from one is its
 * value; a state read back from JSON is simply indexed afresh. Every figure is computed with the same expressions in
 * the same order as the plain definition (`idf`, `cosine` below), so a ranking is the same to the last bit.
 */

/** An episode's words: counts in first-occurrence order, and its position as a number to order ties by. */
interface EpisodeTerms {
  tf: Map<string, number>;
  words: string[];
  counts: number[];
  position: bigint;
  /** Its TF-IDF norm's square under the index generation `normGeneration`. */
  norm: number;
  normGeneration: number;
}

const episodeTerms = new WeakMap<Episode, EpisodeTerms>();

function termsOf(episode: Episode): EpisodeTerms {
  let found = episodeTerms.get(episode);
  if (!found) {
    const tf = counts(terms(episode.query));
    found = { tf, words: [...tf.keys()], counts: [...tf.values()], position: BigInt(episode.position), norm: 0, normGeneration: -1 };
    episodeTerms.set(episode, found);
  }
  return found;
}

/** Document frequencies over one episode list; `generation` changes whenever they (or the list's length) do. */
interface EpisodeIndex {
  episodes: readonly Episode[];
  /** Each episode's words, in list order. */
  terms: EpisodeTerms[];
  df: Map<string, number>;
  /** Smoothed IDF by document frequency, for this list's length. */
  idfByDf: number[];
  generation: number;
}

let generations = 0;
/** The index of the newest list asked about: the next list is usually this one with a few episodes on. */
let latest: EpisodeIndex | undefined;

function indexOf(episodes: readonly Episode[]): EpisodeIndex {
  if (latest?.episodes === episodes) return latest;
  latest = (latest && advanced(latest, episodes)) ?? freshIndex(episodes);
  return latest;
}

function freshIndex(episodes: readonly Episode[]): EpisodeIndex {
  const df = new Map<string, number>();
  const terms = episodes.map(termsOf);
  for (const words of terms) addWords(df, words, 1);
  return { episodes, terms, df, idfByDf: [], generation: ++generations };
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
  for (let i = 0; i < dropped; i++) addWords(index.df, index.terms[i]!, -1);
  const terms = index.terms.slice(dropped);
  for (let i = kept; i < episodes.length; i++) {
    const words = termsOf(episodes[i]!);
    addWords(index.df, words, 1);
    terms.push(words);
  }
  const resized = episodes.length !== before.length;
  return { episodes, terms, df: index.df, idfByDf: resized ? [] : index.idfByDf, generation: ++generations };
}

function addWords(df: Map<string, number>, episode: EpisodeTerms, change: 1 | -1): void {
  for (const word of episode.words) {
    const n = (df.get(word) ?? 0) + change;
    if (n === 0) df.delete(word);
    else df.set(word, n);
  }
}

/** Smoothed inverse document frequency over the remembered episodes: a word every turn uses says little. */
function idf(index: EpisodeIndex, word: string): number {
  const df = index.df.get(word) ?? 0;
  let value = index.idfByDf[df];
  if (value === undefined) index.idfByDf[df] = value = Math.log((1 + index.episodes.length) / (1 + df)) + 1;
  return value;
}

/** The query's words with their TF-IDF weights and its norm's square: the same for every episode it is compared with. */
interface WeighedQuery {
  words: string[];
  weights: number[];
  idfs: number[];
  norm: number;
}

function weighedQuery(tf: Map<string, number>, index: EpisodeIndex): WeighedQuery {
  const q: WeighedQuery = { words: [], weights: [], idfs: [], norm: 0 };
  for (const [word, n] of tf) {
    const weight = idf(index, word);
    const w = n * weight;
    q.norm += w * w;
    q.words.push(word);
    q.weights.push(w);
    q.idfs.push(weight);
  }
  return q;
}

/** Cosine of the TF-IDF vectors (raw counts × smoothed IDF); an episode's norm only when it shares a word. */
function cosine(q: WeighedQuery, e: EpisodeTerms, index: EpisodeIndex): number {
  let dot = 0;
  for (let i = 0; i < q.words.length; i++) {
    const m = e.tf.get(q.words[i]!);
    if (m !== undefined) dot += q.weights[i]! * m * q.idfs[i]!;
  }
  if (dot === 0) return 0;
  if (e.normGeneration !== index.generation) {
    let nb = 0;
    for (let i = 0; i < e.words.length; i++) nb += (e.counts[i]! * idf(index, e.words[i]!)) ** 2;
    e.norm = nb;
    e.normGeneration = index.generation;
  }
  return q.norm === 0 || e.norm === 0 ? 0 : dot / Math.sqrt(q.norm * e.norm);
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
