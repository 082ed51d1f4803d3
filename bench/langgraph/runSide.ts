import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Side, SideMeasurement, Variant } from './sideMeasurement.ts';

const ENTRY = fileURLToPath(new URL('./sideProcess.ts', import.meta.url));

/** Runs one side's variant for `steps` steps in its own Node process (this one's binary), its files under `dbPath`. */
export function runSide(side: Side, variant: Variant, steps: number, dbPath: string): Promise<SideMeasurement> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [ENTRY, side, variant, String(steps), dbPath], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => { stdout += chunk; });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => { stderr += chunk; });
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`${side} ${variant} N=${steps} exited with ${code}: ${stderr.trim().split('\n').slice(-8).join('\n')}`));
      const last = stdout.trim().split('\n').at(-1) ?? '';
      try {
        resolve(JSON.parse(last) as SideMeasurement);
      } catch {
        reject(new Error(`${side} ${variant} N=${steps} printed no measurement: ${stdout.slice(-400)}`));
      }
    });
  });
}
