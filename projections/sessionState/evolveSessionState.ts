import type { EventData } from '../../src/events/catalogue.ts';
import type { RecordedEvent } from '../../src/events/envelope.ts';
import { CONTEXT_RULES, TASKS_REMEMBERED, appendNewest, initialSessionState, type SessionState, type SessionStateOptions } from './sessionState.ts';
import { addItem, currentItem, itemText, rebalance, resolveItems, type Step, type TierSink } from './tierMoves.ts';
import { firstSentence, normaliseSpace, questionSentences } from './tokenText.ts';

type Handler = (state: SessionState, event: RecordedEvent, step: Step) => SessionState;

/** `agent-<session>.express.0` as `express.0`: the session is implied, and hot tokens are scarce. */
function agentLabel(state: SessionState, agentStream: string): string {
  const prefix = `agent-${state.sessionId}.`;
  return agentStream.startsWith(prefix) ? agentStream.slice(prefix.length) : agentStream;
}

/** `agent-<session>.<role>.<instance>` → the role. */
function roleOf(agentStream: string): string {
  const parts = agentStream.split('.');
  return parts.length >= 3 ? parts[parts.length - 2]! : agentStream;
}

/**
 * Whether an agent's outcome is the turn's: the express agent's, or the synthesiser's in a council. A council
 * member's answer is a contribution; the turn is not over until the synthesis.
 */
function isTurnAnswer(state: SessionState, turn: number, agentStream: string): boolean {
  return state.councilTurn !== turn || roleOf(agentStream) === 'synthesiser';
}

function setMode(state: SessionState, mode: string, step: Step): SessionState {
  if (state.mode === mode) return state;
  return addItem({ ...state, mode }, { kind: 'mode', text: `Mode: ${mode}`, turn: null }, step);
}

function rolesText(state: SessionState): string {
  if (state.activeRoles.length === 0) return 'Active roles: none';
  return `Active roles: ${state.activeRoles.map((r) => `${r.role} (${agentLabel(state, r.agentStream)})`).join(', ')}`;
}

/** Replaces the roles slot only when its text changes, so re-delivered assignments do not churn the tiers. */
function refreshRoles(state: SessionState, step: Step): SessionState {
  const text = rolesText(state);
  if (currentItem(state, 'roles')?.text === itemText('roles', text, state.budgets)) return state;
  return addItem(state, { kind: 'roles', text, turn: null }, step);
}

/** A role's newest instance is the active one: a hand-off to a fresh instance replaces the old one in place. */
function assignRole(state: SessionState, role: string, agentStream: string, step: Step): SessionState {
  const current = state.activeRoles.find((r) => r.role === role);
  if (current?.agentStream === agentStream) return state;
  const activeRoles = current === undefined
    ? [...state.activeRoles, { role, agentStream }]
    : state.activeRoles.map((r) => (r.role === role ? { role, agentStream } : r));
  return refreshRoles({ ...state, activeRoles }, step);
}

/**
 * A task handed to an agent joins the coordination queue until its turn finishes. The session's `message.sent` and
 * the agent's `task.assigned` are the same task seen from both ends, so the second one seen adds nothing. The text
 * names the turn and the agent, so it identifies the task; the newest tasks' texts are remembered for this (a
 * lookup in a bounded list, where searching every tier would grow with the session).
 */
function taskSent(state: SessionState, turn: number, agentStream: string, step: Step): SessionState {
  const agent = agentLabel(state, agentStream);
  const text = `Turn ${turn}: task sent to ${agent}, awaiting its answer`;
  const shown = itemText('coordination', text, state.budgets);
  if (state.tasksSeen.includes(shown)) return state;
  const seen = { ...state, tasksSeen: appendNewest(state.tasksSeen, shown, TASKS_REMEMBERED) };
  return addItem(seen, { kind: 'coordination', text, brief: `Turn ${turn}: awaiting ${agent}`, turn }, step);
}

/**
 * Whether an outcome is for the turn being worked on. The session machine serves queries in order and ignores an
 * outcome for any other turn (its `isCurrentTurn` guard); so does the fold, or a late duplicate would be a decision.
 */
function isCurrentTurn(state: SessionState, turn: number): boolean {
  return turn === state.turns.finished && turn < state.turns.received;
}

function finishTurn(state: SessionState, turn: number): SessionState {
  return { ...state, turns: { ...state.turns, finished: turn + 1 } };
}

function stringField(data: Record<string, unknown>, key: string): string | null {
  const value = data[key];
  return typeof value === 'string' && value !== '' ? value : null;
}

/**
 * What each event type contributes. A type not listed is ignored, so new event types (hand-offs, budgets) change
 * nothing until a handler for them is added here; the store config is generated from the same table.
 */
