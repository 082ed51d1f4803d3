import { assign, emit, enqueueActions, setup } from 'xstate';
import type { AgentConfig, EventData, MachineEvent } from '../src/events/catalogue.ts';
import type { Effect } from './effects.ts';
import { machineVersion } from './machineVersion.ts';
import { transitionStreamFor } from './transitionMachine.ts';

export type SessionEvent = MachineEvent<
  'session.started' | 'query.received' | 'triage.decided' | 'priority.assigned' | 'budget.estimated' | 'agent.answered' |
  'agent.failed' | 'message.sent' | 'turn.completed' | 'session.closed' | 'context.thresholdCrossed' | 'transition.completed' |
  'transition.failed'
>;

type ContextLevel = EventData<'context.thresholdCrossed'>['level'];
const LEVELS: readonly ContextLevel[] = ['collective', 'warning', 'checkpoint', 'handoff'];
const rank = (level: ContextLevel) => LEVELS.indexOf(level);

/** An agent's newest report of its context window filling up. */
export interface ContextPressure {
  role: string;
  agentStream: string;
  level: ContextLevel;
  percent: number;
  turn: number;
}

type Query = { text: string; region: string; purpose: string };
export type TurnMode = 'express' | 'council' | 'emergency';

export interface TurnOutcome {
  turn: number;
  query: string;
  status: 'answered' | 'failed';
  mode: TurnMode;
  text: string;
  /** The agent whose answer is the turn's: the express agent, or the council's synthesiser. */
  agentStream: string;
  model: string | null;
  /** Tokens every agent of the turn used. */
  tokens: number;
}

/** A council role's answer (or failure) for the turn, as the synthesiser is given it. */
export interface Contribution {
  role: string;
  agentStream: string;
  status: 'answered' | 'failed';
  text: string;
  tokens: number;
}

export interface SessionContext {
  sessionId: string;
  agent: AgentConfig | null;
  /** The session's token budget: the pool each turn's budget is drawn from. */
  budgetTokens: number;
  /** The turn being worked on, or the next turn's number when ready. */
  turn: number;
  /** Queries received so far: the n-th query received is turn n - 1. */
  received: number;
  current: Query | null;
  /** Queries that arrived while a turn was running; served in order. */
  queued: Query[];
  mode: TurnMode | null;
  /** The roles triage chose for the current turn (the synthesiser not included), and its confidence. */
  roles: string[];
  confidence: number | null;
  /** The current turn's priority (`priority.assigned`) and budget (`budget.estimated`). */
  priority: number | null;
  turnBudget: number | null;
  /** The council's answers so far this turn. */
  contributions: Contribution[];
  /** Agent streams by role, so a later turn reuses the instance that holds the conversation. */
  agents: Record<string, string>;
  /**
   * The newest RECENT_OUTCOMES turns' outcomes, oldest first. Older ones stay in the log (each turn's
   * `turn.completed` and the answers before it), not in the context: a context that kept every answer would make a
   * long session's every snapshot and checkpoint grow without bound. `turn` counts the turns finished.
   */
  recentOutcomes: TurnOutcome[];
  /** Turns finished by status, over the whole session. */
  answered: number;
  failed: number;
  /** Agents whose context windows are filling, newest report per agent; cleared by a hand-off. */
  pressure: ContextPressure[];
  /** Hand-offs started so far (numbers the transition streams), and the one running. */
  transitions: number;
  transition: string | null;
}

/** Enough for a caller to find its turn's outcome: a session finishes at most one turn per recorded fact. */
export const RECENT_OUTCOMES = 2;
export const EXPRESS_ROLE = 'express';
/** The council role that merges the others' answers into the turn's answer. */
export const SYNTHESISER_ROLE = 'synthesiser';

export function agentStreamFor(sessionId: string, role: string, instance: number): string {
  return `agent-${sessionId}.${role}.${instance}`;
}

