import type { RunsAtN } from './comparison.ts';
import { chronicleBytesByType, comparisonRows, GOALS } from './comparisonTable.ts';
import type { BenchEnvironment } from './versions.ts';
import { MESSAGE_CHARS } from './workload.ts';

/** The comparison as printed by `npm run bench:langgraph` and `npm run bench`: goals, the table, where the bytes go. */
export function comparisonReport(runs: readonly RunsAtN[], env: BenchEnvironment): string[] {
  const lines = [
    `Chronicle ${env.chronicle} vs LangGraph.js ${env.langgraph} (@langchain/langgraph-checkpoint-sqlite ${env.checkpointSqlite}), ${env.date}`,
    `${env.machine}, Node ${env.node}, SQLite ${env.sqliteChronicle} (node:sqlite, Chronicle) / ${env.sqliteLangGraph} (better-sqlite3, SqliteSaver)`,
    `Workload: an agent loop, each step appending one ${MESSAGE_CHARS}-character message with its tiktoken count; N steps in one thread / session.`,
    `Goals: storage at the largest N ≤ 1/${1 / GOALS.storageShare} of LangGraph's and ours linear in N; ≤ ${GOALS.overheadMs} ms per step over no persistence, flat in N;`,
    `       state as of step N/2 no slower than LangGraph's getState by checkpoint id; listing the whole history ≥ ${GOALS.historySpeedup}× faster.`,
    '',
  ];
  const rows = comparisonRows(runs);
  lines.push(table(['what', 'N', 'LangGraph', 'Chronicle', 'Chronicle/LangGraph', 'goal'], rows.map((r) => [r.what, r.steps.toLocaleString('en'), r.langgraph, r.chronicle, r.ratio, r.goal])));
  const largest = runs.at(-1);
  if (largest) {
    lines.push('', `What one Chronicle step writes, at N=${largest.steps.toLocaleString('en')} (stored text columns of the events table; the file adds SQLite's pages and indexes):`);
    const byType = chronicleBytesByType(largest);
    const total = byType.reduce((sum, t) => sum + t.bytesPerStep, 0);
    lines.push(table(['event type', 'rows per step', 'bytes per step', 'share'], [
      ...byType.map((t) => [t.type, t.perStep.toFixed(2), t.bytesPerStep.toFixed(0), `${(t.share * 100).toFixed(1)} %`]),
      ['all', byType.reduce((sum, t) => sum + t.perStep, 0).toFixed(2), total.toFixed(0), '100 %'],
    ]));
    const lgKinds = largest.langgraph.persisted.storage!.rowBytesByKind;
    lines.push(`LangGraph at the same N: ${Object.entries(lgKinds).map(([table, k]) => `${table} ${k.rows.toLocaleString('en')} rows, ${(k.bytes / largest.steps).toFixed(0)} bytes per step`).join('; ')} (each checkpoint holds every message so far).`);
  }
  lines.push(
    '',
    'LangGraph: one StateGraph node looping on itself in one invoke (one checkpoint per step, durability "async"), SqliteSaver on a file with synchronous=NORMAL;',
    '  no persistence = the same graph compiled without a checkpointer; bare loop = the node\'s own work (message + token count).',
    'Chronicle: one session on ActorRuntime with the CLI\'s projections, a checkpoint every 1 500 tokens, every checkpoint kept; each turn a query answered by a',
    '  zero-latency scripted model with the step\'s message; SQLite file, synchronous=NORMAL. A step records a whole agent turn (triage, budget, ledger, prompt, answer).',
    '  No persistence = the same runtime on SQLite :memory: (it cannot run without a store), stepped in turn with a run on a file in one process, the overhead\n  taken between those two (and their means shown as persisted / no persistence); bare loop = the scripted model alone (message + usage count).',
    'Each run is its own process (RSS is that run\'s); step times are wall times from the loop; the state at N/2 is asked at the 15 steps around N/2 on both sides.',
  );
  return lines;
}

function table(head: string[], body: string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((row) => row[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  return [line(head), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...body.map(line)].join('\n');
}
