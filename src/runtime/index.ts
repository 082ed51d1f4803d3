// The runtime as a library: host sessions, ask them, and read any session back as of any point.
export { ActorRuntime, RuntimeStoppedError, SessionAlreadyStartedError, SessionFencedError, SessionReleasedError, type RuntimeOptions } from './actorRuntime.ts';
export { systemClock, SimulatedClock, type Clock } from './clock.ts';
export { randomIds, seededIds, timeOrderedIds, type IdSource } from './ids.ts';
export { modelResolver } from './modelResolver.ts';
export { assertPointInTime, parsePointInTime, PointInTimeError, type PointInTime } from './pointInTime.ts';
export { consistentCut, type ConsistentPoint } from './consistentCut.ts';
export { replaySession, replayStream, type ActorStateAt } from './replay.ts';
export { resumeUnfinishedSessions, type ResumeOptions } from './resumeSessions.ts';
export {
  agentConfigFor, askInSession, DEFAULT_BUDGET_TOKENS, SessionClosedError, startSession, startSessionAndAsk, startSessionWithQuery, submitQuery,
  type Query, type SessionSettings,
} from './sessionService.ts';
export { UnknownSessionError } from './sessionStreams.ts';
export { sessionStateAt, storeStateAt, type SessionStateAt } from './stateAt.ts';
export { createModel } from '../models/createModel.ts';
export type { LanguageModel, ModelReply, ModelRequest, TokenUsage } from '../models/languageModel.ts';
export { auditSession, auditStore, type AuditOptions, type SessionAudit, type StoreAudit } from '../audit/auditSession.ts';
