import { demoCommand, demoUsage } from './commands/demoCommand.ts';
import { eventsCommand, eventsUsage } from './commands/eventsCommand.ts';
import { verifyCommand, verifyUsage } from './commands/verifyCommand.ts';
import { replayCommand, replayUsage } from './commands/replayCommand.ts';
import { resumeCommand, resumeUsage } from './commands/resumeCommand.ts';
import { runCommand, runUsage } from './commands/runCommand.ts';
import { sessionsCommand, sessionsUsage } from './commands/sessionsCommand.ts';
import { ledgerCommand, ledgerUsage } from './commands/ledgerCommand.ts';
import { stateCommand, stateUsage } from './commands/stateCommand.ts';
import { climateCommand, climateUsage } from './commands/climateCommand.ts';
import { budgetsCommand, budgetsUsage } from './commands/budgetsCommand.ts';
import { emergencyCommand, emergencyUsage } from './commands/emergencyCommand.ts';
import { auditCommand, auditUsage } from './commands/auditCommand.ts';
import { dashboardCommand, dashboardUsage } from './commands/dashboardCommand.ts';
import { forkCommand, forkUsage } from './commands/forkCommand.ts';
import { importCommand, importUsage } from './commands/importCommand.ts';
import { inspectCommand, inspectUsage } from './commands/inspectCommand.ts';
import { machinesCommand, machinesUsage } from './commands/machinesCommand.ts';
import { memoryCommand, memoryUsage } from './commands/memoryCommand.ts';
import { marketCommand, marketUsage } from './commands/marketCommand.ts';
import { submitCommand, submitUsage } from './commands/submitCommand.ts';
import { workerCommand, workerUsage } from './commands/workerCommand.ts';
import { workersCommand, workersUsage } from './commands/workersCommand.ts';
import { exitQuietlyOnClosedPipe, processIo, type CommandIo } from './commandIo.ts';
import { BusyElsewhereError, UsageError } from './usageError.ts';
import { oneLine } from './output.ts';
import { StoreUriError } from '../store/openEventStore.ts';
import { ModelSpecError } from '../models/modelSpec.ts';

const commands: Record<string, { run: (args: string[], io: CommandIo) => Promise<number>; usage: string; summary: string }> = {
  demo: { run: demoCommand, usage: demoUsage, summary: 'run the founding design\'s three requests as sessions, then replay one at its midpoint' },
  run: { run: runCommand, usage: runUsage, summary: 'run a query as a session turn to completion' },
  sessions: { run: sessionsCommand, usage: sessionsUsage, summary: 'list sessions with their status' },
  events: { run: eventsCommand, usage: eventsUsage, summary: 'print a session\'s events, a stream, or the whole log' },
  replay: { run: replayCommand, usage: replayUsage, summary: 'each actor of a session as of a position or time' },
  resume: { run: resumeCommand, usage: resumeUsage, summary: 'resume sessions a stopped process left unfinished' },
  submit: { run: submitCommand, usage: submitUsage, summary: 'record a query for the workers to run; --wait follows it to its answer' },
  worker: { run: workerCommand, usage: workerUsage, summary: 'run sessions as one of a group of workers sharing the store (leases; KurrentDB persistent subscription)' },
  workers: { run: workersCommand, usage: workersUsage, summary: 'the work board: workers, who holds which session, unheld and parked sessions; --unpark' },
  state: { run: stateCommand, usage: stateUsage, summary: 'every actor and projection of a session as of a point' },
  ledger: { run: ledgerCommand, usage: ledgerUsage, summary: 'a session\'s token ledger as of a point' },
  climate: { run: climateCommand, usage: climateUsage, summary: 'energy, emissions and true cost per call, as of a point, under any factor set' },
  budgets: { run: budgetsCommand, usage: budgetsUsage, summary: 'how well turn budgets predicted usage, per mode, as learning went on' },
  emergency: { run: emergencyCommand, usage: emergencyUsage, summary: 'declare, lift or list climate emergencies (triage serves them first)' },
  audit: { run: auditCommand, usage: auditUsage, summary: 'verify sessions: hash chains, replay determinism, projections, causality; --report writes one session\'s report' },
  dashboard: { run: dashboardCommand, usage: dashboardUsage, summary: 'serve the browser dashboard and its read-only JSON API (time slider, live mode)' },
  fork: { run: forkCommand, usage: forkUsage, summary: 'a new session whose history is a copy of another\'s up to a point, to continue live' },
  import: { run: importCommand, usage: importUsage, summary: 'import a session exported with `events <id> --json`, hash chains checked first' },
  inspect: { run: inspectCommand, usage: inspectUsage, summary: 'replay a recorded session into the Stately inspector, step by step' },
  machines: { run: machinesCommand, usage: machinesUsage, summary: 'export each actor machine\'s definition as JSON (machines export)' },
  market: { run: marketCommand, usage: marketUsage, summary: 'the token market: the book and trades as of a point; post offers and bids; clear' },
  memory: { run: memoryCommand, usage: memoryUsage, summary: 'cross-session memory: remembered turns, patterns, similar-turn lookup, as of a point' },
  verify: { run: verifyCommand, usage: verifyUsage, summary: 'check every stream\'s hash chain' },
};

