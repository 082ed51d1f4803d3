import { assign, enqueueActions, setup } from 'xstate';
import type { AgentConfig, MachineEvent } from '../src/events/catalogue.ts';
import type { Effect } from './effects.ts';
import { machineVersion } from './machineVersion.ts';

export type SessionEvent = MachineEvent<'session.started' | 'query.received' | 'agent.answered' | 'agent.failed' | 'message.sent' | 'session.closed'>;

type Query = { text: string; region: string; purpose: string };

export interface TurnOutcome {
  turn: number;
  query: string;
  status: 'answered' | 'failed';
  text: string;
  agentStream: string;
  model: string | null;
  tokens: number;
}

export interface SessionContext {
  sessionId: string;
  agent: AgentConfig | null;
  /** The session's token budget; the express path gives all of it to its one agent as quota. */
  budgetTokens: number;
  /** The turn being worked on, or the next turn's number when ready. */
  turn: number;
  current: Query | null;
  /** Queries that arrived while a turn was running; served in order. */
  queued: Query[];
  mode: 'express' | null;
  /** Agent streams by role, so a later turn reuses the instance that holds the conversation. */
  agents: Record<string, string>;
  /**
   * The newest RECENT_OUTCOMES turns' outcomes, oldest first. Older ones stay in the log (each turn's
   * `agent.answered`/`agent.failed`), not in the context: a context that kept every answer would make a long
   * session's every snapshot and checkpoint grow without bound. `turn` counts the turns finished.
   */
  recentOutcomes: TurnOutcome[];
  /** Turns finished by status, over the whole session. */
  answered: number;
  failed: number;
}

/** Enough for a caller to find its turn's outcome: a session finishes at most one turn per recorded fact. */
export const RECENT_OUTCOMES = 2;

export function agentStreamFor(sessionId: string, role: string, instance: number): string {
  return `agent-${sessionId}.${role}.${instance}`;
}

const initialContext: SessionContext = { sessionId: '', agent: null, budgetTokens: 0, turn: 0, current: null, queued: [], mode: null, agents: {}, recentOutcomes: [], answered: 0, failed: 0 };

/**
 * A session: takes queries (text, region, purpose) one turn at a time, has each answered and records the outcome.
 * Each turn passes through `triaging`, which today always chooses the express path (one agent); the council and
 * emergency paths slot in beside `express` when triage decides them.
 */
export const sessionMachine = setup({
  types: { context: {} as SessionContext, events: {} as SessionEvent, emitted: {} as Effect },
  guards: {
    isCurrentTurn: ({ context, event }) => (event.type === 'agent.answered' || event.type === 'agent.failed') && event.turn === context.turn,
    hasQueuedQuery: ({ context }) => context.queued.length > 0,
  },
  actions: {
    configure: assign(({ event }) => (event.type === 'session.started' ? { sessionId: event.sessionId, agent: event.agent, budgetTokens: event.budgetTokens } : {})),
    beginTurn: assign(({ event }) => (event.type === 'query.received' ? { current: { text: event.text, region: event.region, purpose: event.purpose } } : {})),
    beginQueuedTurn: assign(({ context }) => ({ current: context.queued[0]!, queued: context.queued.slice(1) })),
    queueQuery: assign(({ context, event }) => (event.type === 'query.received'
      ? { queued: [...context.queued, { text: event.text, region: event.region, purpose: event.purpose }] }
      : {})),
    chooseExpress: assign({ mode: 'express' as const }),
    dispatchToExpressAgent: enqueueActions(({ context, enqueue }) => {
      const role = 'express';
      let agentStream = context.agents[role];
      if (agentStream === undefined) {
        agentStream = agentStreamFor(context.sessionId, role, 0);
        enqueue.assign({ agents: { ...context.agents, [role]: agentStream } });
        enqueue.emit({
          type: 'message.send', to: agentStream, messageType: 'agent.assigned',
          data: { sessionId: context.sessionId, sessionStream: `session-${context.sessionId}`, agentStream, role, instance: 0, config: context.agent!, quotaTokens: context.budgetTokens },
        });
      }
      enqueue.emit({ type: 'message.send', to: agentStream, messageType: 'task.assigned', data: { turn: context.turn, query: context.current!.text, region: context.current!.region, purpose: context.current!.purpose } });
    }),
    completeTurn: assign(({ context, event }) => {
      if (event.type !== 'agent.answered' && event.type !== 'agent.failed') return {};
      const outcome: TurnOutcome = event.type === 'agent.answered'
        ? { turn: event.turn, query: context.current!.text, status: 'answered', text: event.text, agentStream: event.agentStream, model: event.model, tokens: event.usage.inputTokens + event.usage.outputTokens }
        : { turn: event.turn, query: context.current!.text, status: 'failed', text: event.reason, agentStream: event.agentStream, model: null, tokens: 0 };
      return {
        recentOutcomes: [...context.recentOutcomes.slice(-(RECENT_OUTCOMES - 1)), outcome],
        answered: context.answered + (outcome.status === 'answered' ? 1 : 0),
        failed: context.failed + (outcome.status === 'failed' ? 1 : 0),
        turn: context.turn + 1, current: null, mode: null,
      };
    }),
  },
}).createMachine({
  id: 'session',
  context: initialContext,
  initial: 'new',
  states: {
    new: { on: { 'session.started': { target: 'ready', actions: 'configure' } } },
    ready: {
      always: { guard: 'hasQueuedQuery', target: 'turn', actions: 'beginQueuedTurn' },
      on: {
        'query.received': { target: 'turn', actions: 'beginTurn' },
        'session.closed': 'closed',
      },
    },
    turn: {
      initial: 'triaging',
      on: { 'query.received': { actions: 'queueQuery' } },
      states: {
        triaging: { always: { target: 'express', actions: 'chooseExpress' } },
        express: {
          entry: 'dispatchToExpressAgent',
          on: {
            'agent.answered': { guard: 'isCurrentTurn', target: '#session.ready', actions: 'completeTurn' },
            'agent.failed': { guard: 'isCurrentTurn', target: '#session.ready', actions: 'completeTurn' },
          },
        },
      },
    },
    closed: { type: 'final' },
  },
});

export const SESSION_MACHINE_VERSION = machineVersion(sessionMachine, 5);
