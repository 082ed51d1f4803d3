import type { ClimateState } from '../../../projections/climate/climateState.ts';
import type { SessionState } from '../../../projections/sessionState/sessionState.ts';
import { sessionStateAt, storeStateAt } from '../../runtime/stateAt.ts';
import { openEventStore } from '../../store/openEventStore.ts';
import { sessionProjections } from '../sessionProjections.ts';
import { sessionPointArgs } from '../sessionPointArgs.ts';
import type { CommandIo } from '../commandIo.ts';
import { toJson } from '../output.ts';
import { answeredPoint } from '../pointFlag.ts';
import { sessionScope } from '../../runtime/consistentCut.ts';
import { cliStoreUri } from '../cliConfig.ts';

export const stateUsage = 'state <sessionId | --all> [--at <position | ISO time>] [--json] [--store <uri>]';

/** Everything about a session as of a point: each actor's state and context, and every projection. */
export async function stateCommand(args: string[], io: CommandIo): Promise<number> {
  if (args.includes('--all')) return wholeStore(args.filter((a) => a !== '--all'), io);
  const { sessionId, at: asked, json, store: storeUri } = sessionPointArgs('state', args);
  const store = await openEventStore(cliStoreUri(storeUri), { existing: true });
  try {
    const point = await answeredPoint(store, asked, sessionScope(sessionId));
    const state = await sessionStateAt(store, sessionId, point.at, sessionProjections());
    if (json) {
      io.out(toJson({ ...point.json, ...state }));
      return 0;
    }
    io.out(`session ${sessionId} as of ${point.described} (last event folded: ${state.position ?? 'none'})`);
    for (const actor of state.actors) io.out(`  ${actor.streamId.padEnd(30)} ${toJson(actor.value)}`);
    const usage = state.ledger.usage.total;
    io.out(`  ledger: ${usage.calls} call(s), ${usage.inputTokens} in / ${usage.outputTokens} out, $${usage.costUsd.toFixed(6)}, session pool ${state.ledger.balances.session ?? 0}`);
    const unsettled = state.ledger.reconciled.unsettled ? ` (${state.ledger.reconciled.unsettled} more with no call settled)` : '';
    io.out(`  reconciled: ${state.ledger.reconciled.count} turn(s)${unsettled}, mean error ${state.ledger.reconciled.meanErrorPct.toFixed(2)} %; turns open: ${Object.keys(state.ledger.turns).map((turn) => `turn ${turn}`).join(', ') || 'none'}`);
    for (const [name, projection] of Object.entries(state.projections)) io.out(`  ${name}: ${describeProjection(name, projection)}`);
    return 0;
  } finally {
    await store.close();
  }
}

async function wholeStore(args: string[], io: CommandIo): Promise<number> {
  const { at: asked, json, store: storeUri } = sessionPointArgs('state', ['all', ...args]);
  const store = await openEventStore(cliStoreUri(storeUri), { existing: true });
  try {
    const point = await answeredPoint(store, asked);
    const sessions = await storeStateAt(store, point.at, sessionProjections());
    if (json) {
      io.out(toJson({ ...point.json, sessions }));
      return 0;
    }
    io.out(`${sessions.length} session(s) as of ${point.described}`);
    for (const s of sessions) {
      const session = s.actors.find((a) => a.actorKind === 'session');
      io.out(`  ${s.sessionId}  ${toJson(session?.value ?? null).padEnd(24)} ${s.ledger.usage.total.calls} call(s), ${s.ledger.usage.total.inputTokens + s.ledger.usage.total.outputTokens} tokens`);
    }
    return 0;
  } finally {
    await store.close();
  }
}

/**
 * One line per projection. The tiered state and climate are summarised (what they carry, not everything they
 * account: the whole cold tier and every call are folds of the log, `materialiseColdTier` and `climateListing`).
 */
function describeProjection(name: string, projection: unknown): string {
  if (name === 'sessionState') {
    const s = projection as SessionState;
    const kinds = Object.entries(s.cold.byKind).map(([kind, n]) => `${n} ${kind}`).join(', ');
    return `hot ${s.hot.length} item(s) / ${s.tokens.hot} tokens, warm ${s.warm.length} / ${s.tokens.warm}, cold ${s.cold.count} / ${s.tokens.cold} (${kinds || 'none'}), ${s.moves.count} move(s)`;
  }
  if (name.startsWith('climate:')) {
    const c = projection as ClimateState;
    const t = c.totals.all;
    return `${t.calls} call(s), ${t.energyWh.central.toFixed(4)} Wh, ${t.usageGco2e.central.toFixed(4)} gCO2e usage + ${t.embodiedGco2e.central.toFixed(4)} g embodied, true cost $${t.trueCostUsd.total.toExponential(3)} (every call: chronicle climate)`;
  }
  return toJson(projection).slice(0, 400);
}
