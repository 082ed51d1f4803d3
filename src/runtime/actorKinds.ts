import type { AnyStateMachine } from 'xstate';
import { AGENT_MACHINE_REVISION_10, AGENT_MACHINE_REVISION_11, AGENT_MACHINE_REVISION_9, AGENT_MACHINE_VERSION, agentMachine, agentMachineRevision11, agentMachineRevision9 } from '../../machines/agentMachine.ts';
import { SESSION_MACHINE_VERSION, sessionMachine } from '../../machines/sessionMachine.ts';
import { TRANSITION_MACHINE_VERSION, transitionMachine } from '../../machines/transitionMachine.ts';
import { MARKET_MACHINE_VERSION, marketMachine } from '../../machines/marketMachine.ts';
import { streamCategory } from '../events/envelope.ts';

export interface ActorKind {
  /** The stream category: `session-<id>` streams hold session actors. */
  category: string;
  machine: AnyStateMachine;
  version: string;
  /**
   * Earlier definitions this build still replays, by the version their streams recorded. Listed only where the
   * persisted snapshot of one reads as a snapshot of the next (same states, same context): that is the migration
   * for the pair, so an actor whose stream began under an earlier version carries on under the current one.
   */
  earlier: ReadonlyMap<string, AnyStateMachine>;
}

export const actorKinds: Record<string, ActorKind> = {
  session: { category: 'session', machine: sessionMachine, version: SESSION_MACHINE_VERSION, earlier: new Map() },
  agent: { category: 'agent', machine: agentMachine, version: AGENT_MACHINE_VERSION, earlier: new Map([[AGENT_MACHINE_REVISION_11, agentMachineRevision11], [AGENT_MACHINE_REVISION_10, agentMachineRevision11], [AGENT_MACHINE_REVISION_9, agentMachineRevision9]]) },
  transition: { category: 'transition', machine: transitionMachine, version: TRANSITION_MACHINE_VERSION, earlier: new Map() },
  market: { category: 'market', machine: marketMachine, version: MARKET_MACHINE_VERSION, earlier: new Map() },
};

export function actorKindOf(streamId: string): ActorKind {
  const kind = actorKinds[streamCategory(streamId)];
  if (!kind) throw new Error(`Stream "${streamId}" is not an actor stream; actor streams are ${Object.keys(actorKinds).map((k) => `${k}-<id>`).join(', ')}`);
  return kind;
}

/** `session-<id>` → id; `agent-<sessionId>.<role>.<n>` and `transition-<sessionId>.<n>` → sessionId. */
export function sessionIdOf(streamId: string): string {
  const rest = streamId.slice(streamId.indexOf('-') + 1);
  return streamCategory(streamId) === 'session' ? rest : rest.split('.')[0]!;
}
