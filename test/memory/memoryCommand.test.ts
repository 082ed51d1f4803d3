import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { memoryCommand } from '../../src/cli/commands/memoryCommand.ts';
import { UsageError } from '../../src/cli/usageError.ts';
import { collect } from '../../src/store/eventStore.ts';
import { SqliteEventStore } from '../../src/store/sqliteEventStore.ts';
import { capturingIo, scratch } from '../fork/forkSupport.ts';
import { familyModels, FAMILIES, MODEL, sessionScenario } from './memoryScenario.ts';

describe('chronicle memory', () => {
  const dir = scratch();
  const db = dir.db();
  let firstTurnEnd = 0n;
  beforeAll(async () => {
    const store = new SqliteEventStore(db.path);
    const s = sessionScenario({ seed: 'memory-cli', store, models: familyModels });
    await s.start('c1', { model: MODEL });
    await s.ask('c1', { text: FAMILIES[0].texts[0], region: 'KE', purpose: 'food_security' });
    firstTurnEnd = (await collect(store.readAll())).at(-1)!.position;
    await s.start('c2', { model: MODEL });
    await s.ask('c2', { text: FAMILIES[1].texts[0], region: 'BD', purpose: 'climate_adaptation' });
    s.runtime.stop();
    await store.close();
  });
  afterAll(() => dir.cleanUp());

  async function run(...args: string[]) {
    const { io, out, warn } = capturingIo();
    const code = await memoryCommand([...args, '--store', db.uri], io);
    return { code, out: out.join('\n'), warn: warn.join('\n') };
  }

  it('prints the remembered turns, the patterns and, with --similar, the lookup and the advice', async () => {
    const { code, out } = await run('--similar', 'Which drought crops suit Kitui farmers?', '--region', 'KE', '--purpose', 'food_security');
    expect(code).toBe(0);
    expect(out).toMatch(/memory as of now: 2 remembered turn\(s\)/);
    expect(out).toMatch(/c1#0 .*express .*answered/);
    expect(out).toMatch(/food_security +KE +express +1/);
    expect(out).toMatch(/similar to "Which drought crops suit Kitui farmers\?" in KE for food_security:\n +0\.\d+ +c1#0/);
    expect(out).toMatch(/advice: \d+ tokens — similarity-weighted mean/);
  });

  it('answers as of a point, and as JSON', async () => {
    const { out } = await run('--at', String(firstTurnEnd), '--json', '--similar', 'mangroves protect coasts');
    const json = JSON.parse(out) as { episodes: { sessionId: string }[]; patterns: unknown[]; advice: { suggestedTokens: number | null }; through: string };
    expect(json.episodes.map((e) => e.sessionId)).toEqual(['c1']);
    expect(json.patterns).toHaveLength(1);
    expect(json.advice.suggestedTokens).toBeNull();
    expect(BigInt(json.through)).toBeLessThanOrEqual(firstTurnEnd);
    const now = JSON.parse((await run('--json', '--similar', 'mangroves protect coasts')).out) as { advice: { suggestedTokens: number | null } };
    expect(now.advice.suggestedTokens).toBeGreaterThan(1_000);
  });

  it('refuses bad input as a usage error', async () => {
    await expect(run('--at', 'yesterday')).rejects.toThrow(UsageError);
    await expect(run('--region', 'KE')).rejects.toThrow('--region and --purpose qualify --similar');
    await expect(run('--similar', 'x', '--region', 'kenya')).rejects.toThrow('--region: an ISO 3166');
  });
});
