import { z } from 'zod';
import { ADVICE_MIN_SIMILARITY, EPISODE_TOKEN_CAP, episodeTokens, evolveSessionMemory, initialSessionMemory, memoryAdvice, patternsOf, type MemoryAdvice, type MemoryQuery, type SessionMemoryState } from '../../../projections/sessionMemory/index.ts';
import { isAtOrBefore, type PointInTime } from '../../runtime/pointInTime.ts';
import type { EventStore } from '../../store/eventStore.ts';
import { openEventStore } from '../../store/openEventStore.ts';
import { commandOptions } from '../commandOptions.ts';
import type { CommandIo } from '../commandIo.ts';
import { toJson } from '../output.ts';
import { answeredPoint, pointFlag } from '../pointFlag.ts';
import { UsageError } from '../usageError.ts';
import { cliStoreUri } from '../cliConfig.ts';

export const memoryUsage = 'memory [--similar "<query>" [--region <code>] [--purpose <purpose>]] [--at <position | ISO time>] [--json] [--store <uri>]';

const schema = z.strictObject({
  similar: z.string().trim().min(1, 'give the query text').optional(),
  region: z.string().regex(/^[A-Z]{2,3}$/, 'an ISO 3166 alpha-2 or alpha-3 code, e.g. "KE" or "BGD"').optional(),
  purpose: z.string().regex(/^[a-z][a-z0-9_]*$/, 'a snake_case purpose such as "climate_adaptation"').optional(),
  at: z.string().optional(),
  json: z.boolean().optional(),
  store: z.string().optional(),
});

/** Cross-session memory folded over the whole log up to a point (every event when none is given). */
export async function sessionMemoryAt(store: EventStore, at?: PointInTime): Promise<SessionMemoryState> {
  let memory = initialSessionMemory;
  for await (const event of store.readAll()) {
    // A time point is compared per event: clocks of different writers need not rise with the position.
    if (isAtOrBefore(event, at)) memory = evolveSessionMemory(memory, event);
    else if (at !== undefined && 'position' in at) break;
  }
  return memory;
}

/** What memory holds as of a point: the remembered turns, the patterns per purpose/region/mode, and a lookup. */
export async function memoryCommand(args: string[], io: CommandIo): Promise<number> {
  const { values } = commandOptions('memory', args, {
    similar: { type: 'string' }, region: { type: 'string' }, purpose: { type: 'string' }, at: { type: 'string' }, json: { type: 'boolean' }, store: { type: 'string' },
  }, schema);
  if (values.similar === undefined && (values.region !== undefined || values.purpose !== undefined)) throw new UsageError('memory: --region and --purpose qualify --similar "<query>"');
  const asked = pointFlag('memory', values.at);
  const store = await openEventStore(cliStoreUri(values.store), { existing: true });
  try {
    const point = await answeredPoint(store, asked);
    const memory = await sessionMemoryAt(store, point.at);
    const query: MemoryQuery | undefined = values.similar === undefined ? undefined : { text: values.similar, region: values.region, purpose: values.purpose };
    const advice = query === undefined ? undefined : memoryAdvice(memory, query);
    const patterns = patternsOf(memory.patterns);
    if (values.json) {
      io.out(toJson({ ...point.json, through: memory.through, cap: memory.cap, episodeTokens: episodeTokens(memory.episodes), episodes: memory.episodes, patterns, forks: memory.forks, ...(query ? { query, advice } : {}) }));
      return 0;
    }
    printMemory(io, point.described, memory, patterns);
    if (query && advice) printAdvice(io, query, advice);
    return 0;
  } finally {
    await store.close();
  }
}

function printMemory(io: CommandIo, when: string, memory: SessionMemoryState, patterns: ReturnType<typeof patternsOf>): void {
  const { episodes } = memory;
  io.out(`memory as of ${when}: ${episodes.length} remembered turn(s), ${episodeTokens(episodes)} of ${EPISODE_TOKEN_CAP} query tokens (older turns stay in the log)`);
  if (episodes.length === 0) return;
  io.out('');
  io.out('position  session#turn          mode       outcome   tokens  budget  region purpose              query');
  for (const e of [...episodes].reverse()) {
    io.out(`${e.position.padStart(8)}  ${`${e.sessionId}#${e.turn}`.padEnd(20)}  ${e.mode.padEnd(9)}  ${e.outcome.padEnd(8)} ${String(e.tokens).padStart(7)} ${String(e.budgeted).padStart(7)}  ${e.region.padEnd(6)} ${e.purpose.padEnd(20)} ${e.query.length > 60 ? `${e.query.slice(0, 57)}...` : e.query}`);
  }
  io.out('');
  io.out('patterns (every completed turn, not only those remembered)');
  io.out('purpose              region mode       turns  mean tokens  mean |budget error|  hand-offs/turn');
  for (const p of patterns) {
    io.out(`${p.purpose.padEnd(20)} ${p.region.padEnd(6)} ${p.mode.padEnd(9)} ${String(p.turns).padStart(6)} ${String(p.meanTokens).padStart(12)} ${`${p.meanAbsBudgetErrorPct.toFixed(1)} %`.padStart(20)} ${p.handoffRate.toFixed(2).padStart(15)}`);
  }
  const forks = Object.entries(memory.forks);
  if (forks.length > 0) io.out(`\nforks (copied turns not counted again): ${forks.map(([id, f]) => `${id} from ${f.fromSession} (${f.copiedTurns} turn(s) copied)`).join(', ')}`);
}

function printAdvice(io: CommandIo, query: MemoryQuery, advice: MemoryAdvice): void {
  io.out('');
  io.out(`similar to "${query.text}"${query.region ? ` in ${query.region}` : ''}${query.purpose ? ` for ${query.purpose}` : ''}:`);
  if (advice.similar.length === 0) io.out('  nothing remembered shares a word with it');
  for (const s of advice.similar) io.out(`  ${s.similarity.toFixed(4)}  ${`${s.sessionId}#${s.turn}`.padEnd(20)} ${s.mode.padEnd(9)} ${s.outcome.padEnd(8)} ${s.tokens} tokens`);
  io.out(`advice: ${advice.suggestedTokens === null ? `none (needs similarity ≥ ${ADVICE_MIN_SIMILARITY})` : `${advice.suggestedTokens} tokens`} — ${advice.basis}`);
}
