/**
 * `chronicle/harness`: drive Chronicle's own runtime and machines from your tests, on an in-memory store with a
 * simulated clock, seeded ids and models scripted per role and turn.
 */
export { createHarness, Harness, UnscriptedCallError, type ProjectionAt } from './harness.ts';
export { HarnessClock, HarnessStalledError } from './harnessClock.ts';
export type { FactInput, HarnessOptions, QueryInput } from './harnessOptions.ts';
export type { EventFilter, PointInput, StateTarget } from './harnessQueries.ts';
export type { ModelCall, ModelScript, RoleScript, ScriptFailure, ScriptHang, ScriptReply, ScriptStep } from './modelScript.ts';
export type { AnsweredCall } from './scriptedModels.ts';
export { expectEvents, EventExpectationError, type EventExpectation } from './expectEvents.ts';
export { ReplayMismatchError, type LiveStep, type LiveSteps } from './liveSteps.ts';
export { pathsOf, type MachinePath, type PathOptions, type PathStep } from './modelPaths.ts';
export { PathDivergenceError, RECORDED_BY_RUNTIME, runPath, type PathRun } from './runPath.ts';
export { firstDifference } from './difference.ts';
// The machines the runtime hosts, and what an events generator for them needs, for `pathsOf`.
export { agentMachine, BREAKER_COOLDOWN, MODEL_TIMEOUT, type AgentContext } from '../../machines/agentMachine.ts';
export { sessionMachine, type SessionContext, type TurnOutcome } from '../../machines/sessionMachine.ts';
export { READINESS_TIMER, transitionMachine, type TransitionContext } from '../../machines/transitionMachine.ts';
