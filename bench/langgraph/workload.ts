import { countTokens } from '../../src/models/tokenCount.ts';

/**
 * The workload both sides run: an agent loop where each step appends one ~200-character message with its token
 * counts. The text differs per step (its number is in it), so no count is a remembered one.
 */
export const STEP_COUNTS = [100, 1_000, 5_000] as const;
export const MESSAGE_CHARS = 200;
/** Steps run on a throwaway store before the timed loop, so neither side is timed while its code is still cold. */
export const WARMUP_STEPS = 30;

const BODY = 'Mangroves cut wave energy by a third; pair them with drainage upgrades and early warning, and fund '
  + 'maintenance rather than ribbon-cutting. Review the plan every two years against observed floods and move money. ';

/** The assistant's message of step `step`: exactly MESSAGE_CHARS characters. */
export function stepMessage(step: number): string {
  const head = `Step ${step}: `;
  return (head + BODY.repeat(2)).slice(0, MESSAGE_CHARS);
}

/** The user's query that asks for step `step` (Chronicle's turns start from a query). */
export function stepQuery(step: number): string {
  return `Step ${step}: what should the district do next about flood early warning in Khulna?`;
}

/** Token counts of a message, with tiktoken as Chronicle counts them (o200k_base). */
export function tokensOf(text: string): number {
  return countTokens(text);
}
