import { execFile, spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const main = new URL('../../src/cli/main.ts', import.meta.url).pathname;
const exec = promisify(execFile);

/** Runs the CLI as a user would: a separate process, exit code and both output streams. */
async function chronicle(args: string[], cwd: string): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await exec(process.execPath, [main, ...args], { cwd, env: { ...process.env, CHRONICLE_STORE: '' } });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

const jsonLines = (text: string) => text.trim().split('\n').map((line) => JSON.parse(line));

/** Waits until a process running a session on the SQLite file at `path` has recorded its first model request; its session id. */
/** `chronicle <args>` started as a process of its own, with what it prints so far and its exit code to come. */
function inBackground(args: string[], cwd: string) {
  const child = spawn(process.execPath, [main, ...args], { cwd, env: { ...process.env, CHRONICLE_STORE: '' } });
  const output = { stdout: '', stderr: '' };
  child.stdout.on('data', (chunk: Buffer) => (output.stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output.stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, output, exited };
}

async function firstModelRequest(path: string): Promise<string> {
  const requested = () => {
    if (!existsSync(path)) return undefined;
    const db = new DatabaseSync(path, { readOnly: true });
    try {
      return db.prepare("SELECT stream_id FROM events WHERE type = 'model.requested'").get() as { stream_id: string } | undefined;
    } catch {
      return undefined; // the schema is not written yet
    } finally {
      db.close();
    }
  };
  let found = requested();
  while (!found) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    found = requested();
  }
  return found.stream_id.replace(/^agent-/, '').replace(/\.express\.0$/, '');
}

describe('chronicle CLI', () => {
  let dir: string;
  let store: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'chronicle-cli-'));
    store = `sqlite:${join(dir, 'c.db')}`;
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('demo (npm start) runs the three seed sessions (emergency, express, council) and a hand-off on the default embedded store, and replays one at its midpoint', async () => {
    const result = await chronicle(['demo'], dir);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    for (const [region, purpose] of [['BD', 'climate_adaptation'], ['US', 'crypto_mining'], ['KE', 'sustainable_agriculture']]) {
      expect(result.stdout).toMatch(new RegExp(`session [0-9a-f]{8}  ${region}  ${purpose}`));
    }
    expect(result.stdout.match(/hash chains verified/g)).toHaveLength(3);
    expect(result.stdout).toMatch(/3 model call\(s\) \(2 failed\), answered by scripted-large/);
    expect(result.stdout).toMatch(/replay of session [0-9a-f]{8} at its midpoint, position \d+/);
    expect(result.stdout).toMatch(/triage: {2}emergency: hydrologist, logistics, public_health in parallel, then a synthesiser .*flood emergency in BD/);
    expect(result.stdout).toMatch(/triage: {2}express \(complexity/);
    expect(result.stdout).toMatch(/triage: {2}council: analyst, critic, domain_expert/);
    expect(result.stdout).toMatch(/priority order \(served first when the runtime is saturated\): BD climate_adaptation [\d.]+ {2}> {2}KE sustainable_agriculture [\d.]+ {2}> {2}US crypto_mining/);
    expect(result.stdout).toMatch(/hand-off transition-[0-9a-f]{8}\.0 \((graceful|emergency)\) completed: express\.0 → express\.1/);
    expect(result.stdout).toMatch(/7 of 7 turns answered/);
    const sessions = jsonLines((await chronicle(['sessions', '--json', '--store', `sqlite:${join(dir, '.chronicle', 'chronicle.db')}`], dir)).stdout);
    expect(sessions.map((s) => s.status)).toEqual(['ready', 'ready', 'ready', 'ready']);
    // Many streams read ahead on the store's thread (forced here, the store being small) or on the command's own: the
    // same answers, and the process exits either way.
    const readAhead = (setting: string) => `sqlite:${join(dir, '.chronicle', 'chronicle.db')}?readAhead=${setting}`;
    for (const command of [['sessions', '--json'], ['events', sessions[0].sessionId, '--json']]) {
      const [ahead, inTurn] = await Promise.all(['0', 'off'].map((setting) => chronicle([...command, '--store', readAhead(setting)], dir)));
      expect(ahead!.code).toBe(0);
      expect(ahead!.stdout).toBe(inTurn!.stdout);
    }
    // The demo's emergency is lifted when it ends.
    expect((await chronicle(['emergency', 'list', '--store', `sqlite:${join(dir, '.chronicle', 'chronicle.db')}`], dir)).stdout.trim()).toBe('no climate emergency is in force');

    // The hand-off's append holds an agent's readiness request before the transition's request that caused it: a
    // replay or state at that position is moved to where its cause is in, and says so.
    const demoStore = `sqlite:${join(dir, '.chronicle', 'chronicle.db')}`;
    const handedOver = sessions.find((s) => s.handOffs > 0);
    const log = jsonLines((await chronicle(['events', handedOver.sessionId, '--json', '--store', demoStore], dir)).stdout);
    const positionOf = new Map(log.map((e) => [e.eventId, BigInt(e.position)]));
    const torn = log.find((e) => e.metadata.causationId !== null && (positionOf.get(e.metadata.causationId) ?? 0n) > BigInt(e.position));
    expect(torn, 'the demo\'s hand-off writes an effect before its cause in one append').toBeDefined();
    const cause = log.find((e) => e.eventId === torn.metadata.causationId);
    const replayed = JSON.parse((await chronicle(['replay', handedOver.sessionId, '--at', torn.position, '--json', '--store', demoStore], dir)).stdout);
    expect(replayed.movedFrom).toBe(torn.position);
    expect(BigInt(replayed.at.position)).toBeGreaterThanOrEqual(BigInt(cause.position));
    expect(BigInt(replayed.actors.find((a: { streamId: string }) => a.streamId === cause.streamId).revision)).toBeGreaterThanOrEqual(BigInt(cause.revision));
    const stated = await chronicle(['state', handedOver.sessionId, '--at', torn.position, '--store', demoStore], dir);
    expect(stated.stdout).toContain(`(position ${torn.position} falls inside one atomic write, between events and their causes recorded after them: moved to the first position where every cause is in)`);
    const ledgerAt = JSON.parse((await chronicle(['ledger', handedOver.sessionId, '--at', torn.position, '--json', '--store', demoStore], dir)).stdout);
    expect([ledgerAt.movedFrom, ledgerAt.at]).toEqual([torn.position, replayed.at]);
    // Another session's answer as of the same position is not moved: none of its events waits for a cause there.
    const otherSession = sessions.find((s) => s.sessionId !== handedOver.sessionId);
    const otherAt = JSON.parse((await chronicle(['replay', otherSession.sessionId, '--at', torn.position, '--json', '--store', demoStore], dir)).stdout);
    expect(otherAt).not.toHaveProperty('movedFrom');
  });

  it('run answers a query as a session turn; a further turn continues the same session, with the models it started with', async () => {
    const first = await chronicle(['run', 'Which mangrove species protect coasts best?', '--region', 'bd', '--purpose', 'climate_adaptation', '--json', '--store', store], dir);
    expect(first.code).toBe(0);
    const answer = JSON.parse(first.stdout);
    expect(answer).toMatchObject({ turn: 0, status: 'answered', model: 'scripted-small' });
    expect(answer.answer.length).toBeGreaterThan(20);
    expect(answer.tokens.input).toBeGreaterThan(0);
    const second = JSON.parse((await chronicle(['run', 'And how fast do they grow?', '--session', answer.sessionId, '--region', 'BD', '--purpose', 'climate_adaptation', '--json', '--store', store], dir)).stdout);
    expect(second).toMatchObject({ sessionId: answer.sessionId, turn: 1, status: 'answered' });
    // A later turn cannot switch the session's models: said so, nothing recorded, rather than silently ignored.
    const switched = await chronicle(['run', 'Again, with a fallback?', '--session', answer.sessionId, '--fallback-model', 'scripted:seed=2', '--region', 'BD', '--purpose', 'climate_adaptation', '--store', store], dir);
    expect(switched.code).toBe(2);
    expect(switched.stderr).toContain(`chronicle run: session ${answer.sessionId} was started with --model scripted and no --fallback-model, and a session keeps its models`);
    const human = await chronicle(['run', 'One more?', '--region', 'KE', '--purpose', 'general_ai_research', '--store', store], dir);
    expect(human.stdout).toMatch(/session [0-9a-f]{8}, turn 0 \(express\), scripted-small; tokens in the session so far: \d+ in, \d+ out/);
    // Naming the model the session already uses is no switch.
    const humanSession = /session ([0-9a-f]{8}), turn 0/.exec(human.stdout)![1]!;
    const same = JSON.parse((await chronicle(['run', 'Same model again?', '--session', humanSession, '--model', 'scripted', '--region', 'KE', '--purpose', 'general_ai_research', '--json', '--store', store], dir)).stdout);
    expect(same).toMatchObject({ sessionId: humanSession, turn: 1, status: 'answered' });
  });

  it('events <sessionId> lists every event of the session (actors and ledger) in global order; replay --at shows each actor at that point', async () => {
    const [session] = jsonLines((await chronicle(['sessions', '--json', '--store', store], dir)).stdout);
    const events = jsonLines((await chronicle(['events', session.sessionId, '--json', '--store', store], dir)).stdout);
    expect(new Set(events.map((e) => e.streamId))).toEqual(new Set([`session-${session.sessionId}`, `agent-${session.sessionId}.express.0`, `ledger-${session.sessionId}`]));
    const positions = events.map((e) => BigInt(e.position));
    expect(positions).toEqual([...positions].sort((a, b) => (a < b ? -1 : 1)));
    // The selection flags apply to a session's events as to the whole log's: from a position on, either way, so many, of some streams.
    const selected = async (...flags: string[]) => jsonLines((await chronicle(['events', session.sessionId, ...flags, '--json', '--store', store], dir)).stdout);
    const agentId = `agent-${session.sessionId}.express.0`;
    expect(await selected('--from', events[3].position, '--limit', '2')).toEqual(events.slice(3, 5));
    expect(await selected('--backwards', '--limit', '3')).toEqual(events.slice(-3).reverse());
    expect(await selected('--stream', agentId)).toEqual(events.filter((e) => e.streamId === agentId));
    expect(await selected('--stream-prefix', 'ledger-', '--type', 'tokens.')).toEqual(events.filter((e) => e.streamId.startsWith('ledger-') && e.type.startsWith('tokens.')));
    const firstAnswer = events.find((e) => e.type === 'agent.answered');
    const atAnswer = JSON.parse((await chronicle(['replay', session.sessionId, '--at', firstAnswer.position, '--json', '--store', store], dir)).stdout);
    const sessionActor = atAnswer.actors.find((a: { streamId: string }) => a.streamId.startsWith('session-'));
    expect(sessionActor.value).toBe('ready');
    expect(sessionActor.context.recentOutcomes).toHaveLength(1);
    const before = JSON.parse((await chronicle(['replay', session.sessionId, '--at', String(BigInt(firstAnswer.position) - 1n), '--json', '--store', store], dir)).stdout);
    expect(before.actors.find((a: { streamId: string }) => a.streamId.startsWith('session-')).value).toEqual({ turn: 'express' });
    const byTime = await chronicle(['replay', session.sessionId, '--at', firstAnswer.metadata.recordedAt, '--store', store], dir);
    expect(byTime.stdout).toMatch(/state:\s+"ready"/);
  });

  it('ledger and state answer as of any point; the ledger\'s laws hold', async () => {
    const [session] = jsonLines((await chronicle(['sessions', '--json', '--store', store], dir)).stdout);
    const now = JSON.parse((await chronicle(['ledger', session.sessionId, '--json', '--store', store], dir)).stdout);
    expect(now.violations).toEqual([]);
    expect(now.ledger.usage.total.calls).toBeGreaterThanOrEqual(2);
    expect(now.ledger.balances.world).toBe(-20_000);
    expect(now.ledger.reconciliations.map((r: { turn: number }) => r.turn)).toEqual([0, 1]);
    expect(now.ledger.reconciled.count).toBe(2);
    expect(now.ledger.turns).toEqual({});
    const events = jsonLines((await chronicle(['events', session.sessionId, '--json', '--store', store], dir)).stdout);
    const firstSettled = events.find((e) => e.type === 'tokens.settled');
    const early = JSON.parse((await chronicle(['ledger', session.sessionId, '--at', String(BigInt(firstSettled.position) - 1n), '--json', '--store', store], dir)).stdout);
    expect(early.ledger.usage.total.calls).toBe(0);
    expect(Object.keys(early.ledger.reservations)).toHaveLength(1);
    const human = await chronicle(['ledger', session.sessionId, '--store', store], dir);
    expect(human.stdout).toMatch(/every law holds[\s\S]*session total[\s\S]*2 turn\(s\) reconciled/);
    const state = JSON.parse((await chronicle(['state', session.sessionId, '--at', firstSettled.position, '--json', '--store', store], dir)).stdout);
    expect(state.ledger.usage.total.calls).toBe(1);
    expect(state.actors.map((a: { streamId: string }) => a.streamId).sort()).toEqual([`agent-${session.sessionId}.express.0`, `session-${session.sessionId}`]);
    // The tiered state carries a summary of cold; the projections are told in one line each.
    expect(state.projections.sessionState.cold.byKind.query).toBe(1);
    const humanState = (await chronicle(['state', session.sessionId, '--store', store], dir)).stdout;
    expect(humanState).toMatch(/sessionState: hot \d+ item\(s\) \/ \d+ tokens, warm .*cold \d+ \/ \d+ \(.*2 query.*\), \d+ move\(s\)/);
    expect(humanState).toMatch(/climate:ecologits-2025\.1-ember-2024: \d+ call\(s\), [\d.]+ Wh/);
    expect(humanState).toMatch(/reconciled: 2 turn\(s\)/);
    // A position past the newest event is answered as the log stands, and said to be past its end.
    const beyond = (await chronicle(['state', session.sessionId, '--at', '99999999', '--store', store], dir)).stdout;
    expect(beyond.split('\n')[0]).toMatch(/^session \S+ as of position 99999999 \(past the end of the log, at position \d+: as it stands now\)/);
  });

  it('climate lists every input next to every output per call, and restates exactly under another factor set', async () => {
    const [session] = jsonLines((await chronicle(['sessions', '--json', '--store', store], dir)).stdout);
    const report = JSON.parse((await chronicle(['climate', session.sessionId, '--json', '--store', store], dir)).stdout);
    expect(report.factorSet.id).toBe('ecologits-2025.1-ember-2024');
    expect(report.restated).toBe(false);
    expect(report.calls.length).toBeGreaterThanOrEqual(2);
    expect(report.calls).toHaveLength(report.totals.all.calls);
    const [call] = report.calls;
    for (const input of ['model', 'outputTokens', 'totalParametersB', 'activeParametersB', 'gpus', 'pue', 'gridIntensityGco2PerKwh', 'gridDataYear', 'factorSetId']) expect(call.inputs).toHaveProperty(input);
    for (const output of ['energyWh', 'usageGco2e', 'embodiedGco2e', 'trueCostUsd']) expect(call.outputs).toHaveProperty(output);
    expect(call.outputs.trueCostUsd.justiceAdjustment).toBeLessThan(0);
    const restated = JSON.parse((await chronicle(['climate', session.sessionId, '--factors', 'ecologits-2025.1-ember-2024-scc190', '--json', '--store', store], dir)).stdout);
    expect(restated.restated).toBe(true);
    expect(restated.totals.all.energyWh).toEqual(report.totals.all.energyWh);
    expect(restated.calls.map((c: { position: string }) => c.position)).toEqual(report.calls.map((c: { position: string }) => c.position));
    expect(restated.totals.all.trueCostUsd.carbonCost).not.toBe(report.totals.all.trueCostUsd.carbonCost);
    const all = JSON.parse((await chronicle(['climate', '--all', '--json', '--store', store], dir)).stdout);
    expect(all.totals.bySession[session.sessionId]).toEqual(report.totals.bySession[session.sessionId]);
    const bad = await chronicle(['climate', session.sessionId, '--factors', 'made-up', '--store', store], dir);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/not a known factor set; known sets: ecologits-2025.1-ember-2024/);
  });

  it('verify passes on an intact store and names the edited event on a tampered one, and a stream whose newest events were deleted', async () => {
    const copy = join(dir, 'tamper.db');
    await chronicle(['run', 'Tamper with me', '--region', 'KE', '--purpose', 'climate_adaptation', '--store', `sqlite:${copy}`], dir);
    expect((await chronicle(['verify', '--store', `sqlite:${copy}`], dir)).stdout).toMatch(/^ok: \d+ events in 3 streams/);
    // Every chain that is left is intact; only the store's own record of the stream's head shows the loss.
    const cut = join(dir, 'cut.db');
    copyFileSync(copy, cut);
    const cutDb = new DatabaseSync(cut);
    cutDb.prepare("DELETE FROM events WHERE position = (SELECT MAX(position) FROM events WHERE stream_id LIKE 'agent-%')").run();
    cutDb.close();
    const lost = await chronicle(['verify', '--store', `sqlite:${cut}`], dir);
    expect(lost.code).toBe(1);
    expect(lost.stdout).toMatch(/^BROKEN: every event read has an intact chain \(\d+ events\), but the store is damaged:\n {2}stream "agent-\w+\.express\.0": its recorded head is revision (\d+) at position \d+, but its last stored event is revision \d+ at position \d+; revisions \1–\1 are missing/);
    const db = new DatabaseSync(copy);
    db.prepare("UPDATE events SET data = json_set(data, '$.text', 'a different answer') WHERE type = 'model.responded'").run();
    const position = (db.prepare("SELECT position FROM events WHERE type = 'model.responded'").get() as { position: number }).position;
    db.close();
    const result = await chronicle(['verify', '--json', '--store', `sqlite:${copy}`], dir);
    expect(result.code).toBe(1);
    expect(JSON.parse(result.stdout)).toMatchObject({ ok: false, place: { position: String(position) }, error: 'CorruptEventError' });
  });

  it('help <command> and <command> --help print that command\'s usage', async () => {
    for (const args of [['run', '--help'], ['help', 'run']]) {
      const help = await chronicle(args, dir);
      expect([help.code, help.stdout.split('\n')[0]], args.join(' ')).toEqual([0, expect.stringMatching(/^usage: chronicle run "<query>" --region /)]);
    }
  });

  it('errors are one clear line and a non-zero exit', async () => {
    const cases: [string[], number, RegExp][] = [
      [['replay', 'nosuchsession', '--store', store], 1, /UnknownSessionError: No session "nosuchsession"/],
      // A command that only reads does not create the store a typo names.
      [['sessions', '--store', `sqlite:${join(dir, 'typo', 'nothere.db')}`], 1, /^chronicle sessions: StoreNotFoundError: No store at \S+nothere\.db: nothing has been recorded there/],
      [['verify', '--store', `sqlite:${join(dir, 'typo.db')}`], 1, /^chronicle verify: StoreNotFoundError: No store at /],
      // Nor does it turn another program's SQLite file into one.
      [['sessions', '--store', `sqlite:${join(dir, 'foreign.db')}`], 1, /^chronicle sessions: StoreNotFoundError: No store at \S+foreign\.db: the file is there, but holds none of Chronicle's tables .*It was left as it is\./],
      [['run', 'q', '--region', 'KE', '--purpose', 'climate_adaptation', '--store', `sqlite:${join(dir, 'a-file', 'x.db')}`], 1, /^chronicle run: StoreUnavailableError: The SQLite store at \S+x\.db cannot be opened: its directory \S+a-file cannot be made \(part of that path is a file, not a directory\)/],
      [['replay', 'x', '--at', 'yesterday', '--store', store], 2, /--at "yesterday" is neither a position/],
      [['inspect', 'x', '--from', '300', '--to', '100', '--store', store], 2, /^chronicle inspect: --from 300 is after --to 100/],
      // A day past the month's end is refused, not rolled over into the next month.
      [['ledger', 'x', '--at', '2026-11-31T06:59:41Z', '--store', store], 2, /--at "2026-11-31T06:59:41Z": 2026-11-31 is not a date \(2026-11 has 30 days\)/],
      [['run', 'q', '--region', 'KE', '--purpose', 'world_domination', '--store', store], 2, /--purpose: must be one of: climate_adaptation/],
      [['run', 'q', '--region', 'XX', '--purpose', 'climate_adaptation', '--store', store], 2, /"XX" is not an ISO 3166-1/],
      [['run', 'q', '--region', 'KE', '--purpose', 'climate_adaptation', '--model', 'gpt9', '--store', store], 2, /^chronicle run: --model: .*openai:<model>/s],
      [['demo', '--store', 'postgres://nope'], 2, /^chronicle demo: --store: Store URI "postgres:\/\/nope": unknown scheme\. Accepted forms/],
      [['run', 'q', '--region', 'KE', '--purpose', 'climate_adaptation', '--store', 'mysql://x'], 2, /^chronicle run: --store: Store URI "mysql:\/\/x"/],
      [['events', '--limit', 'ten', '--store', store], 2, /--limit: expected a non-negative integer/],
      [['replay'], 2, /give the session id/],
      [['frobnicate'], 2, /unknown command "frobnicate"/],
      // A value starting with "-", and flags left out: one line each, not node:util's three or zod's "received undefined".
      [['replay', 'x', '--at', '-1', '--store', store], 2, /^chronicle replay: --at was given no value, or one starting with "-" \(write --at=<value> for such a value\)\nusage:/],
      [['run', 'q', '--session', 'abc', '--store', store], 2, /^chronicle run: --region: required; --purpose: required; must be one of: climate_adaptation, /],
      // A hosted model without its key is refused before a session is recorded (it was a turn recorded as failed).
      ...(process.env.OPENAI_API_KEY ? [] : [[['run', 'q', '--region', 'KE', '--purpose', 'climate_adaptation', '--model', 'openai:gpt-4o-mini', '--store', `sqlite:${join(dir, 'no-key.db')}`], 2, /^chronicle run: OPENAI_API_KEY is not set, and openai:gpt-4o-mini needs it; export it/] as (typeof cases)[number]]),
    ];
    writeFileSync(join(dir, 'a-file'), 'not a directory');
    // Another program's WAL database, its table still only in the -wal file, as that program left it when it stopped.
    const live = new DatabaseSync(join(dir, 'foreign-live.db'));
    live.exec("PRAGMA journal_mode = WAL; PRAGMA wal_autocheckpoint = 0; CREATE TABLE notes (text TEXT); INSERT INTO notes VALUES ('mine')");
    copyFileSync(join(dir, 'foreign-live.db'), join(dir, 'foreign.db'));
    copyFileSync(join(dir, 'foreign-live.db-wal'), join(dir, 'foreign.db-wal'));
    live.close();
    const foreignBytes = readFileSync(join(dir, 'foreign.db'));
    const results = await Promise.all(cases.map(([args]) => chronicle(args, dir)));
    expect(existsSync(join(dir, 'typo')) || existsSync(join(dir, 'typo.db')) || existsSync(join(dir, 'no-key.db'))).toBe(false);
    // Not checkpointed, not given Chronicle's tables: byte for byte as its program left it.
    expect(readFileSync(join(dir, 'foreign.db')).equals(foreignBytes)).toBe(true);
    expect(existsSync(join(dir, 'foreign.db-wal'))).toBe(true);
    const foreign = new DatabaseSync(join(dir, 'foreign.db'), { readOnly: true });
    expect(foreign.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all().map((row) => (row as { name: string }).name)).toEqual(['notes']);
    foreign.close();
    results.forEach((result, i) => {
      const [args, code, message] = cases[i]!;
      expect(result.code, args.join(' ')).toBe(code);
      expect(result.stderr, args.join(' ')).toMatch(message);
      expect(result.stderr, args.join(' ')).not.toMatch(/\n\s+at /);
    });
  });

  it('chronicle.config.json sets defaults that flags override; a bad one is refused naming the key', async () => {
    const configured = mkdtempSync(join(tmpdir(), 'chronicle-config-'));
    try {
      writeFileSync(join(configured, 'chronicle.config.json'), JSON.stringify({ store: 'sqlite:configured.db', model: 'scripted:model=scripted-large,seed=9' }));
      const fromConfig = JSON.parse((await chronicle(['run', 'Heat plans?', '--region', 'IN', '--purpose', 'climate_adaptation', '--json'], configured)).stdout);
      expect(fromConfig.model).toBe('scripted-large');
      expect(existsSync(join(configured, 'configured.db'))).toBe(true);
      const fromFlag = JSON.parse((await chronicle(['run', 'Heat plans?', '--region', 'IN', '--purpose', 'climate_adaptation', '--model', 'scripted', '--json'], configured)).stdout);
      expect(fromFlag.model).toBe('scripted-small');
      // Every command reads the configured store, not only run: the sessions run recorded are where resume and
      // sessions look, and no default store is made beside it.
      const listed = jsonLines((await chronicle(['sessions', '--json'], configured)).stdout).map((session) => session.sessionId);
      expect(listed).toEqual(expect.arrayContaining([fromConfig.sessionId, fromFlag.sessionId]));
      expect((await chronicle(['resume'], configured)).stdout.trim()).toBe('chronicle: no unfinished work left');
      expect(existsSync(join(configured, '.chronicle'))).toBe(false);
      // Settings a session fixed when it started are not changed by editing the file: a later turn says so.
      writeFileSync(join(configured, 'chronicle.config.json'), JSON.stringify({ store: 'sqlite:configured.db', model: 'scripted:model=scripted-large,seed=9', contextWindow: 300, budgetTokens: 500 }));
      const later = await chronicle(['run', 'And in the dry season?', '--session', fromConfig.sessionId, '--region', 'IN', '--purpose', 'climate_adaptation'], configured);
      expect(later.code, later.stderr).toBe(0);
      expect(later.stderr).toContain(`chronicle: session ${fromConfig.sessionId} keeps the settings it started with; the config file's contextWindow 300 (the session's: `);
      expect(later.stderr).toContain('budgetTokens 500 (the session\'s: 20000) apply to new sessions');
      // A fallback that no failing turn can reach (the breaker opens only as the turn gives up) is said, not discovered.
      writeFileSync(join(configured, 'chronicle.config.json'), JSON.stringify({ store: 'sqlite:configured.db', breakerThreshold: 3, maxAttempts: 3 }));
      const unreachable = await chronicle(['run', 'Heat plans?', '--region', 'IN', '--purpose', 'climate_adaptation', '--fallback-model', 'scripted:seed=2'], configured);
      expect(unreachable.code, unreachable.stderr).toBe(0);
      expect(unreachable.stderr).toContain('chronicle: the fallback model scripted:seed=2 cannot take over a turn whose primary keeps failing (timeouts, 5xx, rate limits): the breaker opens after 3 failures in a row (breakerThreshold), and a turn gives up after 3 attempts (maxAttempts); set breakerThreshold below maxAttempts');
      writeFileSync(join(configured, 'chronicle.config.json'), JSON.stringify({ model: 'scripted', breakerTreshold: 3 }));
      const bad = await chronicle(['run', 'q', '--region', 'IN', '--purpose', 'climate_adaptation'], configured);
      expect(bad.code).toBe(2);
      expect(bad.stderr).toMatch(/chronicle\.config\.json: \(root\): Unrecognized key: "breakerTreshold"[\s\S]*Accepted keys: store, model/);
    } finally {
      rmSync(configured, { recursive: true, force: true });
    }
  });

  it('chronicle.config.json sets how often checkpoints are taken and how many are kept', async () => {
    const configured = mkdtempSync(join(tmpdir(), 'chronicle-checkpoints-'));
    const checkpointsOf = (sessionId: string) => {
      const db = new DatabaseSync(join(configured, 'kept.db'), { readOnly: true });
      try {
        const count = db.prepare('SELECT COUNT(*) AS n FROM events WHERE stream_id = ?').get(`checkpoint-${sessionId}`) as { n: number };
        const stream = db.prepare('SELECT max_count FROM streams WHERE stream_id = ?').get(`checkpoint-${sessionId}`) as { max_count: number | null };
        return { count: count.n, maxCount: stream.max_count };
      } finally {
        db.close();
      }
    };
    try {
      writeFileSync(join(configured, 'chronicle.config.json'), JSON.stringify({ store: 'sqlite:kept.db', checkpointEveryTokens: 50, checkpointRetention: 'all' }));
      const ask = (extra: string[]) => chronicle(['run', 'Which crops resist drought?', '--region', 'KE', '--purpose', 'sustainable_agriculture', '--json', ...extra], configured);
      const { sessionId } = JSON.parse((await ask([])).stdout);
      for (let turn = 1; turn < 7; turn++) await ask(['--session', sessionId]);
      // A turn uses well over 50 tokens, so each one checkpoints, and "all" keeps every one (no $maxCount).
      expect(checkpointsOf(sessionId)).toEqual({ count: 7, maxCount: null });
      writeFileSync(join(configured, 'chronicle.config.json'), JSON.stringify({ checkpointRetention: 0 }));
      const bad = await ask([]);
      expect(bad.code).toBe(2);
      expect(bad.stderr).toMatch(/chronicle\.config\.json: checkpointRetention/);
    } finally {
      rmSync(configured, { recursive: true, force: true });
    }
  });

  it('emergency declare / list / lift change how the next query is triaged; bad input is refused with a clear line', async () => {
    const db = `sqlite:${join(dir, 'emergency.db')}`;
    const declared = await chronicle(['emergency', 'declare', 'BGD', '--kind', 'flood', '--note', 'test', '--store', db], dir);
    expect(declared.code, declared.stderr).toBe(0);
    expect(declared.stdout).toMatch(/^declared flood emergency [0-9a-f-]{36} for BGD/);
    const listed = JSON.parse((await chronicle(['emergency', 'list', '--json', '--store', db], dir)).stdout) as { region: string; kind: string }[];
    expect(listed).toMatchObject([{ region: 'BGD', kind: 'flood' }]);
    // The same emergency again (BD is BGD) is refused: one in force is enough, and one lift must end it.
    const again = await chronicle(['emergency', 'declare', 'BD', '--kind', 'flood', '--store', db], dir);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/^chronicle emergency declare: a flood emergency is already in force for BGD \([0-9a-f-]{36}, declared \S+\); nothing was recorded/);
    // An alpha-2 request in the alpha-3 region is an emergency while it is in force.
    const during = JSON.parse((await chronicle(['run', 'Where are the nearest shelters?', '--region', 'BD', '--purpose', 'disaster_response', '--json', '--store', db], dir)).stdout) as { mode: string; status: string };
    expect(during).toMatchObject({ mode: 'emergency', status: 'answered' });
    const lifted = await chronicle(['emergency', 'lift', 'BD', '--store', db], dir);
    expect(lifted.stdout).toMatch(/^lifted flood emergency/);
    const after = JSON.parse((await chronicle(['run', 'Where are the nearest shelters?', '--region', 'BD', '--purpose', 'disaster_response', '--json', '--store', db], dir)).stdout) as { mode: string };
    expect(after.mode).toBe('express');

    const noKind = await chronicle(['emergency', 'declare', 'BD', '--store', db], dir);
    expect([noKind.code, noKind.stderr.split('\n')[0]]).toEqual([2, 'chronicle emergency declare: --kind is required (flood, drought, wildfire, cyclone, heatwave)']);
    const badKind = await chronicle(['emergency', 'declare', 'BD', '--kind', 'tsunami', '--store', db], dir);
    expect(badKind.code).toBe(2);
    expect(badKind.stderr).toMatch(/--kind: must be one of: flood, drought, wildfire, cyclone, heatwave/);
    const badRegion = await chronicle(['emergency', 'declare', 'QQ', '--kind', 'flood', '--store', db], dir);
    expect(badRegion.code).toBe(2);
    expect(badRegion.stderr).toMatch(/"QQ" is not an ISO 3166-1 alpha-2 or alpha-3 region code/);
    const nothing = await chronicle(['emergency', 'lift', 'KE', '--store', db], dir);
    expect(nothing.code).toBe(1);
    expect(nothing.stderr).toMatch(/no emergency in force matches "KE"/);
  });

  it('budgets reports prediction error per mode across sessions, and the bases learning arrived at', async () => {
    const db = `sqlite:${join(dir, 'budgets.db')}`;
    for (let i = 0; i < 6; i++) expect((await chronicle(['run', `Which crop suits plot ${i}?`, '--region', 'KE', '--purpose', 'sustainable_agriculture', '--store', db], dir)).code).toBe(0);
    const report = JSON.parse((await chronicle(['budgets', '--json', '--window', '3', '--store', db], dir)).stdout) as {
      turns: number; bases: Record<string, { seed: number; learnt: number; learnedFrom: number }>; accuracy: { mode: string; count: number; windows: { meanAbsErrorPct: number }[] }[];
    };
    expect(report.turns).toBe(6);
    expect(report.bases.express).toMatchObject({ seed: 800, learnedFrom: 6 });
    expect(report.accuracy).toMatchObject([{ mode: 'express', count: 6 }]);
    expect(report.accuracy[0]!.windows).toHaveLength(2);
    const text = (await chronicle(['budgets', '--store', db], dir)).stdout;
    expect(text).toMatch(/^6 budgeted turn\(s\) reconciled/);
    expect(text).toMatch(/express {4}seed {3}800 {2}learnt +-?\d+ {2}from 6 turn\(s\)/);
    const bad = await chronicle(['budgets', '--window', '0', '--store', db], dir);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--window: must be a whole number of turns, at least 1/);
  });

  it('events --json exports a session that import loads into another store, hash chains intact; fork copies it up to a point and continues live', async () => {
    const source = `sqlite:${join(dir, 'export-source.db')}`;
    const target = `sqlite:${join(dir, 'export-target.db')}`;
    const first = JSON.parse((await chronicle(['run', 'Which crops tolerate drought?', '--region', 'KE', '--purpose', 'climate_adaptation', '--json', '--store', source], dir)).stdout) as { sessionId: string };
    await chronicle(['run', 'And which tolerate floods?', '--session', first.sessionId, '--region', 'KE', '--purpose', 'climate_adaptation', '--store', source], dir);
    const exported = (await chronicle(['events', first.sessionId, '--json', '--store', source], dir)).stdout;
    const file = join(dir, 'session.jsonl');
    writeFileSync(file, exported);
    const imported = await chronicle(['import', file, '--store', target], dir);
    expect(imported.code, imported.stderr).toBe(0);
    expect((await chronicle(['verify', '--store', target], dir)).code).toBe(0);
    expect((await chronicle(['events', first.sessionId, '--json', '--store', target], dir)).stdout).toBe(exported);
    // A second import of the same session is refused, and writes nothing.
    const again = await chronicle(['import', file, '--store', target], dir);
    expect(again.code).toBe(1);
    const tampered = join(dir, 'tampered.jsonl');
    writeFileSync(tampered, exported.replace('"turn":0', '"turn":5'));
    const refused = await chronicle(['import', tampered, '--store', `sqlite:${join(dir, 'export-other.db')}`], dir);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/line \d+: stream "[^"]+" revision \d+/);
    // Refused on the file alone: no store was made where there was none.
    expect(existsSync(join(dir, 'export-other.db'))).toBe(false);

    // Fork at the first turn's end, then ask the fork something else.
    const lines = exported.trim().split('\n').map((line) => JSON.parse(line) as { position: string; type: string });
    const firstTurnEnd = lines.find((e) => e.type === 'turn.completed')!.position;
    const fork = await chronicle(['fork', first.sessionId, '--at', firstTurnEnd, '--as', 'whatif1', '--store', source], dir);
    expect(fork.code, fork.stderr).toBe(0);
    const more = JSON.parse((await chronicle(['run', 'What if the rains fail entirely?', '--session', 'whatif1', '--region', 'KE', '--purpose', 'climate_adaptation', '--json', '--store', source], dir)).stdout) as { turn: number; status: string };
    expect(more).toMatchObject({ turn: 1, status: 'answered' });
    expect((await chronicle(['verify', '--store', source], dir)).code).toBe(0);
  });

  it('audit passes on recorded sessions, writes a report, and names the tampered event on an edited store', async () => {
    const db = join(dir, 'audit.db');
    const run = JSON.parse((await chronicle(['run', 'Design a flood early-warning system for coastal Bangladesh: compare sensor networks, SMS alerts and community radio, estimate costs, and list the first three steps for the Barisal division.', '--region', 'BD', '--purpose', 'climate_adaptation', '--json', '--store', `sqlite:${db}`], dir)).stdout) as { sessionId: string; mode: string };
    expect(run.mode).toBe('council');
    const clean = await chronicle(['audit', '--all', '--json', '--store', `sqlite:${db}`], dir);
    expect(clean.code, clean.stderr).toBe(0);
    expect(JSON.parse(clean.stdout)).toMatchObject({ ok: true, sessions: [{ sessionId: run.sessionId, ok: true }] });
    const report = join(dir, 'audit-report.md');
    expect((await chronicle(['audit', run.sessionId, '--report', report, '--store', `sqlite:${db}`], dir)).code).toBe(0);
    expect(existsSync(report) && existsSync(join(dir, 'audit-report.json'))).toBe(true);
    const raw = new DatabaseSync(db);
    const answer = raw.prepare("SELECT position, stream_id, revision FROM events WHERE type = 'model.responded' ORDER BY position LIMIT 1").get() as { position: number; stream_id: string; revision: number };
    raw.prepare("UPDATE events SET data = replace(data, '\"text\":\"', '\"text\":\"Edited. ') WHERE position = ?").run(answer.position);
    raw.close();
    const tampered = await chronicle(['audit', run.sessionId, '--store', `sqlite:${db}`], dir);
    expect(tampered.code).toBe(1);
    expect(tampered.stderr).toContain(`stream "${answer.stream_id}" revision ${answer.revision}`);
  });

  it('market offer, bid and clear trade tokens between sessions, settled in their ledgers; memory recalls similar turns', async () => {
    const db = `sqlite:${join(dir, 'market.db')}`;
    const miner = JSON.parse((await chronicle(['run', 'How do I maximise profit from crypto mining in Texas?', '--region', 'US', '--purpose', 'crypto_mining', '--json', '--store', db], dir)).stdout) as { sessionId: string };
    const flood = JSON.parse((await chronicle(['run', 'Where should families in Barisal shelter from the flood?', '--region', 'BD', '--purpose', 'climate_adaptation', '--json', '--store', db], dir)).stdout) as { sessionId: string };
    expect((await chronicle(['market', 'offer', miner.sessionId, '--amount', '1000', '--floor', '0.001', '--store', db], dir)).code).toBe(0);
    // A fork of the seller does not inherit the offer: the market settles it in the seller's ledger alone, so the
    // fork's copy of the escrow is returned to its pool rather than locked for good.
    const forked = await chronicle(['fork', miner.sessionId, '--at', '999999', '--as', 'minerfork', '--store', db], dir);
    expect(forked.code, forked.stderr).toBe(0);
    const forkLedger = JSON.parse((await chronicle(['ledger', 'minerfork', '--json', '--store', db], dir)).stdout) as { ledger: { balances: Record<string, number> }; violations: string[] };
    expect(Object.entries(forkLedger.ledger.balances).filter(([account, amount]) => account.startsWith('escrow:') && amount !== 0)).toEqual([]);
    expect(forkLedger.violations).toEqual([]);
    const sourceLedger = JSON.parse((await chronicle(['ledger', miner.sessionId, '--json', '--store', db], dir)).stdout) as { ledger: { balances: Record<string, number> } };
    expect(forkLedger.ledger.balances.session).toBe(sourceLedger.ledger.balances.session! + 1000);
    expect((await chronicle(['market', 'bid', flood.sessionId, '--amount', '800', '--max-price', '0.01', '--store', db], dir)).code).toBe(0);
    const cleared = JSON.parse((await chronicle(['market', 'clear', '--json', '--store', db], dir)).stdout) as { trades: number; volume: number };
    expect(cleared).toMatchObject({ trades: 1, volume: 800 });
    const book = JSON.parse((await chronicle(['market', '--json', '--store', db], dir)).stdout) as { trades: { seller: string; buyer: string; amount: number }[]; book: { offers: { remaining: number }[] } };
    expect(book.trades).toMatchObject([{ seller: miner.sessionId, buyer: flood.sessionId, amount: 800 }]);
    expect(book.book.offers).toMatchObject([{ remaining: 200 }]);
    const ledger = JSON.parse((await chronicle(['ledger', flood.sessionId, '--json', '--store', db], dir)).stdout) as { ledger: { balances: Record<string, number> }; violations: string[] };
    expect(ledger.ledger.balances.traded).toBe(-800);
    expect(ledger.violations).toEqual([]);
    // No session sells tokens it does not have: refused, one line, nothing written.
    const tooMuch = await chronicle(['market', 'offer', miner.sessionId, '--amount', '99999999', '--floor', '0.001', '--store', db], dir);
    expect(tooMuch.code).toBe(1);
    expect(tooMuch.stderr).toMatch(/LedgerViolationError: The ledger of session .* would break its laws after offer.escrowed/);
    const bad = await chronicle(['market', 'bid', flood.sessionId, '--amount=0', '--max-price', '0.01', '--store', db], dir);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--amount: a positive number of tokens/);
    // An empty price (an unset shell variable) is no price of 0, and a session that does not exist has nothing to offer.
    const empty = await chronicle(['market', 'offer', miner.sessionId, '--amount', '5', '--floor', '', '--store', db], dir);
    expect(empty.code).toBe(2);
    expect(empty.stderr).toMatch(/--floor: a price in USD per 1 000 tokens, a decimal number such as 0\.004/);
    const nobody = await chronicle(['market', 'offer', 'nosuch', '--amount', '5', '--floor', '0.001', '--store', db], dir);
    expect(nobody.code).toBe(2);
    expect(nobody.stderr).toMatch(/market offer: no session "nosuch" in this store/);

    const recall = JSON.parse((await chronicle(['memory', '--similar', 'How can I maximise crypto mining profit in Texas?', '--region', 'US', '--purpose', 'crypto_mining', '--json', '--store', db], dir)).stdout) as { lookup: { similar: { sessionId: string }[] } };
    expect(JSON.stringify(recall)).toContain(miner.sessionId);

    // Exported and imported, each trading session carries the market facts its ledger settled, so it audits clean in
    // its new store, whichever side comes first; the second finds the book already there and adds only what it lacks.
    const exportOf = async (sessionId: string) => {
      const file = join(dir, `${sessionId}.jsonl`);
      writeFileSync(file, (await chronicle(['events', sessionId, '--json', '--store', db], dir)).stdout);
      return file;
    };
    const [minerFile, floodFile] = [await exportOf(miner.sessionId), await exportOf(flood.sessionId)];
    expect(readFileSync(floodFile, 'utf8')).toMatch(/"streamId":"market-main"/);
    for (const [name, order] of [['traded-a.db', [minerFile, floodFile]], ['traded-b.db', [floodFile, minerFile]]] as const) {
      const target = `sqlite:${join(dir, name)}`;
      const [first, second] = [await chronicle(['import', order[0], '--store', target], dir), await chronicle(['import', order[1], '--store', target], dir)];
      expect(first.code, first.stderr).toBe(0);
      expect(second.code, second.stderr).toBe(0);
      expect(second.stdout).toMatch(/\d+ market fact\(s\) its trades settled were already in the store/);
      expect(second.stdout).not.toMatch(/interrupted/);
      // The buyer alone brings the seller's open remainder into the book: said, naming the session to import too.
      if (order[0] === floodFile) expect(first.stderr).toMatch(new RegExp(`warning: market-main holds session ${miner.sessionId}'s open offer of 200 tokens .*Import session ${miner.sessionId} too\\.`));
      else expect(first.stderr).toBe('');
      expect(second.stderr).toBe('');
      const audit = await chronicle(['audit', '--all', '--store', target], dir);
      expect(audit.code, audit.stdout).toBe(0);
      expect(audit.stdout).toMatch(/ok: 2 session\(s\), every check passes/);
    }
    // A store whose market has another history refuses the import, naming the stream, and writes nothing.
    const otherMarket = `sqlite:${join(dir, 'other-market.db')}`;
    const other = JSON.parse((await chronicle(['run', 'Which crops resist drought?', '--region', 'KE', '--purpose', 'sustainable_agriculture', '--json', '--store', otherMarket], dir)).stdout) as { sessionId: string };
    expect((await chronicle(['market', 'offer', other.sessionId, '--amount', '100', '--floor', '0.001', '--store', otherMarket], dir)).code).toBe(0);
    const clash = await chronicle(['import', floodFile, '--store', otherMarket], dir);
    expect(clash.code).toBe(1);
    expect(clash.stderr).toMatch(/stream "market-main" is in the target with another history .* Nothing was written\./);
    expect(jsonLines((await chronicle(['sessions', '--json', '--store', otherMarket], dir)).stdout)).toHaveLength(1);
  }, 120_000);

  it('machines export writes each machine\'s definition as JSON', async () => {
    const out = join(dir, 'machines');
    const result = await chronicle(['machines', 'export', '--out', out], dir);
    expect(result.code, result.stderr).toBe(0);
    for (const name of ['session', 'agent', 'transition']) expect(existsSync(join(out, `${name}.json`))).toBe(true);
  });

  it('a run started while another process awaits a model call leaves that session alone, neither calling its model again nor waiting for it', async () => {
    const shared = join(dir, 'shared.db');
    const first = inBackground(['run', 'Which embankments fail first in a cyclone?', '--region', 'BD', '--purpose', 'disaster_response', '--model', 'scripted:latency=6000', '--json', '--store', `sqlite:${shared}`], dir);
    const firstDone = first.exited;
    let firstExited = false;
    void firstDone.then(() => (firstExited = true));
    const sessionId = await firstModelRequest(shared);

    const second = await chronicle(['run', 'Which crops resist drought?', '--region', 'KE', '--purpose', 'sustainable_agriculture', '--store', `sqlite:${shared}`], dir);
    expect(second.code, second.stderr).toBe(0);
    expect(second.stderr).toMatch(new RegExp(`^chronicle: left session ${sessionId} to the process running it: its model call is awaited until \\S+Z \\(if that process has stopped, \`chronicle resume\` takes the session over now\\)`));
    expect(second.stderr).not.toMatch(/resumed/);
    expect(firstExited, 'the second run finished without waiting for the first session').toBe(false);

    expect(await firstDone).toBe(0);
    expect(JSON.parse(first.output.stdout)).toMatchObject({ sessionId, status: 'answered' });
    const audit = await chronicle(['audit', '--all', '--store', `sqlite:${shared}`], dir);
    expect(audit.stdout, audit.stderr).toMatch(/ok: 2 session\(s\), every check passes/);
  });

  it('a run asking a session whose model call another process awaits says so and exits 75, not 13; that process answers both', async () => {
    const shared = join(dir, 'second-asker.db');
    const first = inBackground(['run', 'Which mangroves protect coasts best?', '--region', 'BD', '--purpose', 'climate_adaptation', '--model', 'scripted:latency=4000', '--json', '--store', `sqlite:${shared}`], dir);
    const sessionId = await firstModelRequest(shared);
    const second = await chronicle(['run', 'And how fast do they grow?', '--session', sessionId, '--region', 'BD', '--purpose', 'climate_adaptation', '--store', `sqlite:${shared}`], dir);
    expect(second.code, second.stderr).toBe(75);
    expect(second.stderr).toMatch(/(^|\n)chronicle run: stopped waiting: the work this command waited for is under way in another process .*`chronicle resume` finishes it if that process has stopped\./);
    expect(second.stderr).not.toMatch(/top-level await/);
    expect(await first.exited).toBe(0);
    expect(JSON.parse(first.output.stdout)).toMatchObject({ sessionId, status: 'answered' });
    // The query the second run recorded was not lost: the process running the session answered it too.
    const [session] = jsonLines((await chronicle(['sessions', '--json', '--store', `sqlite:${shared}`], dir)).stdout);
    expect(session).toMatchObject({ sessionId, turns: 2, lastOutcome: { status: 'answered' } });
    const audit = await chronicle(['audit', '--all', '--store', `sqlite:${shared}`], dir);
    expect(audit.stdout, audit.stderr).toMatch(/ok: 1 session\(s\), every check passes/);
  });

  it('Ctrl-C during a model call exits 130 saying what becomes of the work; resume answers the call once', async () => {
    const path = join(dir, 'interrupted.db');
    const run = inBackground(['run', 'How high should the new sea wall be?', '--region', 'BD', '--purpose', 'climate_adaptation', '--model', 'scripted:latency=3000', '--store', `sqlite:${path}`], dir);
    const sessionId = await firstModelRequest(path);
    run.child.kill('SIGINT');
    expect(await run.exited).toBe(130);
    expect(run.output.stderr.trim()).toBe('chronicle: interrupted; every step recorded so far is kept, and `chronicle resume` finishes what was under way');

    const resumed = await chronicle(['resume', '--store', `sqlite:${path}`], dir);
    const events = jsonLines((await chronicle(['events', sessionId, '--json', '--store', `sqlite:${path}`], dir)).stdout) as { type: string; data: { text: string; model: string } }[];
    expect(events.filter((e) => e.type === 'model.requested')).toHaveLength(1);
    expect(events.filter((e) => e.type === 'model.responded')).toHaveLength(1);
    const answered = events.filter((e) => e.type === 'agent.answered');
    expect(answered).toHaveLength(1);
    // The answer the interrupted run could not print, printed by the command that finished the turn.
    expect(resumed.stdout, resumed.stderr).toBe(`chronicle: resumed 1 unfinished session(s): ${sessionId}\n`
      + `session ${sessionId}, turn 0 (express), answered by ${answered[0]!.data.model}:\n${answered[0]!.data.text}\n\nchronicle: no unfinished work left\n`);
  });

  it('a demo stopped with Ctrl-C lifts the emergency it declared, so later queries from the region are not triaged as one', async () => {
    const demoStore = `sqlite:${join(dir, 'demo-interrupted.db')}`;
    const demo = inBackground(['demo', '--store', demoStore], dir);
    while (!demo.output.stdout.includes('it is lifted when the demo ends')) await new Promise((resolve) => setTimeout(resolve, 25));
    demo.child.kill('SIGINT');
    expect(await demo.exited).toBe(130);
    expect((await chronicle(['emergency', 'list', '--store', demoStore], dir)).stdout.trim()).toBe('no climate emergency is in force');
  });

  it('a run that finds a killed run\'s turn past its timeout finishes it at start-up and says its answer on stderr, its own output unchanged', async () => {
    const configured = mkdtempSync(join(tmpdir(), 'chronicle-startup-resume-'));
    try {
      writeFileSync(join(configured, 'chronicle.config.json'), JSON.stringify({ store: 'sqlite:s.db', modelTimeoutMs: 1_000 }));
      const killed = inBackground(['run', 'Where do we raise the embankment?', '--region', 'BD', '--purpose', 'climate_adaptation', '--model', 'scripted:latency=600'], configured);
      const sessionId = await firstModelRequest(join(configured, 's.db'));
      killed.child.kill('SIGKILL');
      await killed.exited;
      // Once its timeout is well past, no live process can be running the turn: `sessions` says it stalled.
      await new Promise((resolve) => setTimeout(resolve, 6_200));
      const [listed] = jsonLines((await chronicle(['sessions', '--json'], configured)).stdout);
      expect(listed).toMatchObject({ sessionId, status: 'running', stalledSince: expect.stringMatching(/^\d{4}-/) });
      expect((await chronicle(['sessions'], configured)).stdout).toContain('(the process running it stopped: `chronicle resume` finishes it)');
      // The next question in the same session: the stalled turn is finished first and said on stderr; the command's
      // own turn is its output, not said twice.
      const next = await chronicle(['run', 'And the drains?', '--session', sessionId, '--region', 'BD', '--purpose', 'climate_adaptation', '--json'], configured);
      expect(next.code, next.stderr).toBe(0);
      expect(JSON.parse(next.stdout)).toMatchObject({ sessionId, turn: 1, status: 'answered' });
      expect(next.stderr).toContain(`chronicle: resumed 1 unfinished session(s): ${sessionId}`);
      expect(next.stderr).toMatch(new RegExp(`session ${sessionId}, turn 0 \\(express\\), answered by scripted-\\w+:\\n\\S`));
      expect(next.stderr).not.toContain(`session ${sessionId}, turn 1`);
    } finally {
      rmSync(configured, { recursive: true, force: true });
    }
  });

  it('SIGTERM during a model call exits 143 saying what becomes of the work, as Ctrl-C does', async () => {
    const path = join(dir, 'terminated.db');
    const run = inBackground(['run', 'How high should the new sea wall be?', '--region', 'BD', '--purpose', 'climate_adaptation', '--model', 'scripted:latency=3000', '--store', `sqlite:${path}`], dir);
    await firstModelRequest(path);
    run.child.kill('SIGTERM');
    expect(await run.exited).toBe(143);
    expect(run.output.stderr.trim()).toBe('chronicle: interrupted; every step recorded so far is kept, and `chronicle resume` finishes what was under way');
  });

  it('resume reports what the work it ran left behind: a breaker cool-down armed before the fallback answered is still to come', async () => {
    const path = join(dir, 'fallback-interrupted.db');
    const run = inBackground(['run', 'Will the dyke hold?', '--region', 'BD', '--purpose', 'climate_adaptation', '--model', 'scripted:failRate=1', '--fallback-model', 'scripted:latency=3000', '--store', `sqlite:${path}`], dir);
    const fallbackAsked = () => {
      if (!existsSync(path)) return false;
      const db = new DatabaseSync(path, { readOnly: true });
      try {
        return db.prepare("SELECT 1 FROM events WHERE type = 'model.requested' AND data LIKE '%scripted:latency=3000%'").get() !== undefined;
      } catch {
        return false; // the schema is not written yet
      } finally {
        db.close();
      }
    };
    while (!fallbackAsked()) await new Promise((resolve) => setTimeout(resolve, 50));
    // Stopped while the fallback answers, the primary's breaker open with its 60 s cool-down armed.
    run.child.kill('SIGINT');
    expect(await run.exited).toBe(130);
    const sessionId = (jsonLines((await chronicle(['sessions', '--json', '--store', `sqlite:${path}`], dir)).stdout) as { sessionId: string }[])[0]!.sessionId;

    const resumed = await chronicle(['resume', '--store', `sqlite:${path}`], dir);
    expect(resumed.code, resumed.stderr).toBe(0);
    const lines = resumed.stdout.trim().split('\n');
    const [first, heading] = lines;
    const second = lines.at(-1);
    expect(first).toBe(`chronicle: resumed 1 unfinished session(s): ${sessionId}`);
    expect(heading).toMatch(new RegExp(`^session ${sessionId}, turn 0 \\(express\\), answered by scripted-\\w+:$`));
    // Not "no unfinished work left": the turn is answered, and the cool-down is what a later command will fire.
    expect(second).toMatch(new RegExp(`^chronicle: nothing to do until a timer comes due; 1 session\\(s\\) wait: ${sessionId} \\(breakerCooldown at \\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z\\)\\.`));
    const events = jsonLines((await chronicle(['events', sessionId, '--json', '--store', `sqlite:${path}`], dir)).stdout) as { type: string; data: { text: string } }[];
    const answered = events.filter((e) => e.type === 'agent.answered');
    expect(answered).toHaveLength(1);
    expect(lines.slice(2, -1).join('\n').trim()).toBe(answered[0]!.data.text.trim());
  });

  it('resume with nothing unfinished says so and exits 0; a breaker cool-down still to come is reported as such, not as work done', async () => {
    const result = await chronicle(['resume', '--store', store], dir);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/no unfinished work left/);

    // Every call fails, so the breaker opens and the turn fails: its 60 s cool-down is all that is left.
    const failing = `sqlite:${join(dir, 'failing.db')}`;
    const run = await chronicle(['run', 'Will it hold?', '--region', 'KE', '--purpose', 'climate_adaptation', '--model', 'scripted:failRate=1', '--json', '--store', failing], dir);
    const failed = JSON.parse(run.stdout) as { sessionId: string; status: string; answer: string | null; failure?: string };
    const { sessionId } = failed;
    // A failed turn has no answer in --json: its reason is under `failure`, where no script takes it for one.
    expect(run.code).toBe(1);
    expect(failed).toMatchObject({ status: 'failed', answer: null, failure: expect.stringMatching(/^rate-limit: /) });
    const waiting = await chronicle(['resume', '--store', failing], dir);
    expect(waiting.code, waiting.stderr).toBe(0);
    expect(waiting.stdout).not.toMatch(/resumed|no unfinished work left/);
    expect(waiting.stdout.trim()).toMatch(new RegExp(`^chronicle: nothing to do until a timer comes due; 1 session\\(s\\) wait: ${sessionId} \\(breakerCooldown at \\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z\\)\\.`));
  });

  it('a store path that is a directory is refused naming the file to give; a directory made for a new store is said; an empty listing says so', async () => {
    const folder = join(dir, 'a-folder');
    mkdirSync(folder);
    for (const args of [['sessions'], ['run', 'Where first?', '--region', 'KE', '--purpose', 'climate_adaptation']]) {
      const refused = await chronicle([...args, '--store', `sqlite:${folder}`], dir);
      expect(refused.code).toBe(1);
      expect(refused.stderr.trim()).toBe(`chronicle ${args[0]}: StoreUnavailableError: The SQLite store at ${folder} cannot be opened: that is a directory, not a database file. Nothing was written. To fix: name the file in it, e.g. --store sqlite:${join(folder, 'chronicle.db')}.`);
    }
    expect(readdirSync(folder)).toEqual([]);

    // `workers` only reads: a path with nothing there is an error, not a new empty store.
    const missing = join(dir, 'not-yet', 'store.db');
    const workers = await chronicle(['workers', '--store', `sqlite:${missing}`], dir);
    expect(workers.code).toBe(1);
    expect(workers.stderr).toMatch(/^chronicle workers: StoreNotFoundError: No store at /);
    expect(existsSync(join(dir, 'not-yet'))).toBe(false);

    // A command that records makes the store's directory, and says so: a mistyped path shows at once.
    const declared = await chronicle(['emergency', 'declare', 'BD', '--kind', 'flood', '--store', `sqlite:${missing}`], dir);
    expect(declared.code, declared.stderr).toBe(0);
    expect(declared.stderr.trim()).toBe(`chronicle: made the directory ${join(dir, 'not-yet')} for a new store at ${missing}`);
    const sessions = await chronicle(['sessions', '--store', `sqlite:${missing}`], dir);
    expect(sessions.stdout.trim()).toBe('no sessions in this store yet: `chronicle run` or `chronicle submit` starts one');
    expect((await chronicle(['sessions', '--json', '--store', `sqlite:${missing}`], dir)).stdout).toBe('');

    // Another program's WAL database at rest (its program closed it): looked at, and left with nothing beside it.
    const atRest = join(dir, 'at-rest.db');
    const other = new DatabaseSync(atRest);
    other.exec("PRAGMA journal_mode = WAL; CREATE TABLE notes (text TEXT); INSERT INTO notes VALUES ('mine')");
    other.close();
    expect(readdirSync(dir).filter((name) => name.startsWith('at-rest'))).toEqual(['at-rest.db']);
    const looked = await chronicle(['sessions', '--store', `sqlite:${atRest}`], dir);
    expect(looked.stderr).toMatch(/holds none of Chronicle's tables .*It was left as it is\./);
    expect(readdirSync(dir).filter((name) => name.startsWith('at-rest'))).toEqual(['at-rest.db']);
  });
});
