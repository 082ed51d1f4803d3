import { z } from 'zod';
import { withCliRuntime } from '../cliRuntime.ts';
import { sessionsStillWaiting, untilSessionsIdle, type WaitingSession } from '../../runtime/resumeSessions.ts';
import { commandOptions } from '../commandOptions.ts';
import type { CommandIo } from '../commandIo.ts';

const schema = z.strictObject({ store: z.string().optional() });

export const resumeUsage = 'resume [--store <uri>]';

/** Resumes every unfinished session (start-up does the same for any command that runs sessions) and waits for them. */
export async function resumeCommand(args: string[], io: CommandIo): Promise<number> {
  const { values } = commandOptions('resume', args, { store: { type: 'string' } }, schema);
  // Everything the runtime says goes to stdout here, the answers of the turns it finished included (start-up says
  // them, after this work): they are what this command is run for.
  const { waiting, held } = await withCliRuntime(values.store, { out: io.out, warn: io.out }, async (runtime, _store, state) => {
    // Reported once the resumed work is done, not from the scan before it: a turn that ran here may have left a
    // timer due later (a breaker's cool-down), which this command, about to exit, will not fire.
    await untilSessionsIdle(runtime, state.resumed);
    await runtime.settled();
    return { held: state.held, waiting: await sessionsStillWaiting(runtime, [...state.waiting.map((w) => w.sessionId), ...state.resumed]) };
  }, { takeOverInFlight: true });
  // Sessions a live worker holds are its to run, unfinished or not: said, so "nothing left" is not read as all done.
  if (held.length > 0) io.out(`chronicle: left ${held.length} session(s) to the live workers holding them: ${held.map((h) => `${h.sessionId} (worker ${h.workerId})`).join(', ')}`);
  if (waiting.length === 0) {
    io.out(held.length > 0 ? 'chronicle: no other unfinished work left' : 'chronicle: no unfinished work left');
    return 0;
  }
  // A timer due later cannot fire in a command that exits now: say when each session next has work, and who takes it.
  io.out(`chronicle: nothing to do until a timer comes due; ${waiting.length} session(s) wait: ${waiting.map(describeWait).join(', ')}. The first command run after then fires it.`);
  return 0;
}

function describeWait({ sessionId, key, dueAt }: WaitingSession): string {
  return `${sessionId} (${key} at ${new Date(dueAt).toISOString()})`;
}
