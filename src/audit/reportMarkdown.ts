import type { Spread } from '../../projections/climate/spread.ts';
import { AUDIT_CHECKS } from './auditProblem.ts';
import type { SessionReport } from './auditReport.ts';

/** Table cells hold one line, and `|` would end the cell. */
const cell = (value: unknown) => String(value ?? '').replace(/\|/g, '\\|').replace(/\s*\n\s*/g, ' ');
const row = (values: unknown[]) => `| ${values.map(cell).join(' | ')} |`;
const table = (head: string[], rows: unknown[][]) => [row(head), row(head.map(() => '---')), ...rows.map(row)];
/** Small figures (a call's grams, a fraction of a cent) keep their significant digits. */
const num = (value: number, digits: number) => (value !== 0 && Math.abs(value) < 10 ** -digits ? value.toExponential(2) : value.toFixed(digits));
const spread = (s: Spread | null, digits: number) => (s === null ? '' : `${num(s.central, digits)} (${num(s.min, digits)}–${num(s.max, digits)})`);

/** The report as Markdown: readable on its own, every figure traceable to a position in the log. */
export function reportMarkdown(report: SessionReport): string {
  const { verification: audit, totals, factorSet } = report;
  const first = audit.problems[0];
  const lines: string[] = [
    `# Audit report: session ${report.sessionId}`,
    '',
    audit.ok
      ? '**Verification: PASSED** — hash chains, replay determinism, projections and causality all hold.'
      : `**Verification: FAILED** — ${audit.problems.length} problem(s); the first: ${first!.message}`,
    '',
    `${report.events} events and ${report.checkpoints} checkpoints in ${report.streams.length} streams (positions ${report.positions.first ?? '–'} to ${report.positions.last ?? '–'}): ${report.streams.join(', ')}.`,
    '',
    ...table(['total', 'value'], [
      ['model calls answered (ledger)', totals.calls],
      ['input tokens', totals.inputTokens],
      ['output tokens', totals.outputTokens],
      ['cost USD (ledger)', num(totals.costUsd, 6)],
      ['energy Wh, central (min–max)', spread(totals.energyWh, 4)],
      ['usage gCO2e, central (min–max)', spread(totals.usageGco2e, 4)],
      ['embodied gCO2e, central (min–max)', spread(totals.embodiedGco2e, 4)],
      ['true cost USD', totals.trueCostUsd.total.toExponential(4)],
      ['factor set', `${factorSet.applied.id} (sha256 ${factorSet.applied.sha256.slice(0, 12)}…)`],
    ]),
    '',
    `## Timeline (${report.timeline.length} events)`,
    '',
    ...table(['position', 'time', 'stream', 'rev', 'type', 'data'], report.timeline.map((e) => [e.position, e.recordedAt, e.streamId, e.revision, e.type, e.data])),
    '',
    `## Decisions (${report.decisions.length})`,
    '',
    ...table(['position', 'turn', 'stream', 'type', 'decision', 'rationale'], report.decisions.map((d) => [d.position, d.turn ?? '', d.streamId, d.type, d.decision, d.rationale])),
    '',
    `## Model calls (${report.modelCalls.length})`,
    '',
    ...table(['position', 'turn', 'stream', 'model', 'attempt', 'outcome', 'input tok', 'output tok', 'cost USD', 'Wh central (min–max)', 'usage gCO2e', 'embodied gCO2e'],
      report.modelCalls.map((c) => [c.position, c.turn ?? '', c.streamId, c.answeredBy ?? c.model, c.attempt, c.failure ? `${c.outcome}: ${c.failure}` : c.outcome, c.inputTokens, c.outputTokens, num(c.costUsd, 6), spread(c.energyWh, 4), spread(c.usageGco2e, 4), spread(c.embodiedGco2e, 4)])),
    '',
    '## Verification',
    '',
    ...table(['check', 'result', 'what was checked'], AUDIT_CHECKS.map((check) => {
      const { ok, ...detail } = audit.checks[check];
      return [check, ok ? 'pass' : `FAIL (${audit.problems.filter((p) => p.check === check).length})`, Object.entries(detail).map(([k, v]) => `${k}: ${Array.isArray(v) ? v.join(', ') || 'none' : String(v)}`).join('; ')];
    })),
    '',
    ...(audit.problems.length === 0 ? ['No problems found.'] : audit.problems.map((p, i) => `${i + 1}. **${p.check} / ${p.kind}** — ${p.message}`)),
    '',
    '## Factor set',
    '',
    factorSet.recorded
      ? `Recorded in force: \`${factorSet.recorded.factorSetId}\`, sha256 \`${factorSet.recorded.sha256}\` (${factorSet.recorded.streamId} revision ${factorSet.recorded.revision}, position ${factorSet.recorded.position}).`
      : 'The session recorded no factor set (no `factorSet.adopted` in its ledger).',
    '',
    `Climate figures computed with \`${factorSet.applied.id}\`, sha256 \`${factorSet.applied.sha256}\`${appliedNote(report.factorSet)}. Method: EcoLogits energy per call, grid intensity of the inference region (docs/climate.md).`,
    '',
  ];
  return lines.join('\n');
}

function appliedNote(factorSet: SessionReport['factorSet']): string {
  if (!factorSet.recorded) return ' (the default set: none was recorded)';
  if (factorSet.recordedHashMatches === null) return ' (the default set: the recorded one is not in this build)';
  return factorSet.recordedHashMatches ? ' (the recorded set; its sha256 matches)' : ' — **this build\'s set of that id hashes differently from the recorded one**';
}
