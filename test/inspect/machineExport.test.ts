import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { machinesCommand } from '../../src/cli/commands/machinesCommand.ts';
import { MACHINE_SOURCES } from '../../src/inspect/machineExport.ts';
import { actorKinds } from '../../src/runtime/actorKinds.ts';

const root = new URL('../../', import.meta.url).pathname;
const dirs: string[] = [];
afterAll(() => { for (const dir of dirs) rmSync(dir, { recursive: true, force: true }); });

const readJson = (file: string) => JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;

/** Source with comments removed and string literals blanked to '' (template literals to ``), so only code remains. */
function codeOnly(source: string): string {
  let code = '';
  for (let i = 0; i < source.length; i++) {
    const c = source[i]!;
    if (c === '/' && source[i + 1] === '/') i = source.indexOf('\n', i) - 1;
    else if (c === '/' && source[i + 1] === '*') i = source.indexOf('*/', i) + 1;
    else if (c === "'" || c === '"' || c === '`') {
      let j = i + 1;
      while (source[j] !== c) j += source[j] === '\\' ? 2 : 1;
      code += c === '`' ? '``' : "''";
      i = j;
    } else code += c;
  }
  return code;
}

/** The text of the call's argument, from the opening parenthesis at `open` to its match. */
function argumentAt(code: string, open: number): string {
  let depth = 0;
  for (let i = open; i < code.length; i++) {
    if ('({['.includes(code[i]!)) depth++;
    if (')}]'.includes(code[i]!) && --depth === 0) return code.slice(open + 1, i);
  }
  throw new Error('unbalanced');
}

describe('machines export', () => {
  it('writes each machine (config, resolved definition, version) and an index; the states are the machines\' states', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'chronicle-machines-'));
    dirs.push(dir);
    const out: string[] = [];
    expect(await machinesCommand(['export', '--out', dir], { out: (l) => out.push(l), warn: (l) => out.push(l) })).toBe(0);
    expect(readdirSync(dir).sort()).toEqual(['agent.json', 'index.json', 'market.json', 'session.json', 'transition.json']);
    expect(out.at(-1)).toBe(`wrote 5 files to ${dir}`);

    const session = readJson(join(dir, 'session.json'));
    expect(Object.keys((session.definition as { states: object }).states)).toEqual(['new', 'ready', 'turn', 'handingOff', 'closed']);
    expect(Object.keys((session.config as { states: object }).states)).toEqual(['new', 'ready', 'turn', 'handingOff', 'closed']);
    for (const [kind, { machine, version }] of Object.entries(actorKinds)) {
      const file = readJson(join(dir, `${kind}.json`));
      expect(file).toMatchObject({ kind, id: machine.id, version, source: MACHINE_SOURCES[kind] });
      expect(file.definition).toEqual(JSON.parse(JSON.stringify(machine.toJSON())));
      expect((file.config as { initial: string }).initial).toBe((machine.config as { initial: string }).initial);
    }
    expect(Object.keys((readJson(join(dir, 'agent.json')).definition as { states: object }).states)).toEqual(
      ['unassigned', 'idle', 'deciding', 'preparing', 'awaitingModel', 'retrying', 'backingOff', 'responded', 'failed', 'retired']);
    const index = readJson(join(dir, 'index.json'));
    expect(index.machines).toEqual(Object.entries(actorKinds).map(([kind, { machine, version }]) => ({
      kind, id: machine.id, version, source: MACHINE_SOURCES[kind], file: `${kind}.json`, streams: `${kind}-<id>`,
    })));
    // No timestamps: exporting the same build again gives the same bytes.
    const first = readFileSync(join(dir, 'session.json'), 'utf8');
    await machinesCommand(['export', '--out', dir], { out: () => {}, warn: () => {} });
    expect(readFileSync(join(dir, 'session.json'), 'utf8')).toBe(first);
  });

  it('refuses anything but "export"', async () => {
    await expect(machinesCommand(['list'], { out: () => {}, warn: () => {} })).rejects.toThrow(/machines: say export/);
  });

  // The Stately editor and VS Code extension read machines from source: one static `setup({...}).createMachine({...})`.
  it.each(Object.entries(MACHINE_SOURCES))('%s machine file stays openable by the Stately editor: one setup( … .createMachine( with a static config', (kind, path) => {
    const code = codeOnly(readFileSync(join(root, path), 'utf8'));
    expect(code.match(/\bsetup\(/g), 'setup( calls').toHaveLength(1);
    expect(code.match(/\.createMachine\(/g), '.createMachine( calls').toHaveLength(1);
    expect(code).toMatch(new RegExp(`export const ${kind}Machine = setup\\(`));
    const open = code.indexOf('.createMachine(') + '.createMachine'.length;
    expect(code.indexOf('setup(')).toBeLessThan(open);
    const config = argumentAt(code, open).trim();
    expect(config.startsWith('{') && config.endsWith('}'), 'an object literal').toBe(true);
    expect(config, 'no spreads').not.toContain('...');
    expect(config, 'no functions').not.toContain('=>');
    expect(config, 'no template literals').not.toContain('`');
    expect(config, 'no calls').not.toMatch(/[\w$]\s*\(/);
    expect(config, 'no computed keys').not.toMatch(/\[[^\]]*\]\s*:/);
    // Values are literals; the one reference allowed is the initial context, which the editor shows as an expression.
    const references = [...config.matchAll(/(\w+)\s*:\s*([A-Za-z_$][\w$]*)\b/g)].filter(([, , value]) => !['true', 'false', 'null'].includes(value!));
    expect(references.map(([, key, value]) => `${key}: ${value}`)).toEqual(['context: initialContext']);
    expect(readFileSync(join(root, path), 'utf8')).toMatch(new RegExp(`\\.createMachine\\(\\{\\s*id: '${kind}',`));
  });
});
