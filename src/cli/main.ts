import { enableCompileCache } from 'node:module';
import { exitQuietlyOnClosedPipe, processIo, type CommandIo } from './commandIo.ts';
import { BusyElsewhereError, UsageError } from './usageError.ts';
import { oneLine } from './output.ts';

// Node keeps what it compiled (and the TypeScript it stripped) in its own cache directory, so a command started again
// does not redo it: 1.5 → 0.9 s to start. Only the modules loaded after this call use it, hence the commands below
// are loaded when run, one each (a `chronicle ledger` never loads the AI SDK or the KurrentDB client either).
enableCompileCache();

interface Command {
  run: (args: string[], io: CommandIo) => Promise<number>;
  usage: string;
}

/** A command's module exports `<name>Command` and `<name>Usage`. */
function commandOf(name: string, module: Record<string, unknown>): Command {
  return { run: module[`${name}Command`] as Command['run'], usage: module[`${name}Usage`] as string };
}

const commands: Record<string, { load: () => Promise<Record<string, unknown>>; summary: string }> = {
  demo: { load: () => import('./commands/demoCommand.ts'), summary: 'run the founding design\'s three requests as sessions, then replay one at its midpoint' },
  run: { load: () => import('./commands/runCommand.ts'), summary: 'run a query as a session turn to completion' },
  sessions: { load: () => import('./commands/sessionsCommand.ts'), summary: 'list sessions with their status' },
  events: { load: () => import('./commands/eventsCommand.ts'), summary: 'print a session\'s events, a stream, or the whole log' },
  replay: { load: () => import('./commands/replayCommand.ts'), summary: 'each actor of a session as of a position or time' },
  resume: { load: () => import('./commands/resumeCommand.ts'), summary: 'resume sessions a stopped process left unfinished' },
  submit: { load: () => import('./commands/submitCommand.ts'), summary: 'record a query for the workers to run; --wait follows it to its answer' },
  worker: { load: () => import('./commands/workerCommand.ts'), summary: 'run sessions as one of a group of workers sharing the store (leases; KurrentDB persistent subscription)' },
  workers: { load: () => import('./commands/workersCommand.ts'), summary: 'the work board: workers, who holds which session, unheld and parked sessions; --unpark' },
  state: { load: () => import('./commands/stateCommand.ts'), summary: 'every actor and projection of a session as of a point' },
  ledger: { load: () => import('./commands/ledgerCommand.ts'), summary: 'a session\'s token ledger as of a point' },
  climate: { load: () => import('./commands/climateCommand.ts'), summary: 'energy, emissions and true cost per call, as of a point, under any factor set' },
  budgets: { load: () => import('./commands/budgetsCommand.ts'), summary: 'how well turn budgets predicted usage, per mode, as learning went on' },
  emergency: { load: () => import('./commands/emergencyCommand.ts'), summary: 'declare, lift or list climate emergencies (triage serves them first)' },
  audit: { load: () => import('./commands/auditCommand.ts'), summary: 'verify sessions: hash chains, replay determinism, projections, causality; --report writes one session\'s report' },
  dashboard: { load: () => import('./commands/dashboardCommand.ts'), summary: 'serve the browser dashboard and its read-only JSON API (time slider, live mode)' },
  fork: { load: () => import('./commands/forkCommand.ts'), summary: 'a new session whose history is a copy of another\'s up to a point, to continue live' },
  import: { load: () => import('./commands/importCommand.ts'), summary: 'import a session exported with `events <id> --json`, hash chains checked first' },
  inspect: { load: () => import('./commands/inspectCommand.ts'), summary: 'replay a recorded session into the Stately inspector, step by step' },
  machines: { load: () => import('./commands/machinesCommand.ts'), summary: 'export each actor machine\'s definition as JSON (machines export)' },
  market: { load: () => import('./commands/marketCommand.ts'), summary: 'the token market: the book and trades as of a point; post offers and bids; clear' },
  memory: { load: () => import('./commands/memoryCommand.ts'), summary: 'cross-session memory: remembered turns, patterns, similar-turn lookup, as of a point' },
  verify: { load: () => import('./commands/verifyCommand.ts'), summary: 'check every stream\'s hash chain' },
};

async function help(): Promise<string> {
  const usages = await Promise.all(Object.entries(commands).map(async ([name, c]) => commandOf(name, await c.load()).usage));
  return [
    'chronicle: event-sourced LLM agent sessions',
    '',
    'Usage: chronicle <command> [options]',
    ...Object.values(commands).map((c, i) => `  ${usages[i]}\n      ${c.summary}`),
    '',
    'The store is chosen by --store or CHRONICLE_STORE: memory:, sqlite:<path> (default sqlite:.chronicle/chronicle.db),',
    'or kurrentdb://host:2113?tls=false.',
  ].join('\n');
}

/** Runs one CLI invocation; returns the exit code. Known error kinds print one clear line, not a stack. */
export async function runCli(argv: string[], io: CommandIo = processIo): Promise<number> {
  const [name, ...args] = argv;
  // `help <command>` and `<command> --help`: that command's usage and what it does.
  const asked = name === 'help' ? args[0] : args.includes('--help') || args.includes('-h') ? name : undefined;
  if (asked !== undefined && Object.hasOwn(commands, asked)) {
    io.out(`usage: chronicle ${commandOf(asked, await commands[asked]!.load()).usage}\n  ${commands[asked]!.summary}`);
    return 0;
  }
  if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
    io.out(await help());
    return name === undefined ? 2 : 0;
  }
  const entry = Object.hasOwn(commands, name) ? commands[name] : undefined;
  if (!entry) {
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
  const command = commandOf(name, await entry.load());
  if (io === processIo) process.once('beforeExit', onDrained);
  try {
    return await command.run(args, io);
  } catch (error) {
    if (error instanceof BusyElsewhereError) {
      io.warn(`chronicle ${error.message}`);
      return EXIT_WAITING_ON_ANOTHER_PROCESS;
    }
    if (error instanceof UsageError || isNamed(error, 'StoreUriError') || isNamed(error, 'ModelSpecError')) {
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

/** By name: the store's and the model layer's error classes are not loaded before a command needs them. */
function isNamed(error: unknown, name: string): error is Error {
  return error instanceof Error && error.name === name;
}

/** EX_TEMPFAIL (sysexits.h): nothing failed, and trying again later (or `chronicle resume`) finishes the work. */
const EXIT_WAITING_ON_ANOTHER_PROCESS = 75;

/**
 * The error as "<command>: <problem>". Usage errors mostly name their command already; a bad store URI or model
 * spec comes from below the CLI and does not, nor does a flag checked outside any one command (`--inspect-port`).
 */
function usageLine(name: string, error: Error): string {
  if (error.message.startsWith(`${name}: `) || error.message.startsWith(`${name} `) || error.message.startsWith('config: ')) return error.message;
  const flag = isNamed(error, 'StoreUriError') ? '--store: ' : isNamed(error, 'ModelSpecError') ? '--model: ' : '';
  return `${name}: ${flag}${error.message}`;
}

if (import.meta.main) {
  exitQuietlyOnClosedPipe();
  process.exitCode = await runCli(process.argv.slice(2));
}
