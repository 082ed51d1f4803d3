import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, extname } from 'node:path';
import { z } from 'zod';
import { AUDIT_CHECKS } from '../../audit/auditProblem.ts';
import { sessionReport } from '../../audit/auditReport.ts';
import { auditSessionLog, readSession, withReader, type AuditOptions, type SessionAudit } from '../../audit/auditSession.ts';
import { reportMarkdown } from '../../audit/reportMarkdown.ts';
import { openEventStore } from '../../store/openEventStore.ts';
import { commandOptions } from '../commandOptions.ts';
import type { CommandIo } from '../commandIo.ts';
import { toJson } from '../output.ts';
import { UsageError } from '../usageError.ts';
import { cliStoreUri } from '../cliConfig.ts';

const schema = z.strictObject({
  all: z.boolean().optional(),
  json: z.boolean().optional(),
  report: z.string().min(1, 'a file name, e.g. report.md').optional(),
  store: z.string().optional(),
});

export const auditUsage = 'audit [<sessionId> | --all] [--json] [--report <file>] [--store <uri>]';

/**
 * Verifies sessions (one, or every one by default): hash chains, replay determinism against checkpoints, projections
 * against checkpoints, causality. Exit 0 when every check passes, 1 naming the first problem on stderr (the full list
 * with `--json`), 2 for usage errors. `--report` also writes one session's report as Markdown and JSON.
 */
export async function auditCommand(args: string[], io: CommandIo, options: AuditOptions = {}): Promise<number> {
  const { values, positionals } = commandOptions('audit', args, {
    all: { type: 'boolean' }, json: { type: 'boolean' }, report: { type: 'string' }, store: { type: 'string' },
  }, schema);
  if (positionals.length > 1) throw new UsageError(`audit: give at most one session id (got ${positionals.length})`);
  const [sessionId] = positionals;
  if (sessionId !== undefined && values.all) throw new UsageError('audit: give a session id or --all, not both');
  if (values.report !== undefined && sessionId === undefined) throw new UsageError('audit: --report writes the report of one session: give its id');
  const store = await openEventStore(cliStoreUri(values.store), { existing: true });
  try {
    const audits = await withReader(store, async (reader) => {
      const results: SessionAudit[] = [];
      for (const id of sessionId === undefined ? await reader.sessionIds() : [sessionId]) {
        const log = await readSession(reader, id);
        const audit = await auditSessionLog(log, options);
        if (values.report !== undefined) {
          const report = sessionReport(log, audit);
          io.out(writeReport(values.report, reportMarkdown(report), toJson(report, 2)));
        }
        results.push(audit);
      }
      return results;
    });
    const ok = audits.every((a) => a.ok);
    if (values.json) io.out(toJson({ ok, sessions: audits }));
    else printAudits(io, audits);
    const failed = audits.find((a) => !a.ok);
    if (failed) {
      const first = failed.problems[0]!;
      io.warn(`chronicle audit: FAILED: session ${failed.sessionId}, ${first.check} check: ${first.message}`);
      return 1;
    }
    return 0;
  } finally {
    await store.close();
  }
}

/** `report.md` → report.md + report.json; `report.json` → report.md + report.json; `report` → report + report.json. */
export function reportFiles(file: string): { markdown: string; json: string } {
  const ext = extname(file);
  const base = ext === '' ? file : file.slice(0, -ext.length);
  if (ext === '.json') return { markdown: `${base}.md`, json: file };
  return { markdown: file, json: `${base}.json` };
}

function writeReport(file: string, markdown: string, json: string): string {
  const files = reportFiles(file);
  mkdirSync(dirname(files.markdown), { recursive: true });
  writeFileSync(files.markdown, markdown);
  writeFileSync(files.json, `${json}\n`);
  return `report written: ${files.markdown} and ${files.json}`;
}

function printAudits(io: CommandIo, audits: SessionAudit[]): void {
  for (const audit of audits) {
    io.out(`audit of session ${audit.sessionId}: ${audit.ok ? 'ok' : `FAILED, ${audit.problems.length} problem(s)`}`);
    const { chain, determinism, projections, causality } = audit.checks;
    const said: Record<(typeof AUDIT_CHECKS)[number], string> = {
      chain: `${chain.records} records in ${chain.streams} streams`,
      determinism: `${determinism.streams} actor streams, ${determinism.steps} events re-folded, ${determinism.comparisons} checkpointed states compared (${determinism.checkpoints} checkpoints)`,
      projections: `${projections.projections.join(', ')} recomputed at ${projections.checkpoints} checkpoint(s)${projections.skipped.length > 0 ? `; not recomputable here: ${projections.skipped.join(', ')}` : ''}`,
      causality: `${causality.modelCalls} model calls, ${causality.messages} messages, ${causality.causes} causes`,
    };
    for (const check of AUDIT_CHECKS) {
      const found = audit.problems.filter((p) => p.check === check).length;
      io.out(`  ${check.padEnd(12)} ${found === 0 ? 'ok  ' : 'FAIL'}  ${said[check]}${found === 0 ? '' : `; ${found} problem(s)`}`);
    }
    for (const [i, problem] of audit.problems.entries()) io.out(`  ${i + 1}. ${problem.check}/${problem.kind}: ${problem.message}`);
  }
  if (audits.length === 0) io.out('no sessions in the store');
  else if (audits.every((a) => a.ok)) io.out(`ok: ${audits.length} session(s), every check passes`);
}