const initialContext: SessionContext = {
  sessionId: '', agent: null, budgetTokens: 0, turn: 0, received: 0, current: null, queued: [], mode: null, roles: [], confidence: null,
  priority: null, turnBudget: null, contributions: [], agents: {}, recentOutcomes: [], answered: 0, failed: 0,
  pressure: [], transitions: 0, transition: null,
};

type Protocol = EventData<'transition.requested'>['protocol'];

/**
 * Whether, between turns, some agents should hand their work to fresh instances, and how: any agent past the
 * hand-off threshold → an emergency hand-off of those; two or more agents past the collective threshold in the
 * turn just finished → one coordinated hand-off of all of them (the founding design's "synchronised depletion");
 * one agent past the checkpoint threshold → a graceful hand-off. Only the instances the session still uses count.
 */
export function handOffPlan(context: SessionContext): { protocol: Protocol; pressure: ContextPressure[]; reason: string } | null {
  const current = context.pressure.filter((p) => context.agents[p.role] === p.agentStream);
  const describe = (ps: ContextPressure[]) => ps.map((p) => `${p.role} at ${p.percent} %`).join(', ');
  const full = current.filter((p) => p.level === 'handoff');
  if (full.length > 0) return { protocol: 'emergency', pressure: full, reason: `context window nearly full: ${describe(full)}` };
  const together = current.filter((p) => p.turn === context.turn - 1 && rank(p.level) >= rank('collective'));
  if (together.length >= 2) return { protocol: 'coordinated', pressure: together, reason: `${together.length} agents running out of context in the same turn: ${describe(together)}` };
  const planned = current.filter((p) => rank(p.level) >= rank('checkpoint'));
  if (planned.length === 1) return { protocol: 'graceful', pressure: planned, reason: `planned before the window fills: ${describe(planned)}` };
  if (planned.length > 1) return { protocol: 'coordinated', pressure: planned, reason: `planned before the windows fill: ${describe(planned)}` };
  return null;
}

/** `agent-<session>.<role>.<n>` → n + 1: the next instance of the role. */
function nextInstance(agentStream: string): number {
  return Number(agentStream.slice(agentStream.lastIndexOf('.') + 1)) + 1;
}

type AnswerEvent = Extract<SessionEvent, { type: 'agent.answered' | 'agent.failed' }>;

function isAnswer(event: SessionEvent): event is AnswerEvent {
  return event.type === 'agent.answered' || event.type === 'agent.failed';
}

/** Each working role's share of the turn's budget; the synthesiser counts as one role. */
function quotaShare(context: SessionContext, roles: number): number {
  return Math.floor((context.turnBudget ?? 0) / roles);
}

function tokensOf(event: AnswerEvent): number {
  return event.type === 'agent.answered' ? event.usage.inputTokens + event.usage.outputTokens : 0;
}

function agentOf(context: SessionContext, role: string): string {
  return context.agents[role] ?? agentStreamFor(context.sessionId, role, 0);
}

/**
 * A session: takes queries (text, region, purpose) one turn at a time. Each turn is triaged (the runtime records
 * the decision, the priority and the budget as facts), then answered by one agent (express) or by a council of
 * roles working in parallel whose answers a synthesiser merges (council, and emergency: a council of the roles the
 * declared emergency calls for, with a larger budget). The outcome is recorded as `turn.completed`.
 */
