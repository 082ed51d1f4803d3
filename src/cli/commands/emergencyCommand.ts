import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { regionName, regionSchema } from '../../policy/requestOrigin.ts';
import { EMERGENCY_KINDS, sameRegion } from '../../policy/triage/index.ts';
import { systemClock } from '../../runtime/clock.ts';
import { EMERGENCY_STREAM, EmergencyRegister, emergencyEvent } from '../../runtime/emergencyRegister.ts';
import { openEventStore } from '../../store/openEventStore.ts';
import { commandOptions } from '../commandOptions.ts';
import type { CommandIo } from '../commandIo.ts';
import { toJson } from '../output.ts';
import { UsageError } from '../usageError.ts';
import { cliStoreUri } from '../cliConfig.ts';

export const emergencyUsage = 'emergency declare <region> --kind flood|drought|wildfire|cyclone|heatwave [--note <text>] | emergency lift <region | emergencyId> | emergency list [--json]  [--store <uri>]';

const schema = z.strictObject({
  kind: z.enum(EMERGENCY_KINDS, { error: () => `must be one of: ${EMERGENCY_KINDS.join(', ')}` }).optional(),
  note: z.string().min(1).optional(),
  store: z.string().optional(),
  json: z.boolean().optional(),
});

/**
 * Declares or lifts a climate emergency for a region (recorded in `emergency-register`). While one is in force,
 * triage serves that region's disaster-response and climate-adaptation requests first, as emergencies.
 */
export async function emergencyCommand(args: string[], io: CommandIo): Promise<number> {
  const { values, positionals } = commandOptions('emergency', args, { kind: { type: 'string' }, note: { type: 'string' }, store: { type: 'string' }, json: { type: 'boolean' } }, schema);
  const [action, target] = positionals;
  if (action !== 'declare' && action !== 'lift' && action !== 'list') throw new UsageError('emergency: say declare, lift or list');
  const store = await openEventStore(cliStoreUri(values.store), { warn: io.warn });
  try {
    const register = new EmergencyRegister(store);
    const inForce = await register.refresh();
    const recordedAt = new Date(systemClock.now()).toISOString();
    if (action === 'list') {
      if (values.json) io.out(toJson(inForce));
      else if (inForce.length === 0) io.out('no climate emergency is in force');
      else for (const e of inForce) io.out(`${e.emergencyId}  ${e.kind.padEnd(9)} ${e.region} (${regionName(e.region)})  declared ${e.declaredAt}`);
      return 0;
    }
    if (target === undefined) throw new UsageError(`emergency ${action}: give the region${action === 'lift' ? ' or the emergency id' : ''}`);
    if (action === 'declare') {
      if (values.kind === undefined) throw new UsageError(`emergency declare: --kind is required (${EMERGENCY_KINDS.join(', ')})`);
      const region = regionSchema.safeParse(target);
      if (!region.success) throw new UsageError(`emergency declare: <region> ${region.error.issues[0]?.message}`);
      // One emergency of a kind per region: a second would change nothing for triage, and lifting one would leave
      // the other in force unseen.
      const same = inForce.find((e) => sameRegion(e.region, region.data) && e.kind === values.kind);
      if (same) {
        io.warn(`chronicle emergency declare: a ${same.kind} emergency is already in force for ${same.region} (${same.emergencyId}, declared ${same.declaredAt}); nothing was recorded`);
        return 1;
      }
      const emergencyId = randomUUID();
      const data = { emergencyId, region: region.data, kind: values.kind, ...(values.note ? { note: values.note } : {}) };
      await store.appendToStream(EMERGENCY_STREAM, [emergencyEvent('emergency.declared', data, { eventId: randomUUID(), recordedAt })]);
      io.out(values.json ? toJson(data) : `declared ${values.kind} emergency ${emergencyId} for ${region.data} (${regionName(region.data)})`);
      return 0;
    }
    const lifted = inForce.filter((e) => e.emergencyId === target || sameRegion(e.region, target));
    if (lifted.length === 0) {
      io.warn(`chronicle emergency lift: no emergency in force matches "${target}"; in force: ${inForce.map((e) => `${e.region} ${e.kind} ${e.emergencyId}`).join(', ') || 'none'}`);
      return 1;
    }
    await store.appendToStream(EMERGENCY_STREAM, lifted.map((e) => emergencyEvent('emergency.lifted', { emergencyId: e.emergencyId, region: e.region, ...(values.note ? { note: values.note } : {}) }, { eventId: randomUUID(), recordedAt })));
    for (const e of lifted) io.out(values.json ? toJson({ lifted: e.emergencyId }) : `lifted ${e.kind} emergency ${e.emergencyId} for ${e.region}`);
    return 0;
  } finally {
    await store.close();
  }
}