const handlers = {
  'session.started': (state, event, step) => {
    const { sessionId, agent, contextRules } = event.data as EventData<'session.started'>;
    const fallback = agent.fallbackModel === null ? '' : `, fallback ${agent.fallbackModel}`;
    const ruled: SessionState = contextRules === CONTEXT_RULES ? { ...state, contextRules: CONTEXT_RULES } : state;
    return addItem(ruled, { kind: 'session', text: `Session ${sessionId} started with model ${agent.model}${fallback}; context window ${agent.contextWindow} tokens`, turn: null }, step);
  },

  'query.received': (state, event, step) => {
    const { text, region, purpose } = event.data as EventData<'query.received'>;
    // Queries are served in arrival order, so the n-th query received is turn n (as in the session machine).
    const turn = state.turns.received;
    let next: SessionState = { ...state, turns: { ...state.turns, received: turn + 1 } };
    // The first query's focus, about to be superseded, stays on as the session's subject (rules 2).
    const opening = turn === 1 && state.contextRules === CONTEXT_RULES ? state.hot.find((i) => i.kind === 'focus' && i.turn === 0) : undefined;
    if (opening !== undefined) next = addItem(next, { kind: 'subject', text: opening.text.replace(/^Focus \(turn 0\)/, 'Subject (turn 0)'), turn: 0 }, step);
    next = addItem(next, { kind: 'query', text: `Turn ${turn} query (${region}, ${purpose}): ${text}`, turn }, step);
    next = addItem(next, { kind: 'focus', text: `Focus (turn ${turn}): ${normaliseSpace(text)}`, turn }, step);
    // Until triage records otherwise, every turn takes the express path (the session machine's only path today).
    if (next.mode === null) next = setMode(next, 'express', step);
    questionSentences(text).forEach((question, part) => {
      next = addItem(next, { kind: 'question', text: `Open question (turn ${turn}): ${question}`, turn, part }, step);
    });
    return next;
  },

  'triage.decided': (state, event, step) => {
    const { turn, decision } = event.data as EventData<'triage.decided'>;
    const roles = decision.mode === 'express' ? '' : ` with ${decision.roles.join(', ')} and a synthesiser`;
    const choice = `Turn ${turn} triage: ${decision.mode}${roles} (complexity ${decision.complexity}, confidence ${decision.confidence})`;
    const emergency = decision.emergency === null ? '' : `; ${decision.emergency.kind} emergency in ${decision.emergency.region}`;
    const councilTurn = decision.mode === 'express' ? null : turn;
    return addItem(setMode({ ...state, councilTurn }, decision.mode, step), { kind: 'decision', text: `${choice}${emergency}`, brief: `Turn ${turn}: ${decision.mode}${emergency}`, turn }, step);
  },

  'message.sent': (state, event, step) => {
    const { to, messageType, data } = event.data as EventData<'message.sent'>;
    if (messageType === 'agent.assigned') {
      const role = stringField(data, 'role');
      return role === null ? state : assignRole(state, role, stringField(data, 'agentStream') ?? to, step);
    }
    if (messageType === 'task.assigned' && typeof data.turn === 'number') return taskSent(state, data.turn, to, step);
    // Other messages (an agent's answer to its session) arrive as their own facts and are folded there.
    return state;
  },

  'agent.assigned': (state, event, step) => {
    const { role, agentStream } = event.data as EventData<'agent.assigned'>;
    return assignRole(state, role, agentStream, step);
  },

  'task.assigned': (state, event, step) => taskSent(state, (event.data as EventData<'task.assigned'>).turn, event.streamId, step),

  'agent.answered': (state, event, step) => {
    const { turn, agentStream, text, model, attempts } = event.data as EventData<'agent.answered'>;
    if (!isCurrentTurn(state, turn)) return state;
    const agent = agentLabel(state, agentStream);
    const gist = firstSentence(text) || '(empty answer)';
    const lead = `Turn ${turn} answer from ${agent} (${model}): `;
    if (!isTurnAnswer(state, turn, agentStream)) {
      // A council member's answer: kept whole in cold, noted in warm; the turn goes on to its synthesis.
      const next = resolveItems(state, (i) => i.turn === turn && i.kind === 'coordination' && i.text.includes(` ${agent},`), step);
      const kept = addItem(next, { kind: 'answer', text: `${lead}${text}`, quote: { lead, quoted: text }, turn }, step);
      return addItem(kept, { kind: 'decision', text: `Turn ${turn} contribution from ${agent} (${model}): ${gist}`, brief: `Turn ${turn}: ${roleOf(agentStream)} contributed`, turn }, step);
    }
    let next = resolveItems(finishTurn({ ...state, councilTurn: null }, turn), (i) => i.turn === turn && (i.kind === 'question' || i.kind === 'coordination'), step);
    next = addItem(next, { kind: 'answer', text: `${lead}${text}`, quote: { lead, quoted: text }, turn }, step);
    const tries = attempts > 1 ? `, ${attempts} attempts` : '';
    return addItem(next, { kind: 'decision', text: `Turn ${turn} answered by ${agent} (${model}${tries}): ${gist}`, brief: `Turn ${turn}: ${gist}`, turn }, step);
  },

  'agent.failed': (state, event, step) => {
    const { turn, agentStream, reason, attempts } = event.data as EventData<'agent.failed'>;
    if (!isCurrentTurn(state, turn)) return state;
    const why = normaliseSpace(reason);
    const text = `Turn ${turn} failed at ${agentLabel(state, agentStream)} after ${attempts} attempt${attempts === 1 ? '' : 's'}: ${why}`;
    if (!isTurnAnswer(state, turn, agentStream)) {
      // One council member failed; the others (and the synthesiser) may still answer the turn.
      const next = resolveItems(state, (i) => i.turn === turn && i.kind === 'coordination' && i.text.includes(` ${agentLabel(state, agentStream)},`), step);
      return addItem(next, { kind: 'decision', text, brief: `Turn ${turn}: ${roleOf(agentStream)} failed`, turn }, step);
    }
    // The task is over but its questions were not answered: they stay open.
    const next = resolveItems(finishTurn({ ...state, councilTurn: null }, turn), (i) => i.turn === turn && i.kind === 'coordination', step);
    return addItem(next, { kind: 'decision', text, brief: `Turn ${turn} failed: ${why}`, turn }, step);
  },

  'turn.completed': (state, event, step) => {
    // A council whose every member failed ends without a synthesis: the turn is over all the same.
    const { turn, status, mode } = event.data as EventData<'turn.completed'>;
    if (!isCurrentTurn(state, turn)) return state;
    const next = resolveItems(finishTurn({ ...state, councilTurn: null }, turn), (i) => i.turn === turn && i.kind === 'coordination', step);
    return addItem(next, { kind: 'decision', text: `Turn ${turn} ${status} (${mode}) without a synthesis: every council member failed`, turn }, step);
  },

  'context.thresholdCrossed': (state, event, step) => {
    const { agentStream, level, percent, tokens, window, turn } = event.data as EventData<'context.thresholdCrossed'>;
    const agent = agentLabel(state, agentStream);
    return addItem(state, { kind: 'decision', text: `${agent} holds ${tokens} of ${window} context tokens (${percent} %): ${level} threshold crossed`, brief: `${agent} context ${percent} % (${level})`, turn }, step);
  },

  'transition.completed': (state, event, step) => {
    const { protocol, participants } = event.data as EventData<'transition.completed'>;
    const moves = participants.map((p) => `${agentLabel(state, p.fromAgent)} → ${agentLabel(state, p.toAgent)}`).join(', ');
    return addItem(state, { kind: 'decision', text: `Hand-off (${protocol}) completed: ${moves}`, turn: null }, step);
  },

  'transition.failed': (state, event, step) => {
    const { protocol, participants, reason } = event.data as EventData<'transition.failed'>;
    const kept = participants.map((p) => agentLabel(state, p.fromAgent)).join(', ');
    return addItem(state, { kind: 'decision', text: `Hand-off (${protocol}) failed, ${kept} keep${participants.length === 1 ? 's' : ''} the work: ${normaliseSpace(reason)}`, brief: `Hand-off (${protocol}) failed`, turn: null }, step);
  },

  'session.closed': (state, event, step) => {
    const { reason } = event.data as EventData<'session.closed'>;
    let next = resolveItems(state, (i) => i.kind === 'coordination', step);
    next = refreshRoles({ ...next, activeRoles: [] }, step);
    return addItem(next, { kind: 'decision', text: `Session closed: ${normaliseSpace(reason)}`, turn: null }, step);
  },
} satisfies Record<string, Handler>;

