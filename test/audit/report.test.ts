import { existsSync, readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import type { SessionReport } from '../../src/audit/auditReport.ts';
import { reportFiles } from '../../src/cli/commands/auditCommand.ts';
import { defaultFactorSet } from '../../src/policy/climate/factorSets.ts';
import { readSessionEvents } from '../../src/runtime/sessionStreams.ts';
import { sessionStateAt } from '../../src/runtime/stateAt.ts';
import { collect } from '../../src/store/eventStore.ts';
import { SqliteEventStore } from '../../src/store/sqliteEventStore.ts';
import { audit, freshCopy, recordedStore, tempPath, removeRecordings } from './auditFixture.ts';
import { editData, rowsOf } from './tamper.ts';

afterAll(removeRecordings);

/** The section `## <title> (<n>)` of a Markdown report: its count, and its table's data rows. */
function section(markdown: string, title: string): { count: number | undefined; rows: string[] } {
  const start = markdown.indexOf(`## ${title}`);
  expect(start, `section ${title}`).toBeGreaterThanOrEqual(0);
  const body = markdown.slice(start).split('\n## ')[0]!;
  const count = /\((\d+)(?: events)?\)/.exec(body.split('\n')[0]!)?.[1];
  return { count: count === undefined ? undefined : Number(count), rows: body.split('\n').filter((l) => l.startsWith('| ') && !l.startsWith('| ---')).slice(1) };
}

describe('chronicle audit --report', () => {
  it('writes a council session as Markdown and JSON whose counts and totals match the log and the ledger', async () => {
    const path = await recordedStore();
    const file = tempPath('council-report.md');
    const run = await audit(path, 'co', '--report', file);
    expect(run.code).toBe(0);
    const files = reportFiles(file);
    expect(files).toEqual({ markdown: file, json: tempPath('council-report.json') });
    expect(run.out[0]).toBe(`report written: ${files.markdown} and ${files.json}`);
    expect(existsSync(files.markdown) && existsSync(files.json)).toBe(true);

    const store = new SqliteEventStore(path);
    const events = await readSessionEvents(store, 'co');
    const checkpoints = await collect(store.readStream('checkpoint-co'));
    const { ledger } = await sessionStateAt(store, 'co');
    await store.close();
    const count = (predicate: (type: string) => boolean) => events.filter((e) => predicate(e.type)).length;
    const decisions = count((t) => ['triage.decided', 'priority.assigned', 'budget.estimated'].includes(t) || t.startsWith('transition.'));
    const adopted = events.find((e) => e.type === 'factorSet.adopted')!.data as { factorSetId: string; sha256: string };

    const markdown = readFileSync(files.markdown, 'utf8');
    expect(markdown).toContain('# Audit report: session co');
    expect(markdown).toContain('**Verification: PASSED**');
    const timeline = section(markdown, 'Timeline');
    expect(timeline.count).toBe(events.length + checkpoints.length);
    expect(timeline.rows).toHaveLength(events.length + checkpoints.length);
    expect(section(markdown, 'Decisions').count).toBe(decisions);
    expect(section(markdown, 'Decisions').rows.some((r) => r.includes('triage.decided') && r.includes('council'))).toBe(true);
    const calls = section(markdown, 'Model calls');
    expect(calls.count).toBe(count((t) => t === 'model.requested'));
    expect(calls.rows).toHaveLength(5);
    expect(section(markdown, 'Verification').rows.map((r) => r.split(' | ')[1])).toEqual(['pass', 'pass', 'pass', 'pass']);
    expect(section(markdown, 'Factor set').rows).toEqual([]);
    expect(markdown).toContain(`\`${adopted.factorSetId}\`, sha256 \`${adopted.sha256}\``);

    const report = JSON.parse(readFileSync(files.json, 'utf8')) as SessionReport;
    expect(report.sessionId).toBe('co');
    expect(report.timeline).toHaveLength(events.length + checkpoints.length);
    expect(report.decisions).toHaveLength(decisions);
    expect(report.modelCalls).toHaveLength(5);
    expect(report.verification.ok).toBe(true);
    expect(report.factorSet.recorded).toMatchObject({ factorSetId: adopted.factorSetId, sha256: adopted.sha256, streamId: 'ledger-co' });
    expect(report.factorSet.applied).toEqual({ id: defaultFactorSet.id, sha256: defaultFactorSet.sha256 });
    expect(report.factorSet.recordedHashMatches).toBe(true);
    const { calls: n, inputTokens, outputTokens, costUsd } = report.totals;
    expect({ calls: n, inputTokens, outputTokens, costUsd }).toEqual(ledger.usage.total);
    expect(report.totals.energyWh.central).toBeGreaterThan(0);
    expect(report.modelCalls.reduce((sum, c) => sum + c.usageGco2e!.central, 0)).toBeCloseTo(report.totals.usageGco2e.central, 10);
    expect(report.modelCalls.every((c) => c.outcome === 'responded' && c.costUsd > 0 && c.turn === 0)).toBe(true);
  });

  it('reports a failed verification with its first problem, and exits 1', async () => {
    const path = await freshCopy();
    const row = rowsOf(path, 'agent-ex.express.0').find((r) => r.type === 'model.responded')!;
    editData(path, row, (data) => { data.text = 'edited'; });
    const file = tempPath('tampered-report');
    const run = await audit(path, 'ex', '--report', file);
    expect(run.code).toBe(1);
    expect(run.err[0]).toContain(`stream "agent-ex.express.0" revision ${row.revision} (position ${row.position}, model.responded)`);
    const markdown = readFileSync(file, 'utf8');
    expect(markdown).toContain('**Verification: FAILED**');
    expect(markdown).toContain('1. **chain / hash-mismatch**');
    const report = JSON.parse(readFileSync(`${file}.json`, 'utf8')) as SessionReport;
    expect(report.verification.problems[0]).toMatchObject({ check: 'chain', kind: 'hash-mismatch', revision: String(row.revision) });
  });
});
