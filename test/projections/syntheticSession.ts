import type { RecordedEvent } from '../../src/events/envelope.ts';
import { sessionLog } from './sessionState/sessionLog.ts';

/**
 * A long express session as the runtime records it, for the size and completeness tests: per turn a query, the
 * task sent and delivered, a model call (requested, answered) and the answer, with the ledger's reservation,
 * settlement and reconciliation interleaved where the runtime writes them. Every fourth turn's first call fails and
 * is retried, so releases and failures appear too. Deterministic: the same `turns` give the same events.
 */
export function syntheticSession(turns: number, sessionId = 's1'): RecordedEvent[] {
  const log = sessionLog(sessionId).started();
  const ledger = `ledger-${sessionId}`;
  const agent = log.agentStream('express');
  log.record(ledger, 'budget.allocated', { amount: 1_000_000_000, reason: 'session budget' });
  log.record(log.sessionStream, 'factorSet.adopted', { factorSetId: 'ecologits-2025.1-ember-2024', sha256: 'a'.repeat(64) });
  for (let turn = 0; turn < turns; turn++) {
    const topic = TOPICS[turn % TOPICS.length]!;
    log.query(`Turn ${turn}: what are the first three steps for ${topic} in a coastal district? Who should pay for them?`);
    log.dispatch(turn, `query ${turn}`);
    if (turn === 0) log.record(ledger, 'quota.assigned', { agentStream: agent, amount: 500_000_000 });
    if (turn % 4 === 3) {
      const failed = `f${turn}`;
      log.record(ledger, 'tokens.reserved', { requestId: failed, agentStream: agent, amount: 900, model: 'scripted', turn });
      log.record(agent, 'model.requested', { requestId: failed, model: 'scripted', prompt: 'p', estimatedInputTokens: 400, attempt: 1 });
      log.record(agent, 'model.failed', { requestId: failed, reason: 'server error', retryable: true, kind: 'server' });
      log.record(ledger, 'tokens.released', { requestId: failed, agentStream: agent, amount: 900, reason: 'server error' });
    }
    const requestId = `r${turn}`;
    const usage = { inputTokens: 400 + (turn % 37), outputTokens: 300 + ((turn * 7) % 101) };
    const reserved = 800 + (turn % 13) * 10;
    log.record(ledger, 'tokens.reserved', { requestId, agentStream: agent, amount: reserved, model: 'scripted', turn });
    log.record(agent, 'model.requested', { requestId, model: 'scripted', prompt: 'p', estimatedInputTokens: 400, attempt: 1 });
    const answer = `Answer to turn ${turn}: start with ${topic}. Then fund it locally. Then review it each season.`;
    log.record(agent, 'model.responded', { requestId, text: answer, usage, latencyMs: 900 + turn % 50, model: 'scripted', provider: 'scripted', region: 'KE', usageSource: 'tiktoken' });
    log.record(ledger, 'tokens.settled', { requestId, agentStream: agent, reserved, usage, model: 'scripted', costUsd: 0.0001 * (turn % 5) });
    const answered = { turn, agentStream: agent, text: answer, usage, model: 'scripted', attempts: turn % 4 === 3 ? 2 : 1 };
    log.record(agent, 'message.sent', { messageId: `m${turn}`, to: log.sessionStream, messageType: 'agent.answered', data: answered });
    log.record(log.sessionStream, 'agent.answered', answered);
    const actual = usage.inputTokens + usage.outputTokens;
    const errorPct = Math.round(((actual - reserved) / reserved) * 10_000) / 100;
    log.record(ledger, 'budget.reconciled', { turn, estimated: reserved, actual, errorPct });
  }
  return log.events;
}

const TOPICS = ['mangrove restoration', 'flood early warning', 'heat shelters', 'drought-tolerant maize', 'dyke repair', 'storm surge barriers', 'grid resilience'];
