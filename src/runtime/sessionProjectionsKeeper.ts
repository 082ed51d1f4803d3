import { promptContext, transferSummary } from '../../projections/sessionState/contextText.ts';
import { evolveSessionState } from '../../projections/sessionState/evolveSessionState.ts';
import type { SessionState } from '../../projections/sessionState/sessionState.ts';
import type { EventToAppend, RecordedEvent } from '../events/envelope.ts';
import { mayHaveEvents, type EventStore } from '../store/eventStore.ts';
import { readSessionTail, sessionStream, UnknownSessionError } from './sessionStreams.ts';
import { byPosition, sessionStateAt, type CheckpointData, type ExtraProjections } from './stateAt.ts';

/** The most tokens of session state an agent's prompt carries. */
export const PROMPT_CONTEXT_TOKENS = 400;

export interface HostedProjections {
  /** Each projection's state, by name (the tiered session state is `sessionState`). */
  states: Record<string, unknown>;
  /** The last revision and position folded of every stream of the session. */
  covered: CheckpointData['covered'];
}

/** A fact staged in the group being written, not recorded yet: its stream, the revision it will have, the event. */
export interface StagedFact {
  streamId: string;
  revision: bigint;
  event: EventToAppend;
}

/**
 * The hosted session state with the facts a group has staged for the session folded on, in the order staged, at
 * positions after it. A hand-off's summary is made inside the group that requests the hand-off, where the state
 * the store holds is one step behind: it lacked the answer that triggered the hand-off. The state made here is only
 * read, never kept: the host folds the facts again once recorded.
 */
function withStaged(state: SessionState, staged: readonly StagedFact[] | undefined): SessionState {
  if (staged === undefined || staged.length === 0) return state;
  let position = state.position === null ? 0n : BigInt(state.position);
  let next = state;
  for (const { streamId, revision, event } of staged) {
    const recorded: RecordedEvent = { ...event, streamId, revision, position: ++position, metadata: { ...event.metadata, prevHash: '', hash: '' } as RecordedEvent['metadata'] };
    next = evolveSessionState(next, recorded);
  }
  return next;
}

/** What an agent's prompt carries of a hosted session's tiered state; empty for a session not yet hosted. */
export function promptContextOfHost(host: HostedProjections | undefined): string {
  return host ? promptContext(host.states.sessionState as SessionState, { maxTokens: PROMPT_CONTEXT_TOKENS }) : '';
}

/** The most of a successor's window its hand-off summary may take: the rest is for its prompt and its answer. */
export const SUMMARY_WINDOW_SHARE = 0.5;

/**
 * What a fresh instance receives in a hand-off: the hosted session's hot tier whole and its warm tier compressed,
 * within half the successor's window (and never more than the tiers' budgets).
 */
export function transferSummaryOfHost(host: HostedProjections | undefined, window: number, staged?: readonly StagedFact[]): { text: string; tokens: number; hotItems: number } {
  if (!host) return { text: '', tokens: 0, hotItems: 0 };
  const recorded = host.states.sessionState as SessionState;
  const state = withStaged(recorded, staged);
  const maxTokens = Math.max(1, Math.min(state.budgets.hot + state.budgets.warm, Math.floor(window * SUMMARY_WINDOW_SHARE)));
  // The staged facts have no position yet (they are written with the hand-off): the summary says what it read.
  const asOf = staged === undefined || staged.length === 0 ? undefined : `position ${recorded.position ?? '(none)'} and this hand-off's ${staged.length} facts`;
  const { text, tokens } = transferSummary(state, { maxTokens, ...(asOf === undefined ? {} : { asOf }) });
  return { text, tokens, hotItems: state.hot.length };
}

/**
 * Keeps each live session's projections (tiered session state, climate impact, …) in memory, so an agent's prompt
 * context and a checkpoint cost nothing to read. It folds only what the store holds, with the store's own
 * positions, so its states are exactly what a point-in-time query would answer: what this process writes it folds
 * as the store recorded it (`observe`); whatever it has not seen recorded (a store that does not return what it
 * recorded, a write that failed, a session it has not loaded) it reads from the store before answering.
 */
export class SessionProjectionsKeeper {
  private readonly hosts = new Map<string, HostedProjections>();
  /** Sessions whose host has folded everything the store holds for them, as far as this process knows. */
  private readonly current = new Set<string>();
  private readonly store: EventStore;
  private readonly projections: ExtraProjections;

