import { createHash } from 'node:crypto';
import { getShortestPaths } from 'xstate/graph';
import type { AnyMachineSnapshot, AnyStateMachine } from 'xstate';
import { describe, expect, it } from 'vitest';
import { actorKinds, type ActorKind } from '../../src/runtime/actorKinds.ts';
import { initialSnapshot, persistedState, replayStep } from '../../src/runtime/actorFold.ts';
import type { RecordedEvent } from '../../src/events/envelope.ts';
import { agentEvents, agentKey, pathConfig } from '../support/agentPathEvents.ts';

/**
 * A machine version names its definition as data plus a revision its author bumps; code behind an unchanged name
 * (a guard, an action) is invisible to the hash. So each agent definition this build replays is pinned here to a
 * fingerprint of its behaviour: every shortest path the model-based test walks, each step's state, context and
 * emitted effects, hashed. A change that moves a fingerprint changes how recorded streams replay: bump the
 * revision and keep the old definition in `ActorKind.earlier` (then pin both). Every edge is covered, not only the
 * paths: from each state a shortest path reaches, every fact the generator offers there is stepped and hashed too.
 * A change to the path generator itself moves them all: re-pin.
 */
const PINNED: Record<string, string> = {
  'agent@12:5e89b92b1284b1bc': '162d620ea02461e7',
  'agent@11:5e89b92b1284b1bc': 'bceb02fb44964f26',
  'agent@10:5e89b92b1284b1bc': 'c63ed7bcc7735ce7',
  'agent@9:5e89b92b1284b1bc': '2f8187a8d8fea1c3',
};

/** The configs each revision's streams can hold, with and without a fallback: revision 11 sessions set `retryBackoffMs`, earlier ones could not. */
const CONFIGS_BEFORE_11 = [pathConfig, { ...pathConfig, fallbackModel: null }];
const CONFIGS_SINCE_11 = [...CONFIGS_BEFORE_11.map((config) => ({ ...config, retryBackoffMs: 200 })), ...CONFIGS_BEFORE_11];

function fingerprint(kind: ActorKind, version: string, machine: AnyStateMachine, configs: readonly Record<string, unknown>[]): string {
  const hash = createHash('sha256');
  // Only revision 12 on records a missed model timeout: earlier revisions' streams are stepped without one.
  const facts = { missed: version === kind.version };
  for (const config of configs) {
    const paths = getShortestPaths(machine, { events: ((snapshot: never) => agentEvents(snapshot, config, facts)) as never, serializeState: agentKey as never, limit: 5_000 });
    // Stepped as replay steps a recorded event: through the definition its version names.
    const step = (snapshot: AnyMachineSnapshot, event: { type: string }) => {
      const { type, ...data } = event;
      const result = replayStep(kind, snapshot, { type, data, metadata: { machineVersion: version } } as unknown as RecordedEvent);
      hash.update(JSON.stringify([type, persistedState(kind, result.snapshot), result.effects]));
      return result.snapshot;
    };
    for (const path of paths) {
      let snapshot = initialSnapshot(kind);
      for (const { event } of path.steps.slice(1)) snapshot = step(snapshot, event as { type: string });
      hash.update('|');
      for (const event of agentEvents(snapshot, config, facts)) step(snapshot, event);
      hash.update('\n');
    }
  }
  return hash.digest('hex').slice(0, 16);
}

/** `agent@11:…` → 11. */
function revisionOf(version: string): number {
  return Number(/@(\d+):/.exec(version)![1]);
}

describe('machine revisions', () => {
  it('each agent definition this build replays behaves as pinned to its version', () => {
    const kind = actorKinds.agent!;
    const definitions: [string, AnyStateMachine, readonly Record<string, unknown>[]][] = [
      [kind.version, kind.machine, CONFIGS_SINCE_11],
      ...[...kind.earlier].map(([version, machine]): [string, AnyStateMachine, readonly Record<string, unknown>[]] => [version, machine, revisionOf(version) >= 11 ? CONFIGS_SINCE_11 : CONFIGS_BEFORE_11]),
    ];
    const found = Object.fromEntries(definitions.map(([version, machine, configs]) => [version, fingerprint(kind, version, machine, configs)]));
    expect(found, 'a definition behaves differently under a version already recorded: bump its revision and keep the old one in ActorKind.earlier').toEqual(PINNED);
  });
});
