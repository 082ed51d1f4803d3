import { spawnSync } from 'node:child_process';
import { hostname } from 'node:os';
import { describe, expect, it } from 'vitest';
import { endedOnThisHost, processSpace } from '../../src/worker/endedOnThisHost.ts';

describe('whether a lease holder recorded on this host has ended', () => {
  // A process that ran and was collected: its pid names nothing now (pids are not reused this soon).
  const gone = spawnSync(process.execPath, ['-e', '0']).pid!;
  const here = processSpace();

  it('a holder of this boot and pid namespace whose process is gone has ended; one still running has not', () => {
    expect(here).toBeDefined(); // Linux, as CI runs
    expect(endedOnThisHost({ host: hostname(), pid: gone, processSpace: here })).toBe(true);
    expect(endedOnThisHost({ host: hostname(), pid: process.ppid, processSpace: here })).toBe(false);
    expect(endedOnThisHost({ host: hostname(), pid: process.pid, processSpace: here })).toBe(false);
  });

  it('a pid of another pid namespace, another boot or another host says nothing here: the holder is left to its lease', () => {
    // A container with the host's name (host networking) has pids of its own; a pid recorded before a reboot is another's.
    expect(endedOnThisHost({ host: hostname(), pid: gone, processSpace: `${here!.split('/')[0]}/pid:[1]` })).toBe(false);
    expect(endedOnThisHost({ host: hostname(), pid: gone, processSpace: `another-boot/${here!.split('/')[1]}` })).toBe(false);
    expect(endedOnThisHost({ host: `${hostname()}-elsewhere`, pid: gone, processSpace: here })).toBe(false);
    // Recorded by a build that did not say where its pid belongs: not judged.
    expect(endedOnThisHost({ host: hostname(), pid: gone })).toBe(false);
  });
});