  constructor(store: EventStore, projections: ExtraProjections) {
    if (!('sessionState' in projections)) throw new Error('the runtime hosts the tiered session state as "sessionState": prompts are built from it');
    this.store = store;
    this.projections = projections;
  }

  /** The session's projections as of the newest event in the store, or undefined for a session not yet started. */
  async caughtUp(sessionId: string): Promise<HostedProjections | undefined> {
    const host = this.hosts.get(sessionId);
    if (!host) return this.load(sessionId);
    if (this.current.has(sessionId)) return host;
    const tail = await readSessionTail(this.store, sessionId, host.covered);
    if (tail.length === 0) {
      this.current.add(sessionId);
      return host;
    }
    // Adopted only once the whole tail has folded: a step that throws leaves the host as it was.
    Object.assign(host, this.folded(host, tail.sort(byPosition)));
    this.current.add(sessionId);
    return host;
  }

  /**
   * Folds what this process has just written to the sessions of one append, as the store recorded it (positions
   * and all), so the next answer needs no read. `recorded` is every event of the append, or undefined when the
   * store did not return them: those sessions are then read before their next answer.
   */
  observe(sessions: Iterable<string>, recorded: readonly RecordedEvent[] | undefined): void {
    const bySession = recorded ? Map.groupBy(recorded, (event) => event.metadata.sessionId) : new Map<string, RecordedEvent[]>();
    for (const sessionId of sessions) {
      let host = this.hosts.get(sessionId);
      // A session whose first event this is has nothing in the store before it: its host starts empty here.
      if (!host && recorded && bySession.get(sessionId)?.some((e) => e.streamId === sessionStream(sessionId) && e.revision === 0n)) {
        host = { states: Object.fromEntries(Object.entries(this.projections).map(([name, p]) => [name, p.initial])), covered: {} };
        this.hosts.set(sessionId, host);
        this.current.add(sessionId);
      }
      if (!host || !recorded || !this.current.has(sessionId)) {
        this.current.delete(sessionId);
        continue;
      }
      try {
        Object.assign(host, this.folded(host, (bySession.get(sessionId) ?? []).sort(byPosition), { contiguous: true }));
      } catch {
        // A gap (something was written that the host has not seen), or a projection step that throws (the facts
        // are durable whatever a projection makes of them): reload from the store, where the same step fails
        // again and is reported by whoever needs the state.
        this.forget(sessionId);
      }
    }
  }

  /**
   * The host's states and coverage with `events` (in global order) folded on, as new objects. With `contiguous`,
   * an event that does not continue its stream exactly where the host stands throws.
   */
  private folded(host: HostedProjections, events: readonly RecordedEvent[], options: { contiguous?: boolean } = {}): HostedProjections {
    const states = { ...host.states };
    const covered = { ...host.covered };
    for (const event of events) {
      const at = covered[event.streamId];
      if (options.contiguous && (at === undefined ? -1n : BigInt(at.revision)) !== event.revision - 1n) {
        throw new Error(`${event.streamId}: revision ${event.revision} does not follow the hosted revision ${at?.revision ?? 'none'}`);
      }
      for (const [name, projection] of Object.entries(this.projections)) states[name] = projection.evolve(states[name], event);
      covered[event.streamId] = { revision: String(event.revision), position: String(event.position) };
    }
    return { states, covered };
  }

  private async load(sessionId: string): Promise<HostedProjections | undefined> {
    // A session whose first fact is still being staged has nothing to load (its host starts with that fact).
    if (!(await mayHaveEvents(this.store, sessionStream(sessionId)))) return undefined;
    let host: HostedProjections;
    try {
      const at = await sessionStateAt(this.store, sessionId, undefined, this.projections);
      host = { states: at.projections, covered: at.covered };
    } catch (error) {
      if (error instanceof UnknownSessionError) return undefined;
      throw error;
    }
    this.hosts.set(sessionId, host);
    this.current.add(sessionId);
    return host;
  }

  /** Drops a session's hosted state (it reloads from the store on next use). */
  forget(sessionId: string): void {
    this.hosts.delete(sessionId);
    this.current.delete(sessionId);
  }
}
