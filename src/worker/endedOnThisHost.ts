import { readFileSync, readlinkSync } from 'node:fs';
import { hostname } from 'node:os';

/**
 * Whether a worker recorded as running on this host is known to have ended: its process id no longer names a
 * process here. A `chronicle run` killed with SIGKILL leaves its lease standing until it lapses (15 s), and a
 * `resume` in that time would otherwise leave the session to a process that is gone. Only a worker on this host can
 * be known to have ended this way; of any other, only its heartbeats tell. A pid reused by another process counts as
 * alive (the lease then lapses as before), so this never takes a session from a process that still runs it.
 */
export function endedOnThisHost(worker: { host: string; pid: number; processSpace?: string }, here = hostname()): boolean {
  if (worker.host !== here || !Number.isSafeInteger(worker.pid) || worker.pid <= 0 || worker.pid === process.pid) return false;
  // Only a pid of the same pid namespace, since the same boot, names the same process: containers sharing a host
  // name (host networking, a set `hostname:`) each have their own pids. A worker that recorded none is not judged.
  const space = processSpace();
  if (space === undefined || worker.processSpace !== space) return false;
  try {
    process.kill(worker.pid, 0);
  } catch (error) {
    // EPERM: the process exists, under another user.
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
  return isZombie(worker.pid);
}

/** Who this process is to the others sharing a store: its pid, its host, and where that pid means something. */
export function processIdentity(): { pid: number; host: string; processSpace?: string } {
  const space = processSpace();
  return { pid: process.pid, host: hostname(), ...(space === undefined ? {} : { processSpace: space }) };
}

let space: string | undefined | null = null;

/**
 * Where this process's pid means something: the kernel's boot and the pid namespace (Linux), recorded by every worker
 * and every command holding leases, so another process can tell whether a recorded pid is one it can look up.
 * Undefined where /proc does not say.
 */
export function processSpace(): string | undefined {
  if (space === null) {
    try {
      space = `${readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim()}/${readlinkSync('/proc/self/ns/pid')}`;
    } catch {
      space = undefined;
    }
  }
  return space;
}

/**
 * A killed process whose parent has not collected it yet still answers signal 0, for as long as its parent takes
 * (a shell's background job, until the shell waits). Linux says so in /proc; elsewhere it counts as running.
 */
function isZombie(pid: number): boolean {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return false;
  }
  // "pid (command) state …": the command may hold spaces and parentheses, so the state follows the last ")".
  const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
  return state === 'Z' || state === 'X';
}
