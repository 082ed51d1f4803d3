// Ways to take a real SQLite store away from a running process and give it back, for test/runtime/storeFaults.test.ts.
// Each says which mechanism it is; each is detected before use, since a container may refuse mount or chattr.
import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, closeSync, existsSync, mkdirSync, openSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { StoreUnavailableError } from '../../src/store/errors.ts';
import { SqliteEventStore } from '../../src/store/sqliteEventStore.ts';
import { taskAssigned } from './events.ts';

const MAIN = join(import.meta.dirname, '../../src/cli/main.ts');

export interface CliResult { code: number | null; stdout: string; stderr: string }

/** The `chronicle` command as a user runs it: its own process, exit code and both output streams. */
export function chronicleProcess(args: string[]): Promise<CliResult> {
  const child = spawn(process.execPath, [MAIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, CHRONICLE_STORE: '', CHRONICLE_CONFIG: '' } });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}

/** Waits until the store at `path` holds an event of `type` (read by a separate, read-only connection). */
export async function untilRecorded(path: string, type: string, timeoutMs = 20_000): Promise<void> {
  for (const deadline = Date.now() + timeoutMs; Date.now() < deadline; await new Promise((r) => setTimeout(r, 25))) {
    let db: DatabaseSync | undefined;
    try {
      db = new DatabaseSync(path, { readOnly: true });
      if (db.prepare('SELECT 1 FROM events WHERE type = ? LIMIT 1').get(type)) return;
    } catch {
      // Not created yet, or its schema is not written yet.
    } finally {
      db?.close();
    }
  }
  throw new Error(`no ${type} in ${path} within ${timeoutMs} ms`);
}

function succeeds(command: string, args: string[]): boolean {
  try {
    execFileSync(command, args, { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** A store that runs out of space mid-run, and gets it back. */
export interface DiskFull {
  /** Which mechanism, for the test's report. */
  mechanism: string;
  /** The store URI the run uses. */
  storeUri: string;
  /** Takes the remaining space. */
  fill(): Promise<void>;
  /** Gives space back; the store URI to use from then on. */
  free(): string;
  dispose(): void;
}

/**
 * A real full disk: the store on its own small tmpfs, filled by another file. Needs mount (root with CAP_SYS_ADMIN):
 * undefined where that is refused.
 */
export function tmpfsDiskFull(dir: string): DiskFull | undefined {
  const mountPoint = join(dir, 'tmpfs');
  mkdirSync(mountPoint, { recursive: true });
  if (process.getuid?.() !== 0 || !succeeds('mount', ['-t', 'tmpfs', '-o', 'size=4m', 'tmpfs', mountPoint])) return undefined;
  const ballast = join(mountPoint, 'ballast');
  const storeUri = `sqlite:${join(mountPoint, 'store.db')}`;
  return {
    mechanism: 'a 4 MiB tmpfs filled by another file (ENOSPC)',
    storeUri,
    async fill() {
      const fd = openSync(ballast, 'w');
      const chunk = Buffer.alloc(64 * 1024);
      try {
        for (;;) writeSync(fd, chunk);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
      } finally {
        closeSync(fd);
      }
    },
    free() {
      rmSync(ballast);
      return storeUri;
    },
    dispose() {
      succeeds('umount', ['-l', mountPoint]);
    },
  };
}

/**
 * The store's own size cap (`?maxBytes=`), filled to the cap by another writer of the same store. Needs no
 * privilege; the fix the error names, a larger cap, gives the space back.
 */
export function cappedStoreFull(dir: string, capBytes = 1024 * 1024): DiskFull {
  const path = join(dir, 'capped.db');
  return {
    mechanism: `the store's size cap (maxBytes=${capBytes}) reached by another writer`,
    storeUri: `sqlite:${path}?maxBytes=${capBytes}`,
    async fill() {
      const other = new SqliteEventStore(path, { maxBytes: capBytes });
      try {
        // Big events first, then small ones, so the file ends within a few pages of the cap.
        for (const size of [32_000, 2_000, 200]) {
          for (let i = 0; ; i++) {
            const event = taskAssigned(`ballast-${size}`, i, {});
            event.data = { ...(event.data as object), query: 'x'.repeat(size) };
            const failed = await other.appendToStream(`ballast-${size}`, [event]).then(() => undefined, (error: unknown) => error);
            if (failed === undefined) continue;
            if (!(failed instanceof StoreUnavailableError) || failed.reason !== 'full') throw failed;
            break;
          }
        }
      } finally {
        await other.close();
      }
    },
    free() {
      return `sqlite:${path}?maxBytes=${capBytes * 16}`;
    },
    dispose() {},
  };
}

/**
 * The store's files made immutable (`chattr +i`): the kernel then refuses every write to them, root's too, through
 * descriptors already open. Needs CAP_LINUX_IMMUTABLE and a file system with the flag (ext4, xfs, btrfs): undefined
 * where either is missing. The -shm file is left alone: SQLite maps it, and an immutable mapping kills the process
 * with SIGBUS instead of failing a write.
 */
export function immutableFiles(dir: string): { mechanism: string; make(files: string[]): void; undo(files: string[]): void } | undefined {
  const probe = join(dir, 'chattr-probe');
  writeFileSync(probe, '');
  const supported = succeeds('chattr', ['+i', probe]) && succeeds('chattr', ['-i', probe]);
  rmSync(probe, { force: true });
  if (!supported) return undefined;
  return {
    mechanism: 'chattr +i on the database file and its -wal file',
    make: (files) => execFileSync('chattr', ['+i', ...files]),
    undo: (files) => files.forEach((file) => succeeds('chattr', ['-i', file])),
  };
}

/**
 * The store made read-only by permission bits (chmod a-w on its files and its directory). The kernel checks them when
 * a file is opened, so a process that already has the store open goes on writing, and the refusal comes at the next
 * process. Root ignores them: undefined for root.
 */
export function readOnlyPermissions(): { mechanism: string; make(path: string): void; undo(path: string): void } | undefined {
  if (process.getuid?.() === 0) return undefined;
  const files = (path: string) => [path, `${path}-wal`, `${path}-shm`].filter((file) => existsSync(file));
  return {
    mechanism: 'chmod a-w on its files and directory, seen by the next process',
    make(path) {
      for (const file of files(path)) chmodSync(file, 0o444);
      chmodSync(dirname(path), 0o555);
    },
    undo(path) {
      chmodSync(dirname(path), 0o755);
      for (const file of files(path)) chmodSync(file, 0o644);
    },
  };
}
