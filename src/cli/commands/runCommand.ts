import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { modelResolver } from '../../runtime/modelResolver.ts';
import { systemClock } from '../../runtime/clock.ts';
import { agentConfigFor, askInSession, DEFAULT_BUDGET_TOKENS, startSessionAndAsk } from '../../runtime/sessionService.ts';
import { readSessionEvents } from '../../runtime/sessionStreams.ts';
import { tokensUsed } from '../../runtime/callUsage.ts';
import { withCliRuntime } from '../cliRuntime.ts';
import { cliStoreUri, loadCliConfig } from '../cliConfig.ts';
import { assertSessionModels, queryFlags, queryFlagsSchema, sessionSettingsOf, settingsWarnings, settingsTheSessionKeeps, assertModelKeys } from '../sessionSettings.ts';
import { commandOptions } from '../commandOptions.ts';
import type { CommandIo } from '../commandIo.ts';
import { answerFields, toJson } from '../output.ts';
import { BusyElsewhereError, UsageError } from '../usageError.ts';
import { DEFAULT_INSPECT_PORT } from '../../inspect/inspectionServer.ts';
import { portSchema } from './inspectCommand.ts';
import { interactiveHolderPid, isInteractiveHolder } from '../interactiveHold.ts';
import type { ActorRuntime } from '../../runtime/actorRuntime.ts';
import type { EventStore } from '../../store/eventStore.ts';
import { WrongExpectedVersionError } from '../../store/errors.ts';

/** How long `--inspect` waits for a viewer before the run starts anyway: time to open the printed URL. */
const INSPECT_VIEWER_WAIT_MS = 30_000;

const schema = queryFlagsSchema.extend({
  inspect: z.boolean().optional(),
  'inspect-port': portSchema.optional(),
});

export const runUsage = 'run "<query>" --region <ISO 3166 code> --purpose <purpose> [--model <spec>] [--fallback-model <spec>] [--session <id>] [--json] [--store <uri>] [--inspect [--inspect-port <n>]]';

/** Runs one query as a session turn to completion and prints the answer, the session id and the tokens used. */
export async function runCommand(args: string[], io: CommandIo): Promise<number> {
  const { values, positionals } = commandOptions('run', args, {
    ...queryFlags,
    inspect: { type: 'boolean' }, 'inspect-port': { type: 'string' },
  }, schema);
  const text = positionals.join(' ').trim();
  if (text.length === 0) throw new UsageError('run: give the query as the first argument, in quotes');
  const config = loadCliConfig();
  const settings = sessionSettingsOf('run', config, values);
  // Said for a new session, whose settings these are; a further turn keeps the session's own.
  if (values.session === undefined) for (const warning of settingsWarnings(settings)) io.warn(warning);
  // This command calls the models itself: a key it lacks is refused before the session is recorded.
  if (values.session === undefined) assertModelKeys('run', [settings.model, settings.fallbackModel]);
  // --inspect-port alone asks for inspection too: nobody names a port they do not want used.
  const inspect = values.inspect || values['inspect-port'] !== undefined ? { port: values['inspect-port'] ?? DEFAULT_INSPECT_PORT, viewerWaitMs: INSPECT_VIEWER_WAIT_MS } : undefined;
  return withCliRuntime(values.store, io, async (runtime, store, { heldBy, hold }) => {
    const sessionId = values.session ?? randomUUID().slice(0, 8);
    const holder = values.session === undefined ? null : heldBy(sessionId);
    // Not a usage error: the same command succeeds once the other has answered, as with a session another process answers (75).
    if (holder !== null && isInteractiveHolder(holder)) throw new BusyElsewhereError(`run: session ${sessionId} is being run by another chronicle command (process ${interactiveHolderPid(holder)}); ask it again once that one has answered`);
    // Busy, as with a session another run holds (75): the same command is fine once the worker lets the session go.
    if (holder !== null) throw new BusyElsewhereError(`run: session ${sessionId} is held by worker ${holder}; hand it the query with \`chronicle submit --session ${sessionId} --wait\``);
    // With workers on the store, the session is held for the run's length (given back as the command ends), so none
    // of them runs it too.
    await hold?.hold(sessionId).catch((error: unknown) => {
      throw error instanceof WrongExpectedVersionError ? new BusyElsewhereError(`run: session ${sessionId} was taken by a worker or another command just now; ask it again once that one has answered`) : error;
    });
    return runTurn(runtime, store, sessionId);
  }, { inspect });

  async function runTurn(runtime: ActorRuntime, store: EventStore, sessionId: string): Promise<number> {
    const query = { text, region: values.region, purpose: values.purpose };
    if (values.session !== undefined) {
      await assertSessionModels('run', runtime, sessionId, values);
      const kept = await settingsTheSessionKeeps(runtime, sessionId, config);
      if (kept.length > 0) io.warn(`chronicle: session ${sessionId} keeps the settings it started with; the config file's ${kept.join(', ')} apply to new sessions`);
    }
    const outcome = values.session === undefined
      ? await startSessionAndAsk(runtime, sessionId, agentConfigFor(settings, modelResolver(systemClock)), config.budgetTokens ?? DEFAULT_BUDGET_TOKENS, query)
      : await askInSession(runtime, sessionId, query);
    await runtime.settled();
    const tokens = tokensUsed(await readSessionEvents(store, sessionId));
    if (values.json) {
      io.out(toJson({ sessionId, turn: outcome.turn, status: outcome.status, mode: outcome.mode, ...answerFields(outcome), model: outcome.model, tokens }));
    } else {
      io.out(outcome.status === 'answered' ? outcome.text : `FAILED: ${outcome.text}`);
      io.out('');
      io.out(`session ${sessionId}, turn ${outcome.turn} (${outcome.mode}), ${outcome.model ?? 'no model answered'}; tokens in the session so far: ${tokens.input} in, ${tokens.output} out`);
    }
    return outcome.status === 'answered' ? 0 : 1;
  }
}
