import { afterAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { auditSessionLog, auditStore } from '../../src/audit/auditSession.ts';
import { storeLogReader } from '../../src/audit/storeLogReader.ts';
import { UsageError } from '../../src/cli/usageError.ts';
import { UnknownSessionError } from '../../src/runtime/sessionStreams.ts';
import { collect } from '../../src/store/eventStore.ts';
import { SqliteEventStore } from '../../src/store/sqliteEventStore.ts';
import { EMERGENCY_STREAM, emergencyEvent } from '../../src/runtime/emergencyRegister.ts';
import { agentConfigFor, startSession } from '../../src/runtime/sessionService.ts';
import { query, simulatedSystem } from '../support/simulatedSystem.ts';
import { audit, freshCopy, recordedStore, type AuditRun, removeRecordings } from './auditFixture.ts';
import { deleteRow, editData, editMetadata, insertForged, rowsOf, swapRows, truncateStream, type Row } from './tamper.ts';

afterAll(removeRecordings);

/** The first problem, as `--json` lists it and as the one line on stderr names it. */
function firstProblem(run: AuditRun) {
  expect(run.code).toBe(1);
  expect(run.err).toHaveLength(1);
  const session = run.json!.sessions.find((s) => !s.ok)!;
  return { problem: session.problems[0]!, line: run.err[0]!, session };
}

const place = (row: Row, revision = row.revision) => `stream "${row.stream_id}" revision ${revision} (position ${row.position}, ${row.type})`;

describe('chronicle audit: clean sessions', () => {
  it('passes every check for an express session of three turns and a council, with several checkpoints each', async () => {
    const path = await recordedStore();
    const run = await audit(path, '--json');
    expect(run.code).toBe(0);
    expect(run.err).toEqual([]);
    expect(run.json!.ok).toBe(true);
    expect(run.json!.sessions.map((s) => s.sessionId)).toEqual(['ex', 'co']);
    for (const session of run.json!.sessions) {
      expect(session.problems).toEqual([]);
      expect(Object.values(session.checks).map((c) => c.ok)).toEqual([true, true, true, true]);
      expect(session.checks.determinism.checkpoints).toBeGreaterThanOrEqual(2);
      expect(session.checks.determinism.comparisons).toBeGreaterThanOrEqual(4);
      expect(session.checks.projections.projections).toEqual(['climate:ecologits-2025.1-ember-2024', 'ledger', 'sessionState']);
    }
    const co = run.json!.sessions.find((s) => s.sessionId === 'co')!;
    expect(co.checks.determinism.streams).toBe(6); // the session, four council members and the synthesiser
    expect(co.checks.causality.modelCalls).toBe(5);
    const text = await audit(path, 'co');
    expect(text.code).toBe(0);
    expect(text.out.at(-1)).toBe('ok: 1 session(s), every check passes');
  });

  it('passes an emergency that borrowed from another session (its lender\'s entries are caused from the other log), read from a memory store', async () => {
    const system = simulatedSystem({ seed: 'audit-loans', checkpointEveryTokens: 150 });
    const config = agentConfigFor({ model: 'scripted:latency=20,seed=21' }, () => ({ profile: undefined }) as never);
    await startSession(system.runtime, 'miner', config, 50_000);
    await system.ask('miner', query('How do I maximise profit from crypto mining in Texas?', 'US', 'crypto_mining'));
    await system.runUntilAnswered(['miner'], 1);
    await system.store.appendToStream(EMERGENCY_STREAM, [emergencyEvent('emergency.declared', { emergencyId: 'flood-1', region: 'BD', kind: 'flood' }, { eventId: randomUUID(), recordedAt: '2026-11-24T09:00:00.000Z' })]);
    await startSession(system.runtime, 'flood', config, 500);
    await system.ask('flood', query('Where should families in Barisal go as the river rises tonight?', 'BD', 'disaster_response'));
    await system.runUntilAnswered(['flood'], 1);
    const lent = (await collect(system.store.readStream('ledger-miner'))).find((e) => e.type === 'tokens.lentToSession')!;
    expect((await collect(system.store.readStream('ledger-miner'))).some((e) => e.eventId === lent.metadata.causationId)).toBe(false);
    const result = await auditStore(system.store, 'all');
    expect(result.sessions.map((s) => [s.sessionId, s.problems])).toEqual([['miner', []], ['flood', []]]);
    expect(result.sessions[1]!.checks.chain.streams).toBeGreaterThanOrEqual(5); // the emergency register's chain too
  });

  it('refuses usage errors and unknown sessions', async () => {
    const path = await recordedStore();
    await expect(audit(path, 'ex', '--all')).rejects.toThrow(UsageError);
    await expect(audit(path, '--all', '--report', 'r.md')).rejects.toThrow(UsageError);
    await expect(audit(path, 'ex', 'co')).rejects.toThrow(UsageError);
    await expect(audit(path, '--bogus')).rejects.toThrow(UsageError);
    await expect(audit(path, 'nobody')).rejects.toThrow(UnknownSessionError);
  });
});

describe('chronicle audit: tampering with the SQLite file', () => {
  it('names an edited model answer by stream, revision and position (chain)', async () => {
    const path = await freshCopy();
    const row = rowsOf(path, 'agent-co.analyst.0').find((r) => r.type === 'model.responded')!;
    editData(path, row, (data) => { data.text = 'Buy nothing; do nothing.'; });
    const { problem, line, session } = firstProblem(await audit(path, '--json'));
    expect(problem).toMatchObject({ check: 'chain', kind: 'hash-mismatch', streamId: row.stream_id, revision: String(row.revision), position: String(row.position), eventType: 'model.responded' });
    expect(line).toContain(place(row));
    expect(line).toContain('edited after it was written');
    // The edit's consequence is seen too: the re-fold of the agent no longer matches its checkpoint.
    expect(session.problems.some((p) => p.check === 'determinism' && p.streamId === row.stream_id)).toBe(true);
  });

  it('names an edited recordedAt and an edited causationId in the metadata (chain)', async () => {
    for (const edit of [(m: { recordedAt: string }) => { m.recordedAt = '2026-11-24T10:00:00.000Z'; }, (m: { causationId: string | null }) => { m.causationId = '0190aaaa-0000-7000-8000-000000000000'; }]) {
      const path = await freshCopy();
      const row = rowsOf(path, 'session-co').find((r) => r.type === 'agent.answered')!;
      editMetadata(path, row, edit as never);
      const { problem, line } = firstProblem(await audit(path, '--json'));
      expect(problem).toMatchObject({ check: 'chain', kind: 'hash-mismatch', streamId: 'session-co', revision: String(row.revision), position: String(row.position) });
      expect(line).toContain(place(row));
    }
  });

  it('names a deleted event in the middle of a stream (chain)', async () => {
    const path = await freshCopy();
    const rows = rowsOf(path, 'session-co');
    const deleted = rows[10]!;
    deleteRow(path, deleted);
    const { problem, line } = firstProblem(await audit(path, '--json'));
    expect(problem).toMatchObject({ check: 'chain', kind: 'revision-gap', streamId: 'session-co', revision: '11', position: String(rows[11]!.position) });
    expect(line).toContain(`revision ${deleted.revision} is missing`);
  });

  it('names a forged event inserted with the later revisions moved up and a valid hash of its own (chain)', async () => {
    const path = await freshCopy();
    const answer = rowsOf(path, 'agent-co.critic.0').find((r) => r.type === 'model.responded')!;
    insertForged(path, answer.stream_id, answer.revision, { eventId: '0190bbbb-0000-7000-8000-000000000000', type: 'model.responded', data: { ...JSON.parse(answer.data), text: 'forged' } });
    const forged = rowsOf(path, answer.stream_id).find((r) => r.revision === answer.revision)!;
    expect(forged.event_id).toBe('0190bbbb-0000-7000-8000-000000000000');
    const run = await audit(path, '--json');
    const { problem, line, session } = firstProblem(run);
    expect(problem).toMatchObject({ check: 'chain', streamId: answer.stream_id, revision: String(answer.revision), position: String(forged.position) });
    expect(line).toContain(place(forged));
    expect(session.problems.find((p) => p.kind === 'inserted')).toMatchObject({ revision: String(answer.revision), position: String(forged.position) });
    // The ledger-free forgery also leaves a second outcome for one request.
    expect(session.problems.some((p) => p.check === 'causality' && p.kind === 'duplicate-outcome')).toBe(true);
  });

  it('names two reordered events (chain)', async () => {
    const path = await freshCopy();
    const rows = rowsOf(path, 'session-co');
    swapRows(path, rows[6]!, rows[7]!);
    const { problem, line } = firstProblem(await audit(path, '--json'));
    expect(problem).toMatchObject({ check: 'chain', kind: 'reordered', streamId: 'session-co', revision: '6', position: String(rows[6]!.position) });
    expect(line).toContain('reordered');
  });

  it('notices a truncated stream whose remaining chain is whole, through its checkpoint and causality', async () => {
    const path = await freshCopy();
    const removed = truncateStream(path, 'session-co', 2);
    const [from, to] = [removed[0]!, removed.at(-1)!];
    const run = await audit(path, '--json');
    const { problem, line, session } = firstProblem(run);
    expect(session.checks.chain.ok).toBe(true);
    expect(problem).toMatchObject({ check: 'determinism', kind: 'checkpoint-beyond-stream', streamId: 'session-co', revision: String(to.revision), position: String(to.position) });
    expect(line).toContain(`revisions ${from.revision}–${to.revision} are missing`);
    const notDelivered = session.problems.find((p) => p.kind === 'message-not-delivered')!;
    expect(notDelivered.message).toContain('sent agent.answered to session-co, but it never arrived');
    expect(session.problems.some((p) => p.kind === 'missing-cause' && p.streamId === 'ledger-co')).toBe(true);
  });

  it('reads any store through its reads too: the refused record is the finding, and reading resumes after it', async () => {
    const path = await freshCopy();
    const row = rowsOf(path, 'agent-ex.express.0').find((r) => r.type === 'model.responded')!;
    editData(path, row, (data) => { data.text = 'edited'; });
    const store = new SqliteEventStore(path);
    try {
      const log = await storeLogReader(store).read('ex');
      expect(log.streams.get(row.stream_id)!.records.map((r) => r.revision)).not.toContain(BigInt(row.revision));
      const result = await auditSessionLog(log);
      expect(result.problems[0]).toMatchObject({ check: 'chain', kind: 'hash-mismatch', streamId: row.stream_id, revision: BigInt(row.revision), position: BigInt(row.position) });
      expect(result.problems[0]!.message).toContain('Corrupt event');
    } finally {
      await store.close();
    }
  });
});
