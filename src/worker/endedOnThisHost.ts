import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';

/**
 * Whether a worker recorded as running on this host is known to have ended: its process id no longer names a
 * process here. A `chronicle run` killed with SIGKILL leaves its lease standing until it lapses (15 s), and a
 * `resume` in that time would otherwise leave the session to a process that is gone. Only a worker on this host can
 * be known to have ended this way; of any other, only its heartbeats tell. A pid reused by another process counts as
 * alive (the lease then lapses as before), so this never takes a session from a process that still runs it.
 */
export function endedOnThisHost(worker: { host: string; pid: number }, here = hostname()): boolean {
  if (worker.host !== here || !Number.isSafeInteger(worker.pid) || worker.pid <= 0 || worker.pid === process.pid) return false;
  try {
    process.kill(worker.pid, 0);
  } catch (error) {
    // EPERM: the process exists, under another user.
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
  return isZombie(worker.pid);
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
