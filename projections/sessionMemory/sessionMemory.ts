import type { EventData } from '../../src/events/catalogue.ts';
import { cutQuery, EPISODE_TOKEN_CAP, rememberEpisode, type Episode, type EpisodeMode } from './episodes.ts';
import { addHandoff, addTurn, patternKey, type PatternSums } from './patterns.ts';

/** What the fold needs of a recorded event: its type, data, global position and session. */
export interface MemoryEvent {
  type: string;
  data: unknown;
  position: bigint;
  metadata: { sessionId: string };
}

/** A turn seen in part: filled in as its facts arrive, remembered once it has both its outcome and its reconciliation. */
interface OpenTurn {
  query: string;
  region: string;
  purpose: string;
  mode?: EpisodeMode;
  roles?: string[];
  outcome?: { status: 'answered' | 'failed'; position: string };
  reconciled?: { actual: number; budgeted: number; position: string };
}

interface SessionTrack {
  /** Queries received: the n-th is turn n − 1 (as the session machine counts). */
  received: number;
  turns: Record<string, OpenTurn>;
  /** Turns below this were copied from the fork's source: they are the source's episodes, not this session's. */
  copiedTurns: number;
  /** The pattern key of the session's latest remembered turn: where a hand-off after it is counted. */
  lastKey: string | null;
  /** Hand-offs completed before the session had a remembered turn, counted with its first one. */
  pendingHandoffs: number;
}

/** Plain JSON (positions as decimal strings), so it can go into a checkpoint and come back equal. */
export interface SessionMemoryState {
  episodes: Episode[];
  patterns: Record<string, PatternSums>;
  /**
   * Per session, in 256 buckets by a hash of its id: a step copies one bucket and the bucket index, not every
   * session, so folding a store of thousands of sessions stays linear in practice.
   */
  sessions: Record<string, Record<string, SessionTrack>>;
  /** Forked sessions seen: their source, and how many turns came with the copy. */
  forks: Record<string, { fromSession: string; copiedTurns: number }>;
  /** Position of the newest event folded; null before any. */
  through: string | null;
  cap: number;
}

export const initialSessionMemory: SessionMemoryState = { episodes: [], patterns: {}, sessions: {}, forks: {}, through: null, cap: EPISODE_TOKEN_CAP };

const newTrack = (): SessionTrack => ({ received: 0, turns: {}, copiedTurns: 0, lastKey: null, pendingHandoffs: 0 });

function bucketOf(sessionId: string): string {
  let h = 0;
  for (let i = 0; i < sessionId.length; i++) h = (h * 31 + sessionId.charCodeAt(i)) % 256;
  return String(h);
}

function trackOf(state: SessionMemoryState, sessionId: string): SessionTrack {
  return state.sessions[bucketOf(sessionId)]?.[sessionId] ?? newTrack();
}

function withTrack(state: SessionMemoryState, sessionId: string, track: SessionTrack): Record<string, Record<string, SessionTrack>> {
  const bucket = bucketOf(sessionId);
  return { ...state.sessions, [bucket]: { ...state.sessions[bucket], [sessionId]: track } };
}

/**
 * Cross-session memory, folded over the whole log in position order. Forks: a fork's copied history (everything of
 * it before its `session.forked`) is the source's again. Copied `budget.reconciled` events lack `mode` (the fork
 * strips learning inputs), so a copied turn is never completed here; at the marker every open turn of the fork is
 * dropped and the turns received so far are marked copied, so a copied turn that the fork finishes afterwards
 * (resume) is not remembered twice either. Copied hand-offs attach to no remembered turn and are dropped with it.
 */
export function evolveSessionMemory(state: SessionMemoryState, event: MemoryEvent): SessionMemoryState {
  const next = step(state, event);
  return next === state ? state : { ...next, through: String(event.position) };
}

function step(state: SessionMemoryState, event: MemoryEvent): SessionMemoryState {
  const sessionId = event.metadata.sessionId;
  const track = trackOf(state, sessionId);
  const position = String(event.position);
  const put = (t: SessionTrack, patch: Partial<SessionMemoryState> = {}): SessionMemoryState => ({ ...state, ...patch, sessions: withTrack(state, sessionId, t) });
  switch (event.type) {
    case 'query.received': {
      const d = event.data as EventData<'query.received'>;
      const turn: OpenTurn = { query: d.text, region: d.region, purpose: d.purpose };
      return put({ ...track, received: track.received + 1, turns: { ...track.turns, [track.received]: turn } });
    }
    case 'triage.decided': {
      const d = event.data as EventData<'triage.decided'>;
      return updateTurn(state, sessionId, track, d.turn, (t) => ({ ...t, mode: d.decision.mode, roles: [...d.decision.roles] }));
    }
    case 'turn.completed': {
      const d = event.data as EventData<'turn.completed'>;
      return updateTurn(state, sessionId, track, d.turn, (t) => ({ ...t, mode: t.mode ?? d.mode, outcome: { status: d.status, position } }));
    }
    case 'budget.reconciled': {
      const d = event.data as EventData<'budget.reconciled'>;
      // Without `mode` it is a fork's copy (or predates budgets by mode): not evidence of this session's own work.
      if (d.mode === undefined || d.budgeted === undefined) return state;
      return updateTurn(state, sessionId, track, d.turn, (t) => ({ ...t, reconciled: { actual: d.actual, budgeted: d.budgeted!, position } }));
    }
    case 'transition.completed': {
      if (track.lastKey === null) return put({ ...track, pendingHandoffs: track.pendingHandoffs + 1 });
      return { ...state, patterns: addHandoff(state.patterns, track.lastKey) };
    }
    case 'session.forked': {
      const d = event.data as EventData<'session.forked'>;
      const forks = { ...state.forks, [sessionId]: { fromSession: d.fromSession, copiedTurns: track.received } };
      return put({ ...track, turns: {}, copiedTurns: track.received, lastKey: null, pendingHandoffs: 0 }, { forks });
    }
    default:
      return state;
  }
}

/** Applies a change to an open turn; remembers the turn once it is complete. */
function updateTurn(state: SessionMemoryState, sessionId: string, track: SessionTrack, turn: number, change: (t: OpenTurn) => OpenTurn): SessionMemoryState {
  const open = track.turns[turn];
  if (open === undefined || turn < track.copiedTurns) return state;
  const t = change(open);
  if (t.outcome === undefined || t.reconciled === undefined || t.mode === undefined) {
    return { ...state, sessions: withTrack(state, sessionId, { ...track, turns: { ...track.turns, [turn]: t } }) };
  }
  const { [turn]: _done, ...rest } = track.turns;
  const later = BigInt(t.outcome.position) > BigInt(t.reconciled.position) ? t.outcome.position : t.reconciled.position;
  const episode: Episode = {
    sessionId, turn, ...cutQuery(t.query), region: t.region, purpose: t.purpose, mode: t.mode, roles: t.roles ?? [],
    tokens: t.reconciled.actual, budgeted: t.reconciled.budgeted, outcome: t.outcome.status, position: later,
  };
  return {
    ...state,
    episodes: rememberEpisode(state.episodes, episode, state.cap),
    patterns: addTurn(state.patterns, episode, track.pendingHandoffs),
    sessions: withTrack(state, sessionId, { ...track, turns: rest, lastKey: patternKey(episode), pendingHandoffs: 0 }),
  };
}

/** Folds events (in position order) into a memory state. */
export function foldSessionMemory(events: Iterable<MemoryEvent>, state: SessionMemoryState = initialSessionMemory): SessionMemoryState {
  let s = state;
  for (const event of events) s = evolveSessionMemory(s, event);
  return s;
}
