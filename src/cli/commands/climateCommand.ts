import { z } from 'zod';
import type { ClimateListing } from '../../../projections/climate/climateListing.ts';
import { climateReport, type ClimateReport } from '../../../projections/climate/climateReport.ts';
import type { ClimateTotals } from '../../../projections/climate/climateState.ts';
import type { FactorSet } from '../../policy/climate/factorSet.ts';
import { defaultFactorSet, factorSetById, factorSetIds } from '../../policy/climate/factorSets.ts';
import { isAtOrBefore, type PointInTime } from '../../runtime/pointInTime.ts';
import { readSessionEvents } from '../../runtime/sessionStreams.ts';
import { collect, type EventStore } from '../../store/eventStore.ts';
import { sessionListing, storeListing } from '../../runtime/climateListings.ts';
import { openEventStore } from '../../store/openEventStore.ts';
import { commandOptions } from '../commandOptions.ts';
import type { CommandIo } from '../commandIo.ts';
import { toJson } from '../output.ts';
import { answeredPoint, pointFlag } from '../pointFlag.ts';
import { sessionScope } from '../../runtime/consistentCut.ts';
import { UsageError } from '../usageError.ts';
import { cliStoreUri } from '../cliConfig.ts';

const schema = z.strictObject({ at: z.string().optional(), store: z.string().optional(), json: z.boolean().optional(), all: z.boolean().optional(), factors: z.string().optional() });

export const climateUsage = `climate <sessionId | --all> [--at <position | ISO time>] [--factors <${factorSetIds.join(' | ')}>] [--json] [--store <uri>]`;

/**
 * The climate impact of a session (or the whole store) as of a point: per call every input and output, totals,
 * under the factor set the session recorded, or restated under `--factors`. Every call is listed, so this folds
 * the log from its start rather than from a checkpoint (which holds totals and only the newest calls).
 */
export async function climateCommand(args: string[], io: CommandIo): Promise<number> {
  const { values, positionals } = commandOptions('climate', args, {
    at: { type: 'string' }, store: { type: 'string' }, json: { type: 'boolean' }, all: { type: 'boolean' }, factors: { type: 'string' },
  }, schema);
  const [sessionId] = positionals;
  if (!sessionId === !values.all) throw new UsageError('climate: give one session id, or --all for the whole store');
  const asked = pointFlag('climate', values.at);
  const chosen = values.factors === undefined ? undefined : knownFactorSet(values.factors);
  const store = await openEventStore(cliStoreUri(values.store), { existing: true });
  try {
    const point = await answeredPoint(store, asked, sessionId ? sessionScope(sessionId) : {});
    const { listing, factors } = sessionId ? await sessionClimate(store, sessionId, point.at, chosen) : await storeClimate(store, point.at, chosen ?? defaultFactorSet);
    const report = climateReport(listing, factors);
    if (values.json) io.out(toJson({ scope: sessionId ?? 'all', ...point.json, ...report }));
    else printClimate(io, sessionId ?? 'all sessions', point.described, report);
    return 0;
  } finally {
    await store.close();
  }
}

function knownFactorSet(id: string): FactorSet {
  try {
    return factorSetById(id);
  } catch {
    throw new UsageError(`climate: --factors "${id}" is not a known factor set; known sets: ${factorSetIds.join(', ')}`);
  }
}

/** A session under the chosen set, else the set its log recorded as in force, else the default. */
async function sessionClimate(store: EventStore, sessionId: string, at: PointInTime | undefined, chosen: FactorSet | undefined): Promise<{ listing: ClimateListing; factors: FactorSet }> {
  return sessionListing(sessionId, (await readSessionEvents(store, sessionId)).filter((e) => isAtOrBefore(e, at)), chosen);
}

async function storeClimate(store: EventStore, at: PointInTime | undefined, factors: FactorSet): Promise<{ listing: ClimateListing; factors: FactorSet }> {
  return { listing: await storeListing(store, (await collect(store.readAll())).filter((e) => isAtOrBefore(e, at)), factors), factors };
}

function printClimate(io: CommandIo, scope: string, when: string, report: ClimateReport): void {
  const range = (s: { min: number; central: number; max: number }, digits: number) => `${s.central.toFixed(digits)} (${s.min.toFixed(digits)}–${s.max.toFixed(digits)})`;
  io.out(`climate impact of ${scope} as of ${when}, factor set ${report.factorSet.id} (sha256 ${report.factorSet.sha256.slice(0, 12)}…)${report.restated ? ', RESTATED from the set recorded in force' : ''}`);
  io.out('');
  io.out('call                                          model             out tok  Wh central (min–max)     usage gCO2e  embodied g  true cost USD');
  for (const call of report.calls) {
    const o = call.outputs;
    io.out(`${`${call.streamId} #${call.position}`.padEnd(45)} ${call.inputs.model.padEnd(17)} ${String(call.inputs.outputTokens).padStart(7)}  ${range(o.energyWh, 4).padEnd(24)} ${o.usageGco2e.central.toFixed(4).padStart(11)} ${o.embodiedGco2e.central.toFixed(4).padStart(11)} ${o.trueCostUsd.total.toExponential(3).padStart(13)}`);
    io.out(`${''.padEnd(45)} grid ${call.inputs.gridRegion} ${call.inputs.gridIntensityGco2PerKwh} g/kWh (${call.inputs.gridDataYear}), origin ${call.inputs.originRegion ?? '?'} ${call.inputs.originClass}, ${call.flags.length > 0 ? `flags: ${call.flags.join(', ')}` : 'no flags'}`);
  }
  io.out('');
  printTotals(io, 'total', report.totals.all, range);
  for (const [purpose, totals] of Object.entries(report.totals.byPurpose)) printTotals(io, `purpose ${purpose}`, totals, range);
}

function printTotals(io: CommandIo, label: string, t: ClimateTotals, range: (s: { min: number; central: number; max: number }, digits: number) => string): void {
  const c = t.trueCostUsd;
  io.out(`${label}: ${t.calls} call(s), ${t.outputTokens} output tokens, ${range(t.energyWh, 4)} Wh, ${range(t.usageGco2e, 4)} gCO2e usage + ${range(t.embodiedGco2e, 4)} g embodied`);
  io.out(`  true cost $${c.total.toExponential(4)} = energy ${c.energyCost.toExponential(3)} + carbon ${c.carbonCost.toExponential(3)} ${signed(c.renewableDiscount)} renewable discount ${signed(c.justiceAdjustment)} justice adjustment`);
}

function signed(value: number): string {
  return value < 0 ? `− ${(-value).toExponential(3)}` : `+ ${value.toExponential(3)}`;
}
