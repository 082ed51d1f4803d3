import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { actorKinds } from '../runtime/actorKinds.ts';

/** Where each machine is defined, for the Stately editor and VS Code extension (they open these files as they are). */
export const MACHINE_SOURCES: Record<string, string> = {
  session: 'machines/sessionMachine.ts',
  agent: 'machines/agentMachine.ts',
  transition: 'machines/transitionMachine.ts',
  market: 'machines/marketMachine.ts',
};

export const DEFAULT_EXPORT_DIR = './machines-export';

export interface MachineExport {
  /** The actor kind, which is also the stream category of its actors (`agent-<sessionId>.<role>.<n>`). */
  kind: string;
  id: string;
  /** The `machineVersion` every event its actors record carries. */
  version: string;
  source: string;
  /** The machine config as written (actions and guards by name): what the Stately editor and inspector import. */
  config: unknown;
  /** XState's resolved definition (`machine.toJSON()`): every state node with its transitions, ids and order. */
  definition: unknown;
}

export function machineExports(): MachineExport[] {
  return Object.entries(actorKinds).map(([kind, { machine, version }]) => ({
    kind, id: machine.id, version, source: MACHINE_SOURCES[kind] ?? 'machines/',
    // A round trip through JSON leaves the plain data an editor reads (no functions, no undefined).
    config: JSON.parse(JSON.stringify(machine.config)) as unknown,
    definition: JSON.parse(JSON.stringify(machine.toJSON())) as unknown,
  }));
}

/**
 * Writes `<kind>.json` for each machine and `index.json` listing them, into `dir`. The output has no timestamps,
 * so exporting an unchanged build gives identical files and a changed machine shows up as a diff.
 */
export async function exportMachines(dir: string): Promise<{ files: string[]; machines: MachineExport[] }> {
  await mkdir(dir, { recursive: true });
  const machines = machineExports();
  const files: string[] = [];
  for (const machine of machines) {
    const file = join(dir, `${machine.kind}.json`);
    await writeFile(file, `${JSON.stringify(machine, null, 2)}\n`);
    files.push(file);
  }
  const index = { machines: machines.map(({ kind, id, version, source }) => ({ kind, id, version, source, file: `${kind}.json`, streams: `${kind}-<id>` })) };
  const indexFile = join(dir, 'index.json');
  await writeFile(indexFile, `${JSON.stringify(index, null, 2)}\n`);
  files.push(indexFile);
  return { files, machines };
}
