import { existsSync, statSync } from 'node:fs';
import { DatabaseSync } from 'node:sqlite';
import { dirname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { z } from 'zod';
import type { EventRegistry } from '../events/eventRegistry.ts';
import type { EventStore } from './eventStore.ts';
import { StoreUnavailableError } from './errors.ts';
import { MemoryEventStore } from './memoryEventStore.ts';
import { directoryIsNoStore, SqliteEventStore } from './sqliteEventStore.ts';
import { sqliteFailure } from './sqliteFailure.ts';

export const DEFAULT_STORE_URI = 'sqlite:.chronicle/chronicle.db';

const ACCEPTED_FORMS = [
  'memory:                                   (in-process, gone at exit; tests and the harness)',
  'sqlite:<path>[?synchronous=normal|full][&maxBytes=<n>][&readAhead=<events>|off]   (embedded, one file; default',
  '                                          sqlite:.chronicle/chronicle.db; maxBytes caps the file: writes beyond it fail as',
  '                                          "store is full"; reads of many streams of at least readAhead events, default',
  '                                          10000, are read ahead on a thread)',
  'kurrentdb://host:port[,host:port…]?tls=false (KurrentDB; `docker compose up -d` starts one on localhost:2113)',
];

export class StoreUriError extends Error {
  override readonly name = 'StoreUriError';
  constructor(uri: string, problem: string) {
    super(`Store URI ${JSON.stringify(uri)}: ${problem}. Accepted forms:\n  ${ACCEPTED_FORMS.join('\n  ')}`);
  }
}

const sqliteQuery = z.strictObject({
  synchronous: z.enum(['normal', 'full']).optional(),
  maxBytes: z.string().regex(/^[1-9][0-9]*$/, 'a positive whole number of bytes').transform(Number).pipe(z.number().int().max(Number.MAX_SAFE_INTEGER)).optional(),
  readAhead: z.string().regex(/^(off|0|[1-9][0-9]{0,14})$/, 'a whole number of events, or off').transform((v) => (v === 'off' ? Infinity : Number(v))).optional(),
});

export type StoreLocation =
  | { kind: 'memory' }
  | { kind: 'sqlite'; path: string; synchronous: 'normal' | 'full'; maxBytes?: number; readAheadMinEvents?: number }
  | { kind: 'kurrentdb'; connectionString: string };

/** Parses a store URI (`--store` / `CHRONICLE_STORE`) without opening anything. */
export function parseStoreUri(uri: string, cwd = process.cwd()): StoreLocation {
  const text = uri.trim();
  if (text === 'memory:' || text === 'memory') return { kind: 'memory' };
  if (text.startsWith('kurrentdb://') || text.startsWith('kurrentdb+discover://') || text.startsWith('esdb://')) {
    if (!/^[a-z+]+:\/\/[^/?#\s]+/.test(text)) throw new StoreUriError(uri, 'a KurrentDB URI needs at least one host:port');
    return { kind: 'kurrentdb', connectionString: text };
  }
  if (text.startsWith('sqlite:')) {
    const [rawPath = '', query = ''] = text.slice('sqlite:'.length).split('?', 2);
    const path = rawPath.replace(/^\/\/(?=\/)/, '');
    if (path.length === 0) throw new StoreUriError(uri, 'the sqlite form needs a file path after "sqlite:"');
    const options = sqliteQuery.safeParse(Object.fromEntries(new URLSearchParams(query)));
    if (!options.success) {
      throw new StoreUriError(uri, `bad sqlite option: ${options.error.issues.map((i) => `${i.path.join('.') || 'option'}: ${i.message}`).join('; ')}`);
    }
    const { synchronous = 'normal', maxBytes, readAhead } = options.data;
    return {
      kind: 'sqlite', path: path === ':memory:' ? path : resolve(cwd, path), synchronous,
      ...(maxBytes === undefined ? {} : { maxBytes }), ...(readAhead === undefined ? {} : { readAheadMinEvents: readAhead }),
    };
  }
  throw new StoreUriError(uri, 'unknown scheme');
}

/** `CHRONICLE_STORE` when set and not empty, else the embedded default. */
export function configuredStoreUri(): string {
  return process.env.CHRONICLE_STORE || DEFAULT_STORE_URI;
}

export class StoreNotFoundError extends Error {
  override readonly name = 'StoreNotFoundError';
}

const CREATES_ONE = 'Check --store or CHRONICLE_STORE; `chronicle run` or `chronicle demo` creates one.';

/**
 * A Chronicle store is at `path`: the file is there and holds Chronicle's tables. Looked at without writing, since
 * opening a store creates its tables (and turns on WAL): a read-only command pointed at another program's SQLite
 * file must not change it.
 */
function assertStoreAt(path: string): void {
  if (!existsSync(path)) throw new StoreNotFoundError(`No store at ${path}: nothing has been recorded there. ${CREATES_ONE}`);
  if (statSync(path).isDirectory()) throw directoryIsNoStore(path);
  let db: DatabaseSync | undefined;
  let holdsStore: boolean;
  try {
    // Read-only, so a foreign WAL database is not checkpointed on close; waiting as the store itself does while
    // another process holds the write lock. With no write-ahead log (or rollback journal) beside the file, no other
    // connection is writing it and nothing is missed by reading the file as immutable, which leaves no -shm or -wal
    // file behind either (a read-only connection to a WAL database makes both).
    const atRest = !existsSync(`${path}-wal`) && !existsSync(`${path}-journal`);
    db = new DatabaseSync(atRest ? `${pathToFileURL(path).href}?immutable=1` : path, { readOnly: true, timeout: 10_000 });
    holdsStore = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'chronicle_schema'").get() !== undefined;
  } catch (error) {
    throw sqliteFailure(error, { path, action: 'open' }) ?? new StoreUnavailableError(`Cannot open the SQLite store at ${path}: ${(error as Error).message}`, { cause: error, storePath: path });
  } finally {
    db?.close();
  }
  if (!holdsStore) throw new StoreNotFoundError(`No store at ${path}: the file is there, but holds none of Chronicle's tables (another program's database, or an empty file). It was left as it is. ${CREATES_ONE}`);
}

/** The outermost directory of `path` that does not exist yet, if any. */
function missingDirectoryOf(path: string): string | undefined {
  let missing: string | undefined;
  for (let dir = dirname(path); !existsSync(dir); dir = dirname(dir)) {
    missing = dir;
    if (dirname(dir) === dir) break;
  }
  return missing;
}

/**
 * Opens the store a URI names. KurrentDB's gRPC client is loaded only when asked for. `existing`: for commands that
 * only read, a SQLite file that is not there is an error, not a new empty store (a typo'd path would otherwise be
 * created, and `verify` would call its zero events intact).
 */
export async function openEventStore(
  uri: string = configuredStoreUri(),
  options: { registry?: EventRegistry; existing?: boolean; warn?: (message: string) => void } = {},
): Promise<EventStore> {
  const location = parseStoreUri(uri);
  const { existing, warn, ...storeOptions } = options;
  switch (location.kind) {
    case 'memory':
      return new MemoryEventStore(storeOptions);
    case 'sqlite': {
      if (existing && location.path !== ':memory:') assertStoreAt(location.path);
      // A new store in a directory that is not there yet: made, and said, so a typo in the path is seen at once
      // rather than when the sessions recorded under it are missed (the default location is made quietly).
      const newDirectory = location.path !== ':memory:' && uri !== DEFAULT_STORE_URI ? missingDirectoryOf(location.path) : undefined;
      const store = new SqliteEventStore(location.path, { ...storeOptions, synchronous: location.synchronous, maxBytes: location.maxBytes, readAheadMinEvents: location.readAheadMinEvents });
      if (newDirectory !== undefined) warn?.(`chronicle: made the directory ${newDirectory} for a new store at ${location.path}`);
      return store;
    }
    case 'kurrentdb': {
      const { KurrentDbEventStore } = await import('./kurrentdbEventStore.ts');
      return new KurrentDbEventStore(location.connectionString, storeOptions);
    }
  }
}
