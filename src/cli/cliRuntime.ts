import { ActorRuntime, type RuntimeOptions } from '../runtime/actorRuntime.ts';
import { systemClock } from '../runtime/clock.ts';
import { modelResolver } from '../runtime/modelResolver.ts';
import type { WorkBoard } from '../../projections/workBoard/workBoard.ts';
import { resumeUnfinishedSessions, untilSessionsIdle, type InFlightSession, type WaitingSession } from '../runtime/resumeSessions.ts';
import type { EventStore } from '../store/eventStore.ts';
import { openEventStore } from '../store/openEventStore.ts';
import { holderOf, workBoardOf } from '../worker/workBoardReader.ts';
import { InspectPortError } from '../inspect/inspectionServer.ts';
import { startLiveInspection, type LiveInspection } from '../inspect/liveInspection.ts';
import { cliStoreUri, loadCliConfig } from './cliConfig.ts';
import { InteractiveHold } from './interactiveHold.ts';
import type { CommandIo } from './commandIo.ts';
import { sessionProjections } from './sessionProjections.ts';
import { UsageError } from './usageError.ts';
import { turnsFinishedSince } from '../runtime/finishedTurns.ts';
import { describeFinishedTurn } from './output.ts';

/** Log positions a store-wide fold must be past its newest checkpoint before a command records another. */
const STORE_FOLD_CHECKPOINT_GAP = 2_000;

/** How long an interrupted command waits for what it undoes before it exits. */
const UNDO_TIMEOUT_MS = 2_000;

/** What start-up found: who holds which session, and the sessions that only wait on a timer due later. */
export interface ResumeState {
  heldBy: (sessionId: string) => string | null;
  waiting: readonly WaitingSession[];
  /** The sessions start-up resumed with work to do now (the command waits for them before it ends). */
  resumed: readonly string[];
  /** Sessions left to the live workers holding them, with their workers. */
  held: readonly { sessionId: string; workerId: string }[];
  /** The work board as the command started, or undefined when no worker ever joined the store. */
  board: WorkBoard | undefined;
  /**
   * Where workers share the store, the leases this command holds (the sessions it resumed, and any it runs): given
   * back when the command ends. Undefined in a store no worker ever joined.
   */
  hold: InteractiveHold | undefined;
  /** Undoes, on Ctrl-C or SIGTERM, what the command set up for itself only (the demo's emergency), before it exits. */
  onInterrupt: (undo: () => Promise<unknown>) => void;
}

export interface CliRuntimeOptions {
  /** Stream every actor step to the Stately inspector on this port (0: any free port), after waiting up to `viewerWaitMs` for a viewer. */
  inspect?: { port: number; viewerWaitMs: number };
  /** Resume sessions whose model call is still within its timeout too, rather than leave them to a process that may be running them. */
  takeOverInFlight?: boolean;
}

/**
 * The runtime as the CLI runs it: real clock, random ids, real or scripted models. At start-up it resumes any
 * session a previous process left unfinished, so no command leaves half-run work behind it.
 */
