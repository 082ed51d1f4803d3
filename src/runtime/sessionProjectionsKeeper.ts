import { promptContext } from '../../projections/sessionState/contextText.ts';
import type { SessionState } from '../../projections/sessionState/sessionState.ts';
import type { RecordedEvent } from '../events/envelope.ts';
import type { EventStore } from '../store/eventStore.ts';
import { readSessionTail } from './checkpoints.ts';
import { UnknownSessionError } from './sessionStreams.ts';
import { byPosition, sessionStateAt, type CheckpointData, type ExtraProjections } from './stateAt.ts';

/** The most tokens of session state an agent's prompt carries. */
export const PROMPT_CONTEXT_TOKENS = 400;

export interface HostedProjections {
  /** Each projection's state, by name (the tiered session state is `sessionState`). */
  states: Record<string, unknown>;
  /** The last revision and position folded of every stream of the session. */
  covered: CheckpointData['covered'];
}

/**
 * Keeps each live session's projections (tiered session state, climate impact, …) in memory, so an agent's prompt
 * context and a checkpoint cost a read of what the session wrote since the last time rather than a checkpoint and
 * its tail. It folds only what the store holds, read back with the store's own positions, so its states are
 * exactly what a point-in-time query would answer.
 */
export class SessionProjectionsKeeper {
  private readonly hosts = new Map<string, HostedProjections>();
  private readonly store: EventStore;
  private readonly projections: ExtraProjections;

  constructor(store: EventStore, projections: ExtraProjections) {
    if (!('sessionState' in projections)) throw new Error('the runtime hosts the tiered session state as "sessionState": prompts are built from it');
    this.store = store;
    this.projections = projections;
  }

  /** The prompt context of a session as the store holds it now; empty for a session whose first fact is not yet written. */
  async promptContextOf(sessionId: string): Promise<string> {
    const host = await this.caughtUp(sessionId);
    return host ? promptContext(host.states.sessionState as SessionState, { maxTokens: PROMPT_CONTEXT_TOKENS }) : '';
  }

  /** The session's projections as of the newest event in the store, or undefined for a session not yet started. */
  async caughtUp(sessionId: string): Promise<HostedProjections | undefined> {
    const host = this.hosts.get(sessionId);
    if (!host) return this.load(sessionId);
    const tail = await readSessionTail(this.store, sessionId, host.covered);
    if (tail.length === 0) return host;
    // Adopted only once the whole tail has folded: a step that throws leaves the host as it was.
    const states = { ...host.states };
    const covered = { ...host.covered };
    for (const event of tail.sort(byPosition)) {
      for (const [name, projection] of Object.entries(this.projections)) states[name] = projection.evolve(states[name], event);
      covered[event.streamId] = { revision: String(event.revision), position: String(event.position) };
    }
    host.states = states;
    host.covered = covered;
    return host;
  }

  /**
   * Folds events this process has just written, as the store recorded them (positions and all), into the hosted
   * state of their session, so the next catch-up has nothing left to read and decode. Only what continues each
   * stream exactly where the host stands is taken; anything else is left for the catch-up to read.
   */
  observe(recorded: readonly RecordedEvent[]): void {
    const bySession = Map.groupBy(recorded, (event) => event.metadata.sessionId);
    for (const [sessionId, events] of bySession) {
      const host = this.hosts.get(sessionId);
      if (!host) continue;
      const states = { ...host.states };
      const covered = { ...host.covered };
      try {
        for (const event of events.sort(byPosition)) {
          const at = covered[event.streamId];
          if ((at === undefined ? -1n : BigInt(at.revision)) !== event.revision - 1n) break;
          for (const [name, projection] of Object.entries(this.projections)) states[name] = projection.evolve(states[name], event);
          covered[event.streamId] = { revision: String(event.revision), position: String(event.position) };
        }
      } catch {
        // The facts are durable whatever a projection makes of them: reload from the store, where the same step
        // fails again and is reported by whoever needs the state.
        this.hosts.delete(sessionId);
        continue;
      }
      host.states = states;
      host.covered = covered;
    }
  }

  private async load(sessionId: string): Promise<HostedProjections | undefined> {
    let host: HostedProjections;
    try {
      const at = await sessionStateAt(this.store, sessionId, undefined, this.projections);
      host = { states: at.projections, covered: at.covered };
    } catch (error) {
      if (error instanceof UnknownSessionError) return undefined;
      throw error;
    }
    this.hosts.set(sessionId, host);
    return host;
  }

  /** Drops a session's hosted state (it reloads from the store on next use). */
  forget(sessionId: string): void {
    this.hosts.delete(sessionId);
  }
}
