import { accessSync, constants, statfsSync } from 'node:fs';
import { dirname } from 'node:path';
import { StoreUnavailableError, type StoreUnavailableReason } from './errors.ts';

/** What the store was doing when SQLite refused: opening the file, starting a write transaction, or writing in one. */
export type SqliteAction = 'open' | 'begin' | 'write';

export interface SqliteFailureContext {
  path: string;
  action: SqliteAction;
  /** The store's size cap, when it has one: a full store is then told apart from a full disk. */
  maxBytes?: number;
}

// Primary result codes (https://sqlite.org/rescode.html); node:sqlite reports the extended code as `errcode`.
const SQLITE_BUSY = 5;
const SQLITE_LOCKED = 6;
const SQLITE_READONLY = 8;
const SQLITE_IOERR = 10;
const SQLITE_FULL = 13;
const SQLITE_CANTOPEN = 14;

/** Extended codes a user may meet here, by name, so the message says which one SQLite gave. */
const EXTENDED_NAMES: Record<number, string> = {
  261: 'SQLITE_BUSY_RECOVERY', 517: 'SQLITE_BUSY_SNAPSHOT', 773: 'SQLITE_BUSY_TIMEOUT',
  264: 'SQLITE_READONLY_RECOVERY', 520: 'SQLITE_READONLY_CANTLOCK', 776: 'SQLITE_READONLY_ROLLBACK',
  1032: 'SQLITE_READONLY_DBMOVED', 1288: 'SQLITE_READONLY_CANTINIT', 1544: 'SQLITE_READONLY_DIRECTORY',
  266: 'SQLITE_IOERR_READ', 522: 'SQLITE_IOERR_SHORT_READ', 778: 'SQLITE_IOERR_WRITE', 1034: 'SQLITE_IOERR_FSYNC',
  1290: 'SQLITE_IOERR_DIR_FSYNC', 1546: 'SQLITE_IOERR_TRUNCATE', 1802: 'SQLITE_IOERR_FSTAT', 3850: 'SQLITE_IOERR_LOCK',
  4618: 'SQLITE_IOERR_SHMOPEN', 4874: 'SQLITE_IOERR_SHMSIZE', 5386: 'SQLITE_IOERR_SHMMAP', 6154: 'SQLITE_IOERR_MMAP',
};
const PRIMARY_NAMES: Record<number, string> = {
  [SQLITE_BUSY]: 'SQLITE_BUSY', [SQLITE_LOCKED]: 'SQLITE_LOCKED', [SQLITE_READONLY]: 'SQLITE_READONLY',
  [SQLITE_IOERR]: 'SQLITE_IOERR', [SQLITE_FULL]: 'SQLITE_FULL', [SQLITE_CANTOPEN]: 'SQLITE_CANTOPEN',
};

const RESUME = 'then run `chronicle resume` to finish what was left unfinished';

/**
 * Turns an error SQLite raised into one line a user can act on: the store's path, what went wrong and how to fix it,
 * for the ways a store becomes unavailable (locked, read-only, full, an I/O error, not openable). Anything else
 * (a constraint, a bug) is not a store fault and is left to the caller: undefined.
 */
export function sqliteFailure(error: unknown, context: SqliteFailureContext): StoreUnavailableError | undefined {
  const code = (error as { code?: unknown; errcode?: unknown } | undefined)?.code === 'ERR_SQLITE_ERROR' ? (error as { errcode?: unknown }).errcode : undefined;
  if (typeof code !== 'number') return undefined;
  const primary = code & 0xff;
  if (!(primary in PRIMARY_NAMES)) return undefined;
  const sqlite = `${EXTENDED_NAMES[code] ?? PRIMARY_NAMES[primary]}: ${(error as Error).message}`;
  const diagnosis = diagnose(primary, code, context);
  const { path, action } = context;
  const subject = action === 'open' ? `The SQLite store at ${path} cannot be opened` : `The SQLite store at ${path} cannot record this write`;
  const written = action === 'open' ? 'Nothing was written.' : 'Nothing of this write was recorded.';
  return new StoreUnavailableError(`${subject}: ${diagnosis.cause} (${sqlite}). ${written} To fix: ${diagnosis.fix}, ${RESUME}.`, {
    cause: error, reason: diagnosis.reason, storePath: path,
  });
}

interface Diagnosis { reason: StoreUnavailableReason; cause: string; fix: string }

function diagnose(primary: number, code: number, context: SqliteFailureContext): Diagnosis {
  switch (primary) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return {
        reason: 'locked',
        cause: 'it is locked: another process (a long transaction, a backup, another writer) held its write lock for longer than the busy timeout',
        fix: 'let that process finish or stop it',
      };
    case SQLITE_READONLY:
      if (code === 1032) return { reason: 'read-only', cause: 'the database file was moved or deleted while this process had it open', fix: 'put the file back where it was' };
      return readOnly('it is read-only', refusingFile(context.path) ?? 'the file, its -wal or -shm file or its directory refuses writes');
    case SQLITE_FULL:
      return full(context);
    case SQLITE_CANTOPEN:
      return { reason: 'unopenable', cause: 'the file cannot be opened (its directory is missing, or the file or directory is not accessible)', fix: 'check the path and its permissions' };
    default: {
      // A write the kernel refused shows up as an I/O error on an open connection (a file made immutable, a file
      // system remounted read-only, a disk out of space): look at the files to say which, before blaming the disk.
      const refusing = refusingFile(context.path);
      if (refusing) return readOnly('it became read-only while open', refusing);
      if (freeBytes(context.path) === 0) return full(context);
      return {
        reason: 'io',
        cause: 'the disk or file system reported an I/O error',
        fix: 'check the disk and its file system (e.g. dmesg), run `chronicle verify`',
      };
    }
  }
}

function readOnly(lead: string, refusing: string): Diagnosis {
  return { reason: 'read-only', cause: `${lead}: ${refusing}`, fix: 'make the store writable again (chmod u+w, chattr -i, or remount the file system read-write)' };
}

function full(context: SqliteFailureContext): Diagnosis {
  const free = freeBytes(context.path);
  if (context.maxBytes !== undefined && free !== 0) {
    return {
      reason: 'full',
      cause: `it is full: it reached its size cap of ${context.maxBytes} bytes (maxBytes in the store URI)`,
      fix: 'raise maxBytes in the store URI (sqlite:<path>?maxBytes=<n>)',
    };
  }
  return { reason: 'full', cause: 'the disk is full: no space is left on the file system that holds it', fix: `free space on that file system (${dirname(context.path)})` };
}

/** The first of the store's files (or its directory) that this process may not write, with the kernel's reason. */
function refusingFile(path: string): string | undefined {
  for (const file of [path, `${path}-wal`, `${path}-shm`, dirname(path)]) {
    try {
      accessSync(file, constants.W_OK);
    } catch (error) {
      const errno = (error as NodeJS.ErrnoException).code;
      if (errno === 'ENOENT') continue; // a -wal or -shm that is not there yet refuses nothing
      return `${file} refuses writes (${errno}${ERRNO_MEANING[errno ?? ''] ?? ''})`;
    }
  }
  return undefined;
}

const ERRNO_MEANING: Record<string, string> = {
  EPERM: ': an immutable or append-only flag, see lsattr',
  EACCES: ': file permissions',
  EROFS: ': a read-only file system',
};

/** Bytes an unprivileged writer can still use where the store lives; undefined when that cannot be told. */
function freeBytes(path: string): number | undefined {
  try {
    const stats = statfsSync(dirname(path));
    return stats.bavail * stats.bsize;
  } catch {
    return undefined;
  }
}
