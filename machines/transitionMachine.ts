import { assign, emit, enqueueActions, setup } from 'xstate';
import type { AgentConfig, EventData, MachineEvent } from '../src/events/catalogue.ts';
import type { Effect } from './effects.ts';
import { machineVersion } from './machineVersion.ts';

export type TransitionEvent = MachineEvent<
  'transition.requested' | 'transition.ready' | 'transition.notReady' | 'transition.validated' | 'timer.started' | 'timer.fired' |
  'timer.cancelled' | 'message.sent'
>;

type Participant = EventData<'transition.requested'>['participants'][number];
type Protocol = EventData<'transition.requested'>['protocol'];

export interface TransitionContext {
  transitionId: string;
  transitionStream: string;
  sessionId: string;
  sessionStream: string;
  protocol: Protocol | null;
  reason: string;
  participants: Participant[];
  config: AgentConfig | null;
  /** Old instances that confirmed they are ready to hand over. */
  ready: string[];
  /** New instances' checks of what they were handed. */
  validated: { agentStream: string; ok: boolean; problems: string[] }[];
  failure: string | null;
  timers: Record<string, string>;
}

export const READINESS_TIMER = 'readiness';
/** How long coordination waits for readiness when the session's config does not say (ms). */
export const DEFAULT_READINESS_MS = 5_000;

export function transitionStreamFor(sessionId: string, n: number): string {
  return `transition-${sessionId}.${n}`;
}

const initialContext: TransitionContext = {
  transitionId: '', transitionStream: '', sessionId: '', sessionStream: '', protocol: null, reason: '', participants: [], config: null,
  ready: [], validated: [], failure: null, timers: {},
};

function summary(context: TransitionContext) {
  return { transitionId: context.transitionId, protocol: context.protocol!, participants: context.participants };
}

/**
 * A hand-off of one or more agents' work to fresh instances (ARCHITECTURE.md §5): preparing → coordinating (each
 * old instance confirms it is ready, within a timeout; no consensus → failed) → transferring (each new instance is
 * assigned with the transfer summary from the tiered session state) → validating (same session, same role, the
 * essential hot context in the new instance's prompt) → complete (old instances retired) | failed (the old
 * instances keep the work). The emergency protocol skips coordination: the window is full, there is no time to ask.
 */