export const sessionMachine = setup({
  types: { context: {} as SessionContext, events: {} as SessionEvent, emitted: {} as Effect },
  guards: {
    isCurrentTurn: ({ context, event }) => isAnswer(event) && event.turn === context.turn,
    hasQueuedQuery: ({ context }) => context.queued.length > 0,
    isExpressTurn: ({ context }) => context.mode === 'express',
    isPendingContribution: ({ context, event }) => isAnswer(event) && event.turn === context.turn
      && context.roles.some((role) => agentOf(context, role) === event.agentStream)
      && !context.contributions.some((c) => c.agentStream === event.agentStream),
    councilHeard: ({ context }) => context.contributions.length === context.roles.length,
    councilAnswered: ({ context }) => context.contributions.some((c) => c.status === 'answered'),
    needsHandOff: ({ context }) => handOffPlan(context) !== null,
    isCurrentTransition: ({ context, event }) => (event.type === 'transition.completed' || event.type === 'transition.failed') && event.transitionId === context.transition,
    isSynthesis: ({ context, event }) => isAnswer(event) && event.turn === context.turn && event.agentStream === agentOf(context, SYNTHESISER_ROLE),
  },
  actions: {
    configure: assign(({ event }) => (event.type === 'session.started' ? { sessionId: event.sessionId, agent: event.agent, budgetTokens: event.budgetTokens } : {})),
    beginTurn: assign(({ context, event }) => (event.type === 'query.received' ? { current: { text: event.text, region: event.region, purpose: event.purpose }, received: context.received + 1 } : {})),
    beginQueuedTurn: assign(({ context }) => ({ current: context.queued[0]!, queued: context.queued.slice(1) })),
    queueQuery: assign(({ context, event }) => (event.type === 'query.received'
      ? { queued: [...context.queued, { text: event.text, region: event.region, purpose: event.purpose }], received: context.received + 1 }
      : {})),
    requestTriage: emit(({ context }) => ({ type: 'triage.request' as const, turn: context.turn, query: context.current! })),
    adoptTriage: assign(({ event }) => (event.type === 'triage.decided'
      ? { mode: event.decision.mode, roles: event.decision.mode === 'express' ? [EXPRESS_ROLE] : event.decision.roles, confidence: event.decision.confidence, contributions: [] }
      : {})),
    adoptPriority: assign(({ event }) => (event.type === 'priority.assigned' ? { priority: event.priority.priority } : {})),
    adoptBudget: assign(({ event }) => (event.type === 'budget.estimated' ? { turnBudget: event.allocated ?? event.total } : {})),
    dispatchToExpressAgent: enqueueActions(({ context, enqueue }) => {
      const agents = assignAgents(context, [EXPRESS_ROLE], enqueue.emit);
      enqueue.assign({ agents });
      enqueue.emit(task({ ...context, agents }, EXPRESS_ROLE, quotaShare(context, 1)));
    }),
    dispatchToCouncil: enqueueActions(({ context, enqueue }) => {
      const agents = assignAgents(context, context.roles, enqueue.emit);
      enqueue.assign({ agents });
      // The synthesiser works after the others, on its own share; it is assigned when its task is sent.
      for (const role of context.roles) enqueue.emit(task({ ...context, agents }, role, quotaShare(context, context.roles.length + 1)));
    }),
    collectContribution: assign(({ context, event }) => {
      if (!isAnswer(event)) return {};
      const role = context.roles.find((r) => agentOf(context, r) === event.agentStream)!;
      const contribution: Contribution = event.type === 'agent.answered'
        ? { role, agentStream: event.agentStream, status: 'answered', text: event.text, tokens: tokensOf(event) }
        : { role, agentStream: event.agentStream, status: 'failed', text: event.reason, tokens: 0 };
      return { contributions: [...context.contributions, contribution] };
    }),
    dispatchToSynthesiser: enqueueActions(({ context, enqueue }) => {
      const agents = assignAgents(context, [SYNTHESISER_ROLE], enqueue.emit);
      enqueue.assign({ agents });
      const contributions = context.contributions.map(({ role, agentStream, status, text }) => ({ role, agentStream, status, text }));
      enqueue.emit(task({ ...context, agents }, SYNTHESISER_ROLE, quotaShare(context, context.roles.length + 1), contributions));
    }),
    completeTurn: enqueueActions(({ context, event, enqueue }) => {
      if (!isAnswer(event)) return;
      const council = context.contributions.reduce((sum, c) => sum + c.tokens, 0);
      const outcome: TurnOutcome = event.type === 'agent.answered'
        ? { turn: event.turn, query: context.current!.text, status: 'answered', mode: context.mode!, text: event.text, agentStream: event.agentStream, model: event.model, tokens: council + tokensOf(event) }
        : { turn: event.turn, query: context.current!.text, status: 'failed', mode: context.mode!, text: event.reason, agentStream: event.agentStream, model: null, tokens: council };
      finishTurn(context, outcome, enqueue);
    }),
    recordPressure: assign(({ context, event }) => {
      if (event.type !== 'context.thresholdCrossed') return {};
      const report: ContextPressure = { role: event.role, agentStream: event.agentStream, level: event.level, percent: event.percent, turn: event.turn };
      return { pressure: [...context.pressure.filter((p) => p.agentStream !== event.agentStream), report] };
    }),
    requestTransition: enqueueActions(({ context, enqueue }) => {
      const plan = handOffPlan(context)!;
      const stream = transitionStreamFor(context.sessionId, context.transitions);
      const participants = plan.pressure.map((p) => {
        const instance = nextInstance(p.agentStream);
        return { role: p.role, fromAgent: p.agentStream, toAgent: agentStreamFor(context.sessionId, p.role, instance), instance };
      });
      const requested: EventData<'transition.requested'> = {
        transitionId: stream, transitionStream: stream, sessionId: context.sessionId, sessionStream: `session-${context.sessionId}`,
        protocol: plan.protocol, reason: plan.reason, participants, config: context.agent!,
      };
      enqueue.assign({ transitions: context.transitions + 1, transition: stream });
      enqueue.emit({ type: 'message.send', to: stream, messageType: 'transition.requested', data: requested });
    }),
    adoptSuccessors: assign(({ context, event }) => {
      if (event.type !== 'transition.completed') return {};
      const agents = { ...context.agents };
      for (const p of event.participants) agents[p.role] = p.toAgent;
      const handed = new Set(event.participants.map((p) => p.fromAgent));
      return { agents, transition: null, pressure: context.pressure.filter((p) => !handed.has(p.agentStream)) };
    }),
    /** The old instances keep the work; their reports are dropped, so the same hand-off is not retried at once. */
    keepInstances: assign(({ context, event }) => {
      if (event.type !== 'transition.failed') return {};
      const kept = new Set(event.participants.map((p) => p.fromAgent));
      return { transition: null, pressure: context.pressure.filter((p) => !kept.has(p.agentStream)) };
    }),
    failCouncil: enqueueActions(({ context, enqueue }) => {
      const reasons = context.contributions.map((c) => `${c.role}: ${c.text}`).join('; ');
      finishTurn(context, {
        turn: context.turn, query: context.current!.text, status: 'failed', mode: context.mode!, text: `every council role failed (${reasons})`,
        agentStream: context.contributions[0]?.agentStream ?? agentOf(context, context.roles[0]!), model: null, tokens: 0,
      }, enqueue);
    }),
  },
}).createMachine({
  id: 'session',
  context: initialContext,
  initial: 'new',
  // Agents report their context windows whenever they answer; the session acts on it between turns.
  on: { 'context.thresholdCrossed': { actions: 'recordPressure' } },
  states: {
    new: { on: { 'session.started': { target: 'ready', actions: 'configure' } } },
    ready: {
      always: [
        { guard: 'needsHandOff', target: 'handingOff' },
        { guard: 'hasQueuedQuery', target: 'turn', actions: 'beginQueuedTurn' },
      ],
      on: {
        'query.received': { target: 'turn', actions: 'beginTurn' },
        'session.closed': 'closed',
      },
    },
    turn: {
      initial: 'triaging',
      on: { 'query.received': { actions: 'queueQuery' } },
      states: {
        // The runtime answers the request in the same write: decision, then priority, then budget.
        triaging: {
          entry: 'requestTriage',
          on: {
            'triage.decided': { actions: 'adoptTriage' },
            'priority.assigned': { actions: 'adoptPriority' },
            'budget.estimated': [
              { guard: 'isExpressTurn', target: 'express', actions: 'adoptBudget' },
              { target: 'council', actions: 'adoptBudget' },
            ],
          },
        },
        express: {
          entry: 'dispatchToExpressAgent',
          on: {
            'agent.answered': { guard: 'isCurrentTurn', target: '#session.ready', actions: 'completeTurn' },
            'agent.failed': { guard: 'isCurrentTurn', target: '#session.ready', actions: 'completeTurn' },
          },
        },
        council: {
          initial: 'deliberating',
          states: {
            deliberating: {
              entry: 'dispatchToCouncil',
              always: [
                { guard: 'councilHeard', target: 'weighing' },
              ],
              on: {
                'agent.answered': { guard: 'isPendingContribution', actions: 'collectContribution' },
                'agent.failed': { guard: 'isPendingContribution', actions: 'collectContribution' },
              },
            },
            weighing: {
              always: [
                { guard: 'councilAnswered', target: 'synthesising' },
                { target: '#session.ready', actions: 'failCouncil' },
              ],
            },
            synthesising: {
              entry: 'dispatchToSynthesiser',
              on: {
                'agent.answered': { guard: 'isSynthesis', target: '#session.ready', actions: 'completeTurn' },
                'agent.failed': { guard: 'isSynthesis', target: '#session.ready', actions: 'completeTurn' },
              },
            },
          },
        },
      },
    },
    // A hand-off runs between turns: queries that arrive meanwhile wait for the fresh instances.
    handingOff: {
      entry: 'requestTransition',
      on: {
        'query.received': { actions: 'queueQuery' },
        'transition.completed': { guard: 'isCurrentTransition', target: 'ready', actions: 'adoptSuccessors' },
        'transition.failed': { guard: 'isCurrentTransition', target: 'ready', actions: 'keepInstances' },
      },
    },
    closed: { type: 'final' },
  },
});

