import type { RecordedEvent } from '../../../src/events/envelope.ts';
import { streamCategory } from '../../../src/events/envelope.ts';

/**
 * Builds a session's recorded events the way the runtime writes them: the session stream and its agents' streams
 * interleaved in one global position order, with the messages the session sends recorded on both sides. Positions,
 * ids and times are derived from a counter, so the same calls always give the same events.
 */
export function sessionLog(sessionId = 's1', firstPosition = 1n) {
  const events: RecordedEvent[] = [];
  const revisions = new Map<string, bigint>();
  const assigned = new Set<string>();
  let position = firstPosition;
  let queries = 0;
  const sessionStream = `session-${sessionId}`;
  const agentStream = (role: string, instance = 0) => `agent-${sessionId}.${role}.${instance}`;
  const uuid = (n: bigint) => `00000000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`;

  function record(streamId: string, type: string, data: unknown, session = sessionId): RecordedEvent {
    const revision = revisions.get(streamId) ?? 0n;
    revisions.set(streamId, revision + 1n);
    const event: RecordedEvent = {
      eventId: uuid(position),
      type,
      data,
      streamId,
      revision,
      position,
      metadata: {
        actorId: streamId, actorKind: streamCategory(streamId), sessionId: session, correlationId: session, causationId: null,
        recordedAt: new Date(Date.UTC(2026, 0, 1) + Number(position) * 1000).toISOString(),
        schemaVersion: 1, machineVersion: 'test', prevHash: '0'.repeat(64), hash: '0'.repeat(64),
      },
    };
    position++;
    events.push(event);
    return event;
  }

  const config = { model: 'scripted', fallbackModel: null, contextWindow: 8000, modelTimeoutMs: 1000, maxAttempts: 3, breakerThreshold: 3, breakerCooldownMs: 1000 };

  const log = {
    events,
    sessionStream,
    agentStream,
    record,
    /** `contextRules` as new sessions record them (2); left out, the session folds as one recorded before them. */
    started(contextRules?: 2) {
      record(sessionStream, 'session.started', { sessionId, agent: config, ...(contextRules === undefined ? {} : { contextRules }) });
      return log;
    },
    /** A query; returns the turn it will be. */
    query(text: string, region = 'KE', purpose = 'climate_adaptation'): number {
      record(sessionStream, 'query.received', { text, region, purpose });
      return queries++;
    },
    /** The session hands the turn to the role's agent: assignment (first time only) and task, sent and delivered. */
    dispatch(turn: number, query = `query ${turn}`, role = 'express', instance = 0) {
      const to = agentStream(role, instance);
      const fresh = !assigned.has(to);
      assigned.add(to);
      const assignment = { sessionId, sessionStream, agentStream: to, role, instance, config };
      const task = { turn, query, region: 'KE', purpose: 'climate_adaptation' };
      if (fresh) record(sessionStream, 'message.sent', { messageId: uuid(position), to, messageType: 'agent.assigned', data: assignment });
      record(sessionStream, 'message.sent', { messageId: uuid(position), to, messageType: 'task.assigned', data: task });
      if (fresh) record(to, 'agent.assigned', assignment);
      record(to, 'task.assigned', task);
      return log;
    },
    answer(turn: number, text: string, role = 'express', instance = 0) {
      const from = agentStream(role, instance);
      const usage = { inputTokens: 100, outputTokens: 50 };
      record(from, 'model.requested', { requestId: `r${turn}`, model: 'scripted', prompt: 'p', estimatedInputTokens: 100, attempt: 1 });
      record(from, 'model.responded', { requestId: `r${turn}`, text, usage, latencyMs: 5, model: 'scripted', provider: 'scripted', region: 'KE', usageSource: 'tiktoken' });
      const answered = { turn, agentStream: from, text, usage, model: 'scripted', attempts: 1 };
      record(from, 'message.sent', { messageId: uuid(position), to: sessionStream, messageType: 'agent.answered', data: answered });
      record(sessionStream, 'agent.answered', answered);
      return log;
    },
    fail(turn: number, reason: string, role = 'express', instance = 0) {
      const from = agentStream(role, instance);
      record(from, 'model.failed', { requestId: `r${turn}`, reason, retryable: false, kind: 'server' });
      record(sessionStream, 'agent.failed', { turn, agentStream: from, reason, attempts: 3 });
      return log;
    },
    /** Triage's decision for a turn, as the runtime records it (a fixed score: the fold reads mode and roles). */
    triage(turn: number, mode: 'express' | 'council' | 'emergency', roles: string[], rationale = 'Triaged for the test.') {
      const decision = {
        mode, complexity: mode === 'express' ? 0.2 : 0.7, confidence: 0.9, roles: mode === 'express' ? ['express'] : roles, signals: [], rationale,
        emergency: mode === 'emergency' ? { emergencyId: 'e1', region: 'KE', kind: 'flood' } : null, rulesVersion: 'triage-rules@1',
      };
      record(sessionStream, 'triage.decided', { turn, decision });
      return log;
    },
    /** A whole council turn: query, triage, each role's task and answer, then the synthesiser's. */
    council(query: string, roles: string[], answers: string[], synthesis: string, mode: 'council' | 'emergency' = 'council') {
      const turn = log.query(query);
      log.triage(turn, mode, roles);
      roles.forEach((role) => log.dispatch(turn, query, role));
      roles.forEach((role, i) => log.answer(turn, answers[i % answers.length]!, role));
      log.dispatch(turn, query, 'synthesiser').answer(turn, synthesis, 'synthesiser');
      record(sessionStream, 'turn.completed', { turn, status: 'answered', mode, agents: [...roles, 'synthesiser'].map((r) => agentStream(r)) });
      return log;
    },
    /** A whole express turn: query, dispatch, answer. */
    turn(query: string, answer: string) {
      const turn = log.query(query);
      return log.dispatch(turn, query).answer(turn, answer);
    },
    close(reason = 'done') {
      record(sessionStream, 'session.closed', { reason });
      return log;
    },
  };
  return log;
}
