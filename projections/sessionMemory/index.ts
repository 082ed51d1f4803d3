export { cutQuery, EPISODE_QUERY_TOKENS, EPISODE_TOKEN_CAP, episodeTokens, type Episode, type EpisodeMode } from './episodes.ts';
export { patternKey, patternsOf, type Pattern, type PatternSums } from './patterns.ts';
export { evolveSessionMemory, foldSessionMemory, initialSessionMemory, type MemoryEvent, type SessionMemoryState } from './sessionMemory.ts';
export { ADVICE_MIN_SIMILARITY, memoryAdvice, rankedEpisodes, similarEpisodes, terms, type MemoryAdvice, type MemoryQuery, type SimilarEpisode } from './similarity.ts';
