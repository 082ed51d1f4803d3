import { promptContext } from '../../projections/sessionState/contextText.ts';
import type { SessionState } from '../../projections/sessionState/sessionState.ts';
import { sessionStateProjection } from '../../projections/sessionState/sessionStateStore.ts';
import type { EventStore } from '../store/eventStore.ts';
import { readSessionTail } from './checkpoints.ts';
import { UnknownSessionError } from './sessionStreams.ts';
import { byPosition, sessionStateAt, type CheckpointData } from './stateAt.ts';

/** The most tokens of session state an agent's prompt carries. */
export const PROMPT_CONTEXT_TOKENS = 400;

interface HostedSessionState {
  state: SessionState;
  /** The last revision and position folded of every stream of the session. */
  covered: CheckpointData['covered'];
}

/**
 * Keeps each live session's tiered state in memory, so an agent's prompt context costs a read of what the session
 * wrote since the last turn rather than a checkpoint and its tail every time. It folds only what the store holds
 * (read back with the store's own positions), so the context is exactly what a point-in-time query would answer.
 */
export class SessionStateKeeper {
  private readonly hosts = new Map<string, HostedSessionState>();
  private readonly store: EventStore;

  constructor(store: EventStore) {
    this.store = store;
  }

  /** The prompt context of a session as the store holds it now; empty for a session whose first fact is not yet written. */
  async promptContextOf(sessionId: string): Promise<string> {
    const host = await this.caughtUp(sessionId);
    return host ? promptContext(host.state, { maxTokens: PROMPT_CONTEXT_TOKENS }) : '';
  }

  private async caughtUp(sessionId: string): Promise<HostedSessionState | undefined> {
    let host = this.hosts.get(sessionId);
    if (!host) {
      try {
        const at = await sessionStateAt(this.store, sessionId, undefined, { sessionState: sessionStateProjection as never });
        host = { state: at.projections.sessionState as SessionState, covered: at.covered };
      } catch (error) {
        if (error instanceof UnknownSessionError) return undefined;
        throw error;
      }
      this.hosts.set(sessionId, host);
      return host;
    }
    const tail = await readSessionTail(this.store, sessionId, host.covered);
    if (tail.length === 0) return host;
    let state = host.state;
    for (const event of tail.sort(byPosition)) {
      state = sessionStateProjection.evolve(state, event);
      host.covered[event.streamId] = { revision: String(event.revision), position: String(event.position) };
    }
    host.state = state;
    return host;
  }

  /** Drops a session's hosted state (it reloads from the store on next use). */
  forget(sessionId: string): void {
    this.hosts.delete(sessionId);
  }
}
