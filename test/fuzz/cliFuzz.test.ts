import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/main.ts';
import { collect } from '../../src/store/eventStore.ts';
import { SqliteEventStore } from '../../src/store/sqliteEventStore.ts';

// Malformed command lines (and config files, and exports) against a real store: every one must end in a clear one-line refusal (exit 1 or 2, no
// stack trace) or a normal answer, and a refused one must have written nothing.
const dir = mkdtempSync(join(tmpdir(), 'chronicle-fuzz-'));
const store = `sqlite:${join(dir, 'fuzz.db')}`;
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let sessionId = '';

async function eventCount(): Promise<number> {
  const db = new SqliteEventStore(join(dir, 'fuzz.db'));
  try {
    return (await collect(db.readAll())).length;
  } finally {
    await db.close();
  }
}

const COMMANDS = ['run', 'events', 'replay', 'state', 'ledger', 'climate', 'verify', 'sessions', 'budgets', 'emergency', 'market', 'memory', 'audit', 'fork', 'import', 'machines', 'resume', 'submit', 'workers', 'frobnicate'];
const FLAGS = ['--unpark', '--timeout', '--region', '--purpose', '--at', '--json', '--session', '--model', '--amount', '--floor', '--max-price', '--kind', '--window', '--similar', '--all', '--report', '--as', '--limit', '--from', '--factors', '--expires', '--bogus'];
const VALUES = ['', 'KE', 'XX', 'BGD', 'climate_adaptation', 'crypto', '-1', '0', '42', '1e309', 'NaN', '2026-13-40T99:00:00Z', '2026-11-24T10:00:00Z', 'scripted:latency=oops', 'openai:', 'flood', 'tsunami', 'declare', 'lift', 'offer', 'bid', 'clear', 'export', 'nosuchsession', '../../etc/passwd', '"quoted"', 'ünïcödé', '{}', '[]'];

describe('CLI fuzz: malformed input gets a clear line, and nothing is written', () => {
  beforeAll(async () => {
    // One real session, so commands that take a session id have one to find.
    const out: string[] = [];
    const io = { out: (line: string) => { out.push(line); }, warn: () => {} };
    expect(await runCli(['run', 'Which mangroves protect coasts best?', '--region', 'BD', '--purpose', 'climate_adaptation', '--json', '--store', store], io)).toBe(0);
    sessionId = (JSON.parse(out.join('')) as { sessionId: string }).sessionId;
  }, 60_000);

  it('random command lines never crash, and a refusal writes nothing', async () => {
    const word = fc.oneof(fc.constantFrom(...FLAGS), fc.constantFrom(...VALUES), fc.constant('<session>'));
    await fc.assert(fc.asyncProperty(fc.constantFrom(...COMMANDS), fc.array(word, { maxLength: 6 }), async (command, rest) => {
      // `run` and `submit` would record a turn: keep them to the forms of flags and listed values.
      const words = rest.map((w) => (w === '<session>' ? sessionId : w));
      const args = command === 'run' || command === 'submit' ? words.filter((w) => w.startsWith('--') || VALUES.includes(w)).slice(0, 4) : words;
      const before = await eventCount();
      const lines: string[] = [];
      const io = { out: () => {}, warn: (line: string) => { lines.push(line); } };
      const code = await runCli([command, ...args, '--store', store], io);
      const warned = lines.join('\n');
      expect(warned, `${command} ${args.join(' ')}`).not.toMatch(/\n\s+at /);
      if (code === 2) {
        expect(warned.length, `${command} ${args.join(' ')}: a usage error says what is wrong`).toBeGreaterThan(0);
        expect(await eventCount(), `${command} ${args.join(' ')}: a refused command wrote events`).toBe(before);
      }
      expect([0, 1, 2]).toContain(code);
    }), { numRuns: 300, seed: 2026 });
  }, 240_000);

  it('a mangled export is refused by import, naming its line, and the target store stays empty', async () => {
    const out: string[] = [];
    expect(await runCli(['events', sessionId, '--json', '--store', store], { out: (line) => { out.push(line); }, warn: () => {} })).toBe(0);
    const lines = out.join('\n').trim().split('\n');
    const mangle = fc.record({ line: fc.nat({ max: lines.length - 1 }), at: fc.nat(), cut: fc.nat({ max: 40 }), insert: fc.constantFrom('', 'x', '"', '}', '0', ',"extra":1', '\\u0000') });
    let run = 0;
    await fc.assert(fc.asyncProperty(mangle, async ({ line, at, cut, insert }) => {
      const original = lines[line]!;
      const where = at % original.length;
      const changed = original.slice(0, where) + insert + original.slice(where + cut);
      fc.pre(changed !== original);
      const file = join(dir, `mangled-${run}.jsonl`);
      const target = `sqlite:${join(dir, `target-${run++}.db`)}`;
      writeFileSync(file, [...lines.slice(0, line), changed, ...lines.slice(line + 1)].join('\n'));
      const warned: string[] = [];
      const code = await runCli(['import', file, '--store', target], { out: () => {}, warn: (l) => { warned.push(l); } });
      expect(code, `line ${line + 1} mangled at ${where}: ${warned.join(' | ')}`).not.toBe(0);
      expect(warned.join('\n')).toMatch(/line \d+/);
      expect(warned.join('\n')).not.toMatch(/\n\s+at /);
      const db = new SqliteEventStore(join(dir, `target-${run - 1}.db`));
      try {
        expect(await collect(db.readAll())).toEqual([]);
      } finally {
        await db.close();
      }
    }), { numRuns: 40, seed: 2027 });
  }, 240_000);

  it('a malformed chronicle.config.json is refused naming the key (or the JSON), and nothing is written', async () => {
    const json = fc.oneof(
      fc.json(),
      fc.dictionary(fc.constantFrom('store', 'model', 'fallbackModel', 'modelTimeoutMs', 'maxAttempts', 'checkpointEveryTokens', 'checkpointRetention', 'budgetTokens', 'contextWindow', 'contextThresholds', 'maxActiveTurns', 'councilThreshold', 'triageModel', 'colour'), fc.jsonValue()).map((o) => JSON.stringify(o)),
      fc.string().map((text) => `{${text}`),
    );
    let run = 0;
    const previous = process.env.CHRONICLE_CONFIG;
    try {
      await fc.assert(fc.asyncProperty(json, async (text) => {
        const file = join(dir, `config-${run++}.json`);
        writeFileSync(file, text);
        process.env.CHRONICLE_CONFIG = file;
        const before = await eventCount();
        const warned: string[] = [];
        const code = await runCli(['resume', '--store', store], { out: () => {}, warn: (l) => { warned.push(l); } });
        expect(warned.join('\n'), text).not.toMatch(/\n\s+at /);
        if (code !== 0) {
          expect(code, text).toBe(2);
          expect(warned.join('\n'), text).toMatch(/config: /);
        }
        expect(await eventCount(), text).toBe(before);
      }), { numRuns: 60, seed: 2028 });
    } finally {
      if (previous === undefined) delete process.env.CHRONICLE_CONFIG;
      else process.env.CHRONICLE_CONFIG = previous;
    }
  }, 240_000);
});