export async function withCliRuntime<T>(storeUri: string | undefined, io: CommandIo, work: (runtime: ActorRuntime, store: EventStore, resume: ResumeState) => Promise<T>, options: CliRuntimeOptions = {}): Promise<T> {
  const store = await openEventStore(cliStoreUri(storeUri), { warn: io.warn });
  const started = new Date().toISOString();
  // The log's end as the command starts: turns asked after it are the command's own, printed by the command.
  const startPosition = await store.lastPosition?.();
  let inspection: LiveInspection | undefined;
  try {
    if (options.inspect) inspection = await inspectLive(store, io, options.inspect);
  } catch (error) {
    await store.close();
    throw error;
  }
  // A fact the runtime could not record (a model's answer when the store went away mid-run) means a step that will
  // never be taken in this process: the command stops with that error rather than wait for it; `resume` takes it up.
  let stop: (error: Error) => void = () => undefined;
  const stopped = new Promise<never>((_, reject) => (stop = reject));
  const runtime = createCliRuntime(store, { onStep: inspection?.onStep, onBackgroundFailure: (error) => (stop(error), false) });
  // Ctrl-C mid-run: exit between writes, never inside one, and say what becomes of the work (without a handler Node
  // exits silently). The log already holds every step taken, so nothing is lost; an unanswered call is `resume`'s.
  // SIGTERM (a service manager, `kill`) is told the same, exiting as a terminated process does.
  const undos: (() => Promise<unknown>)[] = [];
  const interrupted = (signal: NodeJS.Signals) => {
    io.warn('chronicle: interrupted; every step recorded so far is kept, and `chronicle resume` finishes what was under way');
    const exit = () => process.exit(signal === 'SIGTERM' ? 143 : 130);
    if (undos.length === 0) return exit();
    // Given a moment each, never more: an interrupted command must end.
    void Promise.race([Promise.allSettled(undos.map((undo) => undo())), new Promise((resolve) => setTimeout(resolve, UNDO_TIMEOUT_MS))]).finally(exit);
  };
  process.once('SIGINT', interrupted);
  process.once('SIGTERM', interrupted);
  let hold: InteractiveHold | undefined;
  try {
    const finished = (async () => {
      const board = await workBoardOf(store);
      // With workers on the store, a session resumed here is held while it runs, so none of them runs it too.
      hold = InteractiveHold.forBoard(store, board);
      const claim = hold?.claim.bind(hold);
      // The live worker holding a session, if any: such a session is that worker's to run, not this command's.
      const heldBy = (sessionId: string) => holderOf(board, sessionId, Date.now());
      const waiting: WaitingSession[] = [];
      const held: { sessionId: string; workerId: string }[] = [];
      const resumed = await resumeUnfinishedSessions(runtime, {
        onSkipped: (sessionId, reason) => io.warn(`chronicle: not resuming session ${sessionId}: ${reason}`),
        heldBy,
        onHeld: (sessionId, workerId) => held.push({ sessionId, workerId }),
        onWaiting: (session) => waiting.push(session),
        ...(claim ? { claim } : {}),
        // `resume` is asked to take over what a stopped process left; any other command leaves a call that may still
        // be awaited by the process that made it (another terminal's `run`) to that process, until its timeout.
        ...(options.takeOverInFlight ? {} : {
          leaveInFlight: ({ sessionId, timeoutAt, awaiting }: InFlightSession) => io.warn(`chronicle: left session ${sessionId} to the process running it: ${awaiting === 'call' ? 'its model call is awaited until' : 'its retry is due at'} ${new Date(timeoutAt).toISOString()} (if that process has stopped, \`chronicle resume\` takes the session over now)`),
        }),
      });
      if (resumed.length > 0) io.warn(`chronicle: resumed ${resumed.length} unfinished session(s): ${resumed.join(', ')}`);
      const result = await work(runtime, store, { heldBy, waiting, resumed, held, board, hold, onInterrupt: (undo) => undos.push(undo) });
      await untilSessionsIdle(runtime, resumed);
      // A turn a stopped process left, finished here: its answer is said, as the process that asked could not (on
      // stderr, a command's output being its own; `resume` sends it to stdout).
      for (const turn of await turnsFinishedSince(store, resumed, started, startPosition)) io.warn(describeFinishedTurn(turn));
      await runtime.settled();
      // A command that folded much of the log leaves a checkpoint, so the next one (here or elsewhere) folds less.
      await runtime.checkpointStoreFolds(STORE_FOLD_CHECKPOINT_GAP).catch((error: unknown) => io.warn(`chronicle: store-wide projections not checkpointed: ${(error as Error).message}`));
      return result;
    })();
    finished.catch(() => undefined); // once stopped, what it was waiting for is abandoned; its own error is not news
    return await Promise.race([finished, stopped]);
  } finally {
    process.off('SIGINT', interrupted);
    process.off('SIGTERM', interrupted);
    await hold?.release();
    runtime.stop();
    await inspection?.close();
    await store.close();
  }
}

/** The runtime the CLI's commands (and workers) run: the config file's settings, real clock, real or scripted models. */
export function createCliRuntime(store: EventStore, extra: Partial<RuntimeOptions> = {}): ActorRuntime {
  const { checkpointEveryTokens, checkpointRetention, maxActiveTurns, councilThreshold, triageModel } = loadCliConfig();
  return new ActorRuntime({ store, models: modelResolver(systemClock), projections: sessionProjections(), checkpointEveryTokens, checkpointRetention, maxActiveTurns, councilThreshold, triageModel, ...extra });
}

/** Starts the inspection server and waits for a viewer, so the run is watched from its first step (it goes on without one). */
async function inspectLive(store: EventStore, io: CommandIo, options: NonNullable<CliRuntimeOptions['inspect']>): Promise<LiveInspection> {
  const inspection = await startLiveInspection({ store, port: options.port, warn: io.warn }).catch((error: unknown) => {
    throw error instanceof InspectPortError ? new UsageError(`--inspect-port: ${error.message}`) : error;
  });
  // On stderr: stdout stays the command's own output (the answer, or --json).
  io.warn(`chronicle: Stately inspector: open ${inspection.server.pageUrl} (inspection events on ${inspection.server.socketUrl})`);
  if (!await inspection.server.waitForViewer(options.viewerWaitMs)) io.warn(`chronicle: no inspector connected within ${options.viewerWaitMs / 1000} s; running anyway (a viewer that connects later is sent everything so far)`);
  return inspection;
}
