import type { AnyStateMachine } from 'xstate';
import { AGENT_MACHINE_VERSION, agentMachine } from '../../machines/agentMachine.ts';
import { SESSION_MACHINE_VERSION, sessionMachine } from '../../machines/sessionMachine.ts';
import { TRANSITION_MACHINE_VERSION, transitionMachine } from '../../machines/transitionMachine.ts';
import { MARKET_MACHINE_VERSION, marketMachine } from '../../machines/marketMachine.ts';
import { streamCategory } from '../events/envelope.ts';

export interface ActorKind {
  /** The stream category: `session-<id>` streams hold session actors. */
  category: string;
  machine: AnyStateMachine;
  version: string;
}

export const actorKinds: Record<string, ActorKind> = {
  session: { category: 'session', machine: sessionMachine, version: SESSION_MACHINE_VERSION },
  agent: { category: 'agent', machine: agentMachine, version: AGENT_MACHINE_VERSION },
  transition: { category: 'transition', machine: transitionMachine, version: TRANSITION_MACHINE_VERSION },
  market: { category: 'market', machine: marketMachine, version: MARKET_MACHINE_VERSION },
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