function help(): string {
  return [
    'chronicle: event-sourced LLM agent sessions',
    '',
    'Usage: chronicle <command> [options]',
    ...Object.values(commands).map((c) => `  ${c.usage}\n      ${c.summary}`),
    '',
    'The store is chosen by --store or CHRONICLE_STORE: memory:, sqlite:<path> (default sqlite:.chronicle/chronicle.db),',
    'or kurrentdb://host:2113?tls=false.',
  ].join('\n');
}

/** Runs one CLI invocation; returns the exit code. Known error kinds print one clear line, not a stack. */
export async function runCli(argv: string[], io: CommandIo = processIo): Promise<number> {
  const [name, ...args] = argv;
  if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
    io.out(help());
    return name === undefined ? 2 : 0;
  }
  const command = commands[name];
  if (!command) {
    io.warn(`chronicle: unknown command "${name}". Commands: ${Object.keys(commands).join(', ')}. Run "chronicle help".`);
    return 2;
  }
  // The event loop can drain while a command still waits: for an outcome another process is recording (a second
  // `run` on a session whose call is under way elsewhere). Node would exit 13 with a warning about top-level await;
  // say instead what happened to the work, and exit EX_TEMPFAIL. Only in a real process: tests call runCli in-process.
  const onDrained = () => {
    io.warn(`chronicle ${name}: stopped waiting: the work this command waited for is under way in another process (a session's model call, or a turn it is answering), and nothing in this one can finish it. What was recorded stays recorded: \`chronicle sessions\` shows where it stands, and \`chronicle resume\` finishes it if that process has stopped.`);
    process.exit(EXIT_WAITING_ON_ANOTHER_PROCESS);
  };
  if (io === processIo) process.once('beforeExit', onDrained);
  try {
    return await command.run(args, io);
  } catch (error) {
    if (error instanceof BusyElsewhereError) {
      io.warn(`chronicle ${error.message}`);
      return EXIT_WAITING_ON_ANOTHER_PROCESS;
    }
    if (error instanceof UsageError || error instanceof StoreUriError || error instanceof ModelSpecError) {
      io.warn(`chronicle ${usageLine(name, error)}\nusage: chronicle ${command.usage}`);
      return 2;
    }
    const known = ['UnknownSessionError', 'SessionClosedError', 'LedgerViolationError', 'MachineVersionError', 'WrongExpectedVersionError', 'StreamNotFoundError', 'StreamDeletedError', 'CorruptEventError', 'EventSchemaError', 'StoreUnavailableError', 'DuplicateEventIdError', 'WorkerIdInUseError', 'StoreNotFoundError'];
    if (error instanceof Error && known.includes(error.name)) {
      io.warn(oneLine(`chronicle ${name}: ${error.name}: ${error.message}`));
      return 1;
    }
    // node:sqlite's own error from a read (writes and opens are explained by the store): the file, not the command.
    if (error instanceof Error && (error as { code?: unknown }).code === 'ERR_SQLITE_ERROR') {
      const damaged = [11, 26].includes(Number((error as { errcode?: unknown }).errcode) & 0xff);
      io.warn(oneLine(`chronicle ${name}: the SQLite store could not be read: ${error.message}${damaged ? '. The file is damaged: restore it from a backup (`chronicle verify` reports what it finds)' : ''}`));
      return 1;
    }
    throw error;
  } finally {
    process.off('beforeExit', onDrained);
  }
}

/** EX_TEMPFAIL (sysexits.h): nothing failed, and trying again later (or `chronicle resume`) finishes the work. */
const EXIT_WAITING_ON_ANOTHER_PROCESS = 75;

/**
 * The error as "<command>: <problem>". Usage errors mostly name their command already; a bad store URI or model
 * spec comes from below the CLI and does not, nor does a flag checked outside any one command (`--inspect-port`).
 */
function usageLine(name: string, error: Error): string {
  if (error.message.startsWith(`${name}: `) || error.message.startsWith(`${name} `) || error.message.startsWith('config: ')) return error.message;
  const flag = error instanceof StoreUriError ? '--store: ' : error instanceof ModelSpecError ? '--model: ' : '';
  return `${name}: ${flag}${error.message}`;
}

if (import.meta.main) {
  exitQuietlyOnClosedPipe();
  process.exitCode = await runCli(process.argv.slice(2));
}
