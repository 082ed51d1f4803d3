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

/** Smoothed inverse document frequency over the remembered episodes: a word every turn uses says little. */
function idfOf(docs: readonly Map<string, number>[]): (term: string) => number {
  const df = new Map<string, number>();
  for (const doc of docs) for (const t of doc.keys()) df.set(t, (df.get(t) ?? 0) + 1);
  return (t) => Math.log((1 + docs.length) / (1 + (df.get(t) ?? 0))) + 1;
}

function cosine(a: Map<string, number>, b: Map<string, number>, idf: (t: string) => number): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (const [t, n] of a) {
    const w = n * idf(t);
    na += w * w;
    const m = b.get(t);
    if (m !== undefined) dot += w * m * idf(t);
  }
  for (const [t, m] of b) nb += (m * idf(t)) ** 2;
  return na === 0 || nb === 0 ? 0 : dot / Math.sqrt(na * nb);
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
  const idf = idfOfEpisodes(state.episodes);
  const q = counts(terms(query.text));
  const scored: { e: Episode; similarity: number }[] = [];
  for (const e of state.episodes) {
    const c = cosine(q, termCountsOf(e), idf);
    if (c <= 0) continue;
    const bonus = (e.purpose === query.purpose ? SAME_PURPOSE_BONUS : 0) + (e.region === query.region ? SAME_REGION_BONUS : 0);
    scored.push({ e, similarity: round4(COSINE_WEIGHT * c + bonus) });
  }
  scored.sort((a, b) => b.similarity - a.similarity || (BigInt(b.e.position) > BigInt(a.e.position) ? 1 : -1));
  return scored.map(({ e, similarity }) => ({ sessionId: e.sessionId, turn: e.turn, similarity, tokens: e.tokens, mode: e.mode, outcome: e.outcome, position: e.position }));
}

/*
 * Triage asks memory about every turn, so what depends only on the state is remembered per state object: each
 * episode's word counts, and the IDF of the episode list. Episodes and their list are never changed in place (the
 * fold makes new ones), so a remembered value is the value; a state read back from JSON just computes them again.
 */
const episodeTerms = new WeakMap<Episode, Map<string, number>>();
const episodesIdf = new WeakMap<readonly Episode[], (term: string) => number>();

function termCountsOf(episode: Episode): Map<string, number> {
  let tf = episodeTerms.get(episode);
  if (!tf) episodeTerms.set(episode, tf = counts(terms(episode.query)));
  return tf;
}

function idfOfEpisodes(episodes: readonly Episode[]): (term: string) => number {
  let idf = episodesIdf.get(episodes);
  if (!idf) {
    const table = new Map<string, number>();
    const of = idfOf(episodes.map(termCountsOf));
    for (const e of episodes) for (const t of termCountsOf(e).keys()) if (!table.has(t)) table.set(t, of(t));
    const unseen = of('');
    idf = (t) => table.get(t) ?? unseen;
    episodesIdf.set(episodes, idf);
  }
  return idf;
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
