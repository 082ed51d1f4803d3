import { evolveSessionMemory, initialSessionMemory, type SessionMemoryState } from '../../projections/sessionMemory/index.ts';
import type { EventStore } from '../store/eventStore.ts';
import { LogFold } from './logFold.ts';

/**
 * Cross-session memory as this process knows it, caught up from the store before each triage, so turns finished by
 * other processes are remembered too. It reads only the event types the memory fold uses.
 */
export function sessionMemoryFold(store: EventStore): LogFold<SessionMemoryState> {
  return new LogFold(store, {
    initial: initialSessionMemory,
    types: ['query.received', 'triage.decided', 'turn.completed', 'budget.reconciled', 'transition.completed', 'session.forked'],
    evolve: evolveSessionMemory,
  });
}
