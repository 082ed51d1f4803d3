/** How an agent turns its role, recent turns and the task into a prompt. Pure, so replay rebuilds it exactly. */
export interface PromptInput {
  role: string;
  /** For an instance that took over in a hand-off: what it was handed (hot tier whole, warm compressed). */
  transferSummary?: string;
  history: readonly { turn: number; query: string; answer: string }[];
  task: {
    turn: number; query: string; region: string; purpose: string; context?: string;
    /** For a synthesiser: what each council role answered (or why it failed). */
    contributions?: readonly { role: string; status: 'answered' | 'failed'; text: string }[];
  };
}

/** What each council role is for; a role without an entry gets the general instruction only. */
const ROLE_GUIDANCE: Readonly<Record<string, string>> = {
  analyst: 'Break the question down and answer each part with the evidence for it.',
  critic: 'Look for what a plan like this gets wrong: risks, missing costs, people left out; say how to fix each.',
  domain_expert: 'Answer from the practice of the field: what works on the ground, with numbers where they are known.',
  economist: 'Estimate costs and benefits, and say who pays and who gains.',
  local_context: 'Bring in what is specific to the place named: institutions, seasons, languages, past events.',
  synthesiser: 'Merge the council\'s contributions into one answer: keep what they agree on, settle what they dispute, say what is uncertain.',
};

export function buildPrompt(input: PromptInput): string {
  return promptParts(input).join('\n');
}

/**
 * The prompt's parts, one per line break it is joined with. An earlier answer is one part, exactly as the model
 * returned it: the reservation estimate counts part by part, and a text already counted (the model's reply, when
 * its usage was counted here) is then a lookup rather than a second count of the whole answer every turn.
 */
export function promptParts({ role, history, task, transferSummary }: PromptInput): string[] {
  const lines = [`You are the ${role} agent of a climate-aware assistant. Answer accurately and concisely.`];
  const guidance = ROLE_GUIDANCE[role];
  if (guidance) lines.push(guidance);
  lines.push(`Request region: ${task.region}. Purpose: ${task.purpose.replace(/_/g, ' ')}.`);
  // Handed over from a previous instance: its summary stands in for the conversation this instance did not have.
  if (transferSummary) lines.push('Hand-off summary from the previous instance:', transferSummary);
  // The session's tiered state (essential context first) stands in for history this instance did not see itself.
  if (task.context) lines.push('Session context:', task.context);
  for (const past of history) lines.push(`Earlier question (turn ${past.turn}): ${past.query}`, 'Your earlier answer:', past.answer);
  if (task.contributions && task.contributions.length > 0) {
    lines.push('Council contributions to merge:');
    // Each contribution is its own part: the role's answer exactly as its model returned it (counted already).
    for (const c of task.contributions) lines.push(c.status === 'answered' ? `From the ${c.role}:` : `The ${c.role} could not answer:`, c.text);
  }
  lines.push(`Question (turn ${task.turn}): ${task.query}`);
  return lines;
}

/** The essential (hot) lines of a context text or hand-off summary: the `- ` lines under "Essential context:". */
export function essentialLines(text: string): string[] {
  const lines = text.split('\n');
  const start = lines.indexOf('Essential context:');
  if (start < 0) return [];
  const essential: string[] = [];
  for (const line of lines.slice(start + 1)) {
    if (!line.startsWith('- ')) break;
    essential.push(line);
  }
  return essential;
}
