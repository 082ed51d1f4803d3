/** How an agent turns its role, recent turns and the task into a prompt. Pure, so replay rebuilds it exactly. */
export interface PromptInput {
  role: string;
  history: readonly { turn: number; query: string; answer: string }[];
  task: { turn: number; query: string; region: string; purpose: string; context?: string };
}

export function buildPrompt(input: PromptInput): string {
  return promptParts(input).join('\n');
}

/**
 * The prompt's parts, one per line break it is joined with. An earlier answer is one part, exactly as the model
 * returned it: the reservation estimate counts part by part, and a text already counted (the model's reply, when
 * its usage was counted here) is then a lookup rather than a second count of the whole answer every turn.
 */
export function promptParts({ role, history, task }: PromptInput): string[] {
  const lines = [
    `You are the ${role} agent of a climate-aware assistant. Answer accurately and concisely.`,
    `Request region: ${task.region}. Purpose: ${task.purpose.replace(/_/g, ' ')}.`,
  ];
  // The session's tiered state (essential context first) stands in for history this instance did not see itself.
  if (task.context) lines.push('Session context:', task.context);
  for (const past of history) lines.push(`Earlier question (turn ${past.turn}): ${past.query}`, 'Your earlier answer:', past.answer);
  lines.push(`Question (turn ${task.turn}): ${task.query}`);
  return lines;
}
