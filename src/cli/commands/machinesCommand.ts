import { z } from 'zod';
import { DEFAULT_EXPORT_DIR, exportMachines } from '../../inspect/machineExport.ts';
import { commandOptions } from '../commandOptions.ts';
import type { CommandIo } from '../commandIo.ts';
import { toJson } from '../output.ts';
import { UsageError } from '../usageError.ts';

export const machinesUsage = 'machines export [--out <dir>] [--json]';

const schema = z.strictObject({ out: z.string().min(1).optional(), json: z.boolean().optional() });

/**
 * Writes each actor machine's definition as JSON (config and resolved definition, with the machine version its
 * events record) plus an index, for the Stately editor, the inspector, or a reviewer's diff.
 */
export async function machinesCommand(args: string[], io: CommandIo): Promise<number> {
  const { values, positionals } = commandOptions('machines', args, { out: { type: 'string' }, json: { type: 'boolean' } }, schema);
  if (positionals[0] !== 'export' || positionals.length > 1) throw new UsageError('machines: say export');
  const dir = values.out ?? DEFAULT_EXPORT_DIR;
  const { files, machines } = await exportMachines(dir);
  if (values.json) {
    io.out(toJson({ dir, files, machines: machines.map(({ kind, id, version, source }) => ({ kind, id, version, source })) }));
  } else {
    for (const m of machines) io.out(`${m.kind.padEnd(10)} ${m.version.padEnd(32)} ${m.source}`);
    io.out(`wrote ${files.length} files to ${dir}`);
  }
  return 0;
}
