import { countTokens } from '../../src/models/tokenCount.ts';

/**
 * The workload both sides run: an agent loop where each step appends one 200-character message with its token
 * counts. The text differs per step (its number is in it), so no count is a remembered one.
 */
export const STEP_COUNTS = [100, 1_000, 5_000] as const;
export const MESSAGE_CHARS = 200;
/** Steps run on a throwaway store before the timed loop, so neither side is timed while its code is still cold. */
export const WARMUP_STEPS = 30;

const BODY = 'Mangroves cut wave energy by a third; pair them with drainage upgrades and early warning, and fund '
  + 'maintenance rather than ribbon-cutting. Review the plan every two years against observed floods and move money. ';

/**
 * The assistant's message of step `step` in thread `thread`: exactly MESSAGE_CHARS characters. The thread is in
 * the text so that two loops in one process never count the same text (token counts are remembered per text).
 */
export function stepMessage(step: number, thread: string): string {
  return (`Step ${step} of ${thread}: ${BODY.repeat(2)}`).slice(0, MESSAGE_CHARS);
}

/** The user's query that asks for step `step` of thread `thread` (Chronicle's turns start from a query). */
export function stepQuery(step: number, thread: string): string {
  return `Step ${step} of ${thread}: what should the district do next about flood early warning in Khulna?`;
}

/** Token counts of a message, with tiktoken as Chronicle counts them (o200k_base). */
export function tokensOf(text: string): number {
  return countTokens(text);
}
