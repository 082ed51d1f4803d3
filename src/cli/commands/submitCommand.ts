import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { SessionContext } from '../../../machines/sessionMachine.ts';
import { replayStream } from '../../runtime/replay.ts';
import { systemClock } from '../../runtime/clock.ts';
import { modelResolver } from '../../runtime/modelResolver.ts';
import { agentConfigFor, DEFAULT_BUDGET_TOKENS, startSessionWithQuery, submitQuery } from '../../runtime/sessionService.ts';
import { sessionStream } from '../../runtime/sessionStreams.ts';
import { collect, type EventStore } from '../../store/eventStore.ts';
import { openEventStore } from '../../store/openEventStore.ts';
import { isAlive } from '../../../projections/workBoard/workBoard.ts';
import { workBoardOf } from '../../worker/workBoardReader.ts';
import { createCliRuntime } from '../cliRuntime.ts';
import { cliStoreUri, loadCliConfig } from '../cliConfig.ts';
import { commandOptions } from '../commandOptions.ts';
import type { CommandIo } from '../commandIo.ts';
import { answerFields, toJson } from '../output.ts';
import { assertSessionModels, queryFlags, queryFlagsSchema, sessionSettingsOf, settingsWarnings } from '../sessionSettings.ts';
import { UsageError } from '../usageError.ts';

const schema = queryFlagsSchema.extend({
  wait: z.boolean().optional(),
  timeout: z.coerce.number().positive('--timeout takes a number of seconds above 0').optional(),
});

export const submitUsage = 'submit "<query>" --region <ISO 3166 code> --purpose <purpose> [--model <spec>] [--fallback-model <spec>] [--session <id>] [--wait [--timeout <s>]] [--json] [--store <uri>]';

/**
 * Records a query for the workers to run (`chronicle worker`): the session's start, the query and what it causes
 * (triage, tasks, model requests) are recorded here, and nothing is performed; the worker that takes the session
 * performs it. With `--wait` it follows the log until the turn is answered.
 */
export async function submitCommand(args: string[], io: CommandIo): Promise<number> {
  const { values, positionals } = commandOptions('submit', args, { ...queryFlags, wait: { type: 'boolean' }, timeout: { type: 'string' } }, schema);
  const text = positionals.join(' ').trim();
  if (text.length === 0) throw new UsageError('submit: give the query as the first argument, in quotes');
  if (values.timeout !== undefined && !values.wait) throw new UsageError('submit: --timeout only applies with --wait');
  const config = loadCliConfig();
  const settings = sessionSettingsOf('submit', config, values);
  // Said for a new session, whose settings these are; a further turn keeps the session's own.
  if (values.session === undefined) for (const warning of settingsWarnings(settings)) io.warn(warning);
  const store = await openEventStore(cliStoreUri(values.store), { warn: io.warn });
  try {
    const runtime = createCliRuntime(store, { effects: 'record' });
    const sessionId = values.session ?? randomUUID().slice(0, 8);
    const query = { text, region: values.region, purpose: values.purpose };
    if (values.session !== undefined) await assertSessionModels('submit', runtime, sessionId, values);
    // A new session is recorded with its query in one write, so no stop between the two leaves it without a turn.
    const turn = values.session === undefined
      ? (await startSessionWithQuery(runtime, sessionId, agentConfigFor(settings, modelResolver(systemClock)), config.budgetTokens ?? DEFAULT_BUDGET_TOKENS, query), 0)
      : await submitQuery(runtime, sessionId, query);
    await runtime.settled();
    if (!values.wait) {
      io.out(values.json ? toJson({ sessionId, turn, status: 'submitted' }) : `submitted: session ${sessionId}, turn ${turn}; a worker will answer it (chronicle worker)`);
      return 0;
    }
    // Said at once when no worker is alive to answer it, rather than after the whole wait in silence.
    const board = await workBoardOf(store);
    const workers = board === undefined ? [] : Object.keys(board.workers).filter((id) => board.workers[id]!.group !== 'interactive' && isAlive(board, id, Date.now()));
    if (workers.length === 0) {
      io.warn(`chronicle: submit: no worker is running on this store yet; waiting up to ${values.timeout ?? 300} s for one to answer turn ${turn} (start one with \`chronicle worker\`)`);
    }
    const outcome = await answerOf(store, sessionId, turn, (values.timeout ?? 300) * 1000);
    if (!outcome) {
      io.warn(`chronicle: submit: turn ${turn} of session ${sessionId} not answered within ${values.timeout ?? 300} s; it stays recorded, and a worker will answer it (is one running?)`);
      return 1;
    }
    if (values.json) io.out(toJson({ sessionId, turn, status: outcome.status, mode: outcome.mode, ...answerFields(outcome), model: outcome.model }));
    else io.out(`${outcome.status === 'answered' ? outcome.text : `FAILED: ${outcome.text}`}\n\nsession ${sessionId}, turn ${turn} (${outcome.mode}), ${outcome.model ?? 'no model answered'}`);
    return outcome.status === 'answered' ? 0 : 1;
  } finally {
    await store.close();
  }
}

/** Follows the session's stream until the turn is completed, then reads its outcome from the folded session. */
async function answerOf(store: EventStore, sessionId: string, turn: number, timeoutMs: number) {
  const subscription = store.subscribeToStream(sessionStream(sessionId));
  const timer = setTimeout(() => void subscription.stop(), timeoutMs);
  try {
    for await (const event of subscription) {
      if (event.type !== 'turn.completed' || (event.data as { turn: number }).turn !== turn) continue;
      const context = replayStream(sessionStream(sessionId), await collect(store.readStream(sessionStream(sessionId)))).context as SessionContext;
      return context.recentOutcomes.find((o) => o.turn === turn);
    }
    return undefined;
  } finally {
    clearTimeout(timer);
    await subscription.stop();
  }
}