export type SessionStateEventType = keyof typeof handlers;

/** The event types the fold reads; every other type leaves the state as it is. */
export const sessionStateEventTypes = Object.keys(handlers) as SessionStateEventType[];

function isHandled(type: string): type is SessionStateEventType {
  return Object.hasOwn(handlers, type);
}

/**
 * Folds one event of the session (any of its actors' streams, given in global position order). Pure: the result
 * depends only on the state and the event. Events of another session, and events at or before the last position
 * applied (a re-delivery), are ignored; after each applied event the tiers are brought back within budget.
 */
export function evolveSessionState(state: SessionState, event: RecordedEvent): SessionState {
  return stepSessionState(state, event, null);
}

/**
 * `evolveSessionState` with a collector: `sink` sees each item that reaches cold and each move this event makes,
 * which the state itself only counts. The state returned is the same with or without one.
 */
export function stepSessionState(state: SessionState, event: RecordedEvent, sink: TierSink | null): SessionState {
  const type = event.type;
  if (!isHandled(type)) return state;
  if (state.sessionId !== null && event.metadata.sessionId !== state.sessionId) return state;
  if (state.position !== null && event.position <= BigInt(state.position)) return state;
  const step: Step = { position: String(event.position), sink };
  const named = state.sessionId === null ? { ...state, sessionId: event.metadata.sessionId } : state;
  const next = handlers[type](named, event, step);
  return rebalance({ ...next, position: step.position }, step);
}

/** Folds a session's events from the initial state. */
export function foldSessionState(events: Iterable<RecordedEvent>, options: SessionStateOptions = {}): SessionState {
  let state = initialSessionState(options);
  for (const event of events) state = evolveSessionState(state, event);
  return state;
}