type Emit = (effect: Effect) => void;

/** Assigns each role without an agent yet a fresh instance (instance 0); returns the roles' agents. */
function assignAgents(context: SessionContext, roles: readonly string[], emitEffect: Emit): Record<string, string> {
  const agents = { ...context.agents };
  for (const role of roles) {
    if (agents[role] !== undefined) continue;
    const agentStream = agentStreamFor(context.sessionId, role, 0);
    agents[role] = agentStream;
    const assigned: EventData<'agent.assigned'> = {
      sessionId: context.sessionId, sessionStream: `session-${context.sessionId}`, agentStream, role, instance: 0, config: context.agent!, quotaTokens: 0,
    };
    emitEffect({ type: 'message.send', to: agentStream, messageType: 'agent.assigned', data: assigned });
  }
  return agents;
}

function task(context: SessionContext, role: string, quotaTokens: number, contributions?: EventData<'task.assigned'>['contributions']): Effect {
  const { text, region, purpose } = context.current!;
  const data: EventData<'task.assigned'> = { turn: context.turn, query: text, region, purpose, quotaTokens, ...(contributions ? { contributions } : {}) };
  return { type: 'message.send', to: context.agents[role]!, messageType: 'task.assigned', data };
}

/** Records the outcome, asks the runtime to record `turn.completed`, and gets ready for the next turn. */
function finishTurn(context: SessionContext, outcome: TurnOutcome, enqueue: { assign: (values: Partial<SessionContext>) => void; emit: Emit }): void {
  const roles = context.mode === 'express' ? [EXPRESS_ROLE] : [...context.roles, ...(context.contributions.some((c) => c.status === 'answered') ? [SYNTHESISER_ROLE] : [])];
  enqueue.emit({ type: 'turn.complete', turn: context.turn, status: outcome.status, mode: outcome.mode, agents: roles.map((role) => agentOf(context, role)) });
  enqueue.assign({
    recentOutcomes: [...context.recentOutcomes.slice(-(RECENT_OUTCOMES - 1)), outcome],
    answered: context.answered + (outcome.status === 'answered' ? 1 : 0),
    failed: context.failed + (outcome.status === 'failed' ? 1 : 0),
    turn: context.turn + 1, current: null, mode: null, roles: [], confidence: null, priority: null, turnBudget: null, contributions: [],
  });
}

export const SESSION_MACHINE_VERSION = machineVersion(sessionMachine, 9);
