import { countTokens, tokenPrefix } from '../../src/models/tokenCount.ts';

export type EpisodeMode = 'express' | 'council' | 'emergency';

/** One completed turn of one session, as memory recalls it. */
export interface Episode {
  sessionId: string;
  turn: number;
  /** The turn's query, cut to at most `EPISODE_QUERY_TOKENS` tokens. */
  query: string;
  queryTokens: number;
  region: string;
  purpose: string;
  mode: EpisodeMode;
  roles: string[];
  /** Tokens the turn used (`budget.reconciled.actual`). */
  tokens: number;
  /** The turn's budget (`budget.reconciled.budgeted`). */
  budgeted: number;
  outcome: 'answered' | 'failed';
  /** Log position (decimal) at which the episode became complete: the later of its `turn.completed` and `budget.reconciled`. */
  position: string;
}

/**
 * A query longer than this is remembered by its opening: enough words to match a similar query, while one long
 * prompt cannot take the whole memory.
 */
export const EPISODE_QUERY_TOKENS = 60;

/**
 * The episodes kept hold at most this many tokens of query text, newest kept, oldest dropped first (they stay in the
 * log). 4 000 tokens is at least 66 episodes at the longest query, and in practice a few hundred: small enough to
 * scan per lookup and to put in a checkpoint, large enough to cover the recent mix of query families.
 */
export const EPISODE_TOKEN_CAP = 4_000;

export function cutQuery(text: string): { query: string; queryTokens: number } {
  const { prefix, tokens } = tokenPrefix(text, EPISODE_QUERY_TOKENS);
  return prefix === text ? { query: text, queryTokens: tokens } : { query: prefix, queryTokens: countTokens(prefix) };
}

/** Appends an episode and drops the oldest until the kept query text is within the cap. */
export function rememberEpisode(episodes: readonly Episode[], episode: Episode, cap = EPISODE_TOKEN_CAP): Episode[] {
  const kept = [...episodes, episode];
  let total = kept.reduce((sum, e) => sum + e.queryTokens, 0);
  let drop = 0;
  while (total > cap && drop < kept.length) total -= kept[drop++]!.queryTokens;
  return drop === 0 ? kept : kept.slice(drop);
}

export function episodeTokens(episodes: readonly Episode[]): number {
  return episodes.reduce((sum, e) => sum + e.queryTokens, 0);
}