export const transitionMachine = setup({
  types: { context: {} as TransitionContext, events: {} as TransitionEvent, emitted: {} as Effect },
  guards: {
    isEmergency: ({ event }) => event.type === 'transition.requested' && event.protocol === 'emergency',
    isPendingReadiness: ({ context, event }) => (event.type === 'transition.ready' || event.type === 'transition.notReady')
      && event.transitionId === context.transitionId && context.participants.some((p) => p.fromAgent === event.agentStream) && !context.ready.includes(event.agentStream),
    allReady: ({ context }) => context.participants.every((p) => context.ready.includes(p.fromAgent)),
    isReadinessTimeout: ({ context, event }) => event.type === 'timer.fired' && context.timers[READINESS_TIMER] === event.timerId,
    isPendingValidation: ({ context, event }) => event.type === 'transition.validated' && event.transitionId === context.transitionId
      && context.participants.some((p) => p.toAgent === event.agentStream) && !context.validated.some((v) => v.agentStream === event.agentStream),
    validationPassed: ({ context }) => context.validated.length === context.participants.length && context.validated.every((v) => v.ok),
    validationFailed: ({ context }) => context.validated.length === context.participants.length && context.validated.some((v) => !v.ok),
  },
  actions: {
    adopt: assign(({ event }) => {
      if (event.type !== 'transition.requested') return {};
      return {
        transitionId: event.transitionId, transitionStream: event.transitionStream,
        sessionId: event.sessionId, sessionStream: event.sessionStream, protocol: event.protocol, reason: event.reason,
        participants: event.participants, config: event.config,
      };
    }),
    askReadiness: enqueueActions(({ context, enqueue }) => {
      for (const p of context.participants) {
        const data: EventData<'transition.readinessRequested'> = { transitionId: context.transitionId, transitionStream: context.transitionStream };
        enqueue.emit({ type: 'message.send', to: p.fromAgent, messageType: 'transition.readinessRequested', data });
      }
      enqueue.emit({ type: 'timer.start', key: READINESS_TIMER, delayMs: context.config?.handoffReadinessMs ?? DEFAULT_READINESS_MS });
    }),
    recordReady: assign(({ context, event }) => (event.type === 'transition.ready' ? { ready: [...context.ready, event.agentStream] } : {})),
    refuse: assign(({ event }) => (event.type === 'transition.notReady' ? { failure: `${event.agentStream} is not ready: ${event.reason}` } : {})),
    timeOut: assign(({ context }) => {
      const silent = context.participants.filter((p) => !context.ready.includes(p.fromAgent)).map((p) => p.fromAgent);
      const ms = context.config?.handoffReadinessMs ?? DEFAULT_READINESS_MS;
      return { failure: `no consensus: ${silent.join(', ')} did not confirm readiness within ${ms} ms` };
    }),
    cancelReadinessTimer: emit({ type: 'timer.cancel' as const, key: READINESS_TIMER }),
    trackTimerStarted: assign(({ context, event }) => (event.type === 'timer.started' ? { timers: { ...context.timers, [event.key]: event.timerId } } : {})),
    forgetTimer: assign(({ context, event }) => {
      if ((event.type !== 'timer.cancelled' && event.type !== 'timer.fired') || context.timers[event.key] !== event.timerId) return {};
      const { [event.key]: _gone, ...timers } = context.timers;
      return { timers };
    }),
    assignSuccessors: enqueueActions(({ context, enqueue }) => {
      for (const p of context.participants) {
        const data: EventData<'agent.assigned'> = {
          sessionId: context.sessionId, sessionStream: context.sessionStream, agentStream: p.toAgent, role: p.role, instance: p.instance, config: context.config!, quotaTokens: 0,
          // The runtime writes the summary in from the tiered session state as it stands when this is sent.
          transfer: { transitionId: context.transitionId, transitionStream: context.transitionStream, fromAgent: p.fromAgent, summary: '', summaryTokens: 0, hotItems: 0 },
        };
        enqueue.emit({ type: 'message.send', to: p.toAgent, messageType: 'agent.assigned', data });
      }
    }),
    recordValidation: assign(({ context, event }) => {
      if (event.type !== 'transition.validated') return {};
      const participant = context.participants.find((p) => p.toAgent === event.agentStream)!;
      const problems = [...event.problems];
      if (event.sessionId !== context.sessionId) problems.push(`it belongs to session ${event.sessionId}, not ${context.sessionId}`);
      if (event.role !== participant.role) problems.push(`it took the role ${event.role}, not ${participant.role}`);
      return { validated: [...context.validated, { agentStream: event.agentStream, ok: problems.length === 0, problems }] };
    }),
    invalidate: assign(({ context }) => ({
      failure: `validation failed: ${context.validated.filter((v) => !v.ok).map((v) => `${v.agentStream}: ${v.problems.join('; ')}`).join(' | ')}`,
    })),
    complete: enqueueActions(({ context, enqueue }) => {
      for (const p of context.participants) {
        const retired: EventData<'agent.retired'> = { transitionId: context.transitionId, successor: p.toAgent, reason: `${context.protocol} hand-off: ${context.reason}` };
        enqueue.emit({ type: 'message.send', to: p.fromAgent, messageType: 'agent.retired', data: retired });
      }
      const completed: EventData<'transition.completed'> = summary(context);
      enqueue.emit({ type: 'message.send', to: context.sessionStream, messageType: 'transition.completed', data: completed });
    }),
    abandon: enqueueActions(({ context, enqueue }) => {
      // New instances already assigned hold nothing the session relies on: retire them, the old ones keep the work.
      for (const v of context.validated) {
        const retired: EventData<'agent.retired'> = { transitionId: context.transitionId, successor: null, reason: `hand-off failed: ${context.failure}` };
        enqueue.emit({ type: 'message.send', to: v.agentStream, messageType: 'agent.retired', data: retired });
      }
      const failed: EventData<'transition.failed'> = { ...summary(context), reason: context.failure ?? 'unknown' };
      enqueue.emit({ type: 'message.send', to: context.sessionStream, messageType: 'transition.failed', data: failed });
    }),
  },
}).createMachine({
  id: 'transition',
  context: initialContext,
  initial: 'preparing',
  on: {
    'timer.started': { actions: 'trackTimerStarted' },
    'timer.cancelled': { actions: 'forgetTimer' },
  },
  states: {
    preparing: {
      on: {
        'transition.requested': [
          { guard: 'isEmergency', target: 'transferring', actions: 'adopt' },
          { target: 'coordinating', actions: 'adopt' },
        ],
      },
    },
    coordinating: {
      entry: 'askReadiness',
      always: { guard: 'allReady', target: 'transferring', actions: 'cancelReadinessTimer' },
      on: {
        'transition.ready': { guard: 'isPendingReadiness', actions: 'recordReady' },
        'transition.notReady': { guard: 'isPendingReadiness', target: 'failed', actions: ['refuse', 'cancelReadinessTimer'] },
        'timer.fired': { guard: 'isReadinessTimeout', target: 'failed', actions: ['forgetTimer', 'timeOut'] },
      },
    },
    transferring: {
      entry: 'assignSuccessors',
      always: 'validating',
    },
    validating: {
      always: [
        { guard: 'validationPassed', target: 'complete' },
        { guard: 'validationFailed', target: 'failed', actions: 'invalidate' },
      ],
      on: { 'transition.validated': { guard: 'isPendingValidation', actions: 'recordValidation' } },
    },
    // Terminal, not XState-final: the records of the effects their entry requested still arrive after it.
    complete: { entry: 'complete' },
    failed: { entry: 'abandon' },
  },
});

export const TRANSITION_MACHINE_VERSION = machineVersion(transitionMachine, 1);
