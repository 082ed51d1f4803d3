import { intBetween, pick, seededRandom, shuffled } from './seededRandom.ts';
import { countTokens, type TokenEncoding } from './tokenCount.ts';

/**
 * The scripted model's prose: sentences about climate adaptation and agent work, drawn deterministically and
 * sized from the prompt, so offline sessions read plausibly and their token ledgers have realistic shapes.
 */

const OPENINGS = [
  'Looking at {topic}, the evidence points in a fairly clear direction.',
  'Here is a structured view of {topic}, weighed for a planner with limited budget.',
  'On {topic}, three considerations dominate the decision.',
  'The short answer on {topic} is to sequence investments rather than choose one.',
  'Taking {topic} as the focus, I separate what is well established from what is uncertain.',
];

const FINDINGS = [
  'Flood exposure is concentrated in low-lying wards, where drainage capacity was designed for a climate that no longer exists.',
  'Heat mortality rises sharply once night-time temperatures stay above 25 degrees for several consecutive days.',
  'Mangrove buffers reduce wave energy by a third or more and recover on their own after moderate storms.',
  'Informal settlements carry a disproportionate share of the risk and the least insurance coverage.',
  'Early-warning systems return several dollars of avoided losses for every dollar spent, according to most published appraisals.',
  'Groundwater salinisation is already affecting coastal wells and will constrain drinking-water options within a decade.',
  'Regional downscaled projections agree on warming but diverge on rainfall intensity, so designs should tolerate both extremes.',
  'Maintenance budgets, not construction budgets, are where most adaptation programmes quietly fail.',
  'Green roofs and street trees lower surface temperatures measurably, but only where irrigation water is reliable.',
  'Past flood events show that losses cluster around a few critical assets such as substations and clinics.',
  'Crop yields in the hinterland are sensitive to the timing of the long rains more than to their total volume.',
  'Community-led monitoring has caught drainage blockages weeks before they caused flooding in comparable cities.',
];

const RECOMMENDATIONS = [
  'Fund drainage upgrades and protection of critical assets first, because they avert the largest expected losses.',
  'Pair every hard-infrastructure project with a nature-based measure that keeps working if budgets are cut.',
  'Open cooling centres in the wards with the highest share of elderly residents before the next hot season.',
  'Publish the risk map with its uncertainties so that residents and insurers can act on the same information.',
  'Tie disbursements to maintenance milestones rather than to ribbon-cutting dates.',
  'Review the plan every two years against observed events, and move money between measures when the evidence shifts.',
  'Hand the monitoring task to a smaller agent with a narrow brief, and keep the synthesis with the lead analyst.',
  'Record the assumptions behind each estimate so that a later reviewer can replay the reasoning.',
  'Escalate to a human reviewer whenever two agents disagree on a figure by more than a factor of two.',
];

const CAVEATS = [
  'The cost figures are indicative and should be checked against local procurement data.',
  'This assessment relies on projections for the middle of the century; near-term variability may dominate the next decade.',
  'Data on informal settlements is sparse, so the exposure estimate is likely to be conservative.',
  'Another agent reviewing the same evidence might weigh heat risk more heavily than flood risk, and that disagreement is useful.',
  'The confidence in the rainfall trend is moderate; the confidence in the temperature trend is high.',
];

const CLOSINGS = [
  'In short: act first where exposure and vulnerability overlap, and keep the plan revisable.',
  'Overall, sequencing these measures protects the most people per unit of budget in the near term.',
  'I would hand this summary to the synthesiser with a note on the open questions above.',
  'That is the recommendation, with the uncertainties stated so it can be audited later.',
];

const STOPWORDS = new Set(['about', 'against', 'answer', 'between', 'should', 'which', 'would', 'their', 'there', 'these', 'those', 'where', 'while', 'could', 'before', 'after', 'other']);
const DEFAULT_TOPIC = 'the question';

/** The most telling words of the prompt (longest first, ties by first appearance), to echo it back. */
function topicOf(prompt: string): string {
  // Letters of any script, so "Überschwemmungen" is echoed whole rather than as "berschwemmungen".
  const words = prompt.match(/\p{L}[\p{L}\p{M}-]{5,}/gu) ?? [];
  const seen = new Set<string>();
  const distinct = words.filter((w) => {
    const key = w.toLowerCase();
    if (seen.has(key) || STOPWORDS.has(key)) return false;
    seen.add(key);
    return true;
  });
  const salient = distinct.map((word, index) => ({ word, index })).sort((a, b) => b.word.length - a.word.length || a.index - b.index).slice(0, 2);
  return salient.length === 0 ? DEFAULT_TOPIC : salient.sort((a, b) => a.index - b.index).map((s) => s.word).join(' and ');
}

export interface ScriptedTextOptions {
  seed: number;
  prompt: string;
  system: string;
  encoding: TokenEncoding;
  /** Scales reply length: 1 for a small model, more for a verbose large one. */
  verbosity: number;
}

/** Replies run from 40 to 400 tokens, longer for longer prompts, with some spread between prompts. */
export const MIN_REPLY_TOKENS = 40;
export const MAX_REPLY_TOKENS = 400;

export function targetReplyTokens(random: () => number, promptTokens: number, verbosity: number): number {
  const base = 40 + Math.min(promptTokens, 600) * 0.35 + intBetween(random, 0, 140);
  // The fill below stops within a sentence of the target, so the target keeps clear of both bounds.
  return Math.max(MIN_REPLY_TOKENS + 15, Math.min(MAX_REPLY_TOKENS - 10, Math.round(base * verbosity)));
}

/** A reply that is a pure function of (seed, system, prompt, encoding, verbosity). */
export function scriptedText(options: ScriptedTextOptions): string {
  const random = seededRandom('text', options.seed, options.system, options.prompt);
  const target = targetReplyTokens(random, countTokens(options.system + options.prompt, options.encoding), options.verbosity);
  const body = shuffled(random, [...FINDINGS, ...RECOMMENDATIONS, ...CAVEATS]);
  const opening = pick(random, OPENINGS).replace('{topic}', topicOf(options.prompt));
  const closing = pick(random, CLOSINGS);
  const sentences = [opening];
  let tokens = countTokens(opening, options.encoding) + countTokens(closing, options.encoding);
  // Greedy fill: take each sentence that still fits under the target; a second pass over the pool lets a long
  // reply restate points, as verbose models do.
  for (let i = 0; i < body.length * 2 && tokens < target - 12; i++) {
    const sentence = body[i % body.length]!;
    const cost = countTokens(` ${sentence}`, options.encoding);
    if (tokens + cost > target) continue;
    sentences.push(sentence);
    tokens += cost;
  }
  sentences.push(closing);
  return paragraphs(random, sentences);
}

/** Breaks the sentences into paragraphs of two to four. */
function paragraphs(random: () => number, sentences: string[]): string {
  const out: string[] = [];
  for (let i = 0; i < sentences.length; ) {
    const size = intBetween(random, 2, 4);
    out.push(sentences.slice(i, i + size).join(' '));
    i += size;
  }
  return out.join('\n\n');
}
