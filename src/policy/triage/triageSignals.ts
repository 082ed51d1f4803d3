/**
 * The signals triage reads from a query's text. Each one counts something by a written-down rule, divides the
 * count by a saturation point (capped at 1) and multiplies that by a weight. The weights add up to 1, so the
 * complexity score is just the sum of the contributions, and every part of the score comes from one named signal.
 *
 * Weights and saturation points were tuned on the founding demo queries. A one-line factual question ("What is
 * the capital of Kenya?") scores about 0.1. The multi-part Bangladesh early-warning query and the Machakos
 * crop-sequencing query both score above 0.6. What the query asks for (deliverables) and what field it is in
 * (domain terms) weigh most, because those are what a council of roles adds over a single answer.
 */
export interface TriageSignal { name: string; value: number; weight: number; contribution: number; detail: string }

export const SIGNAL_RULES = [
  { name: 'length', weight: 0.15, saturation: 30, unit: 'word' },
  { name: 'questions', weight: 0.10, saturation: 2, unit: 'question' },
  { name: 'clauses', weight: 0.15, saturation: 6, unit: 'clause marker' },
  { name: 'domain_terms', weight: 0.20, saturation: 5, unit: 'domain term' },
  { name: 'named_entities', weight: 0.10, saturation: 3, unit: 'named entity' },
  { name: 'deliverables', weight: 0.20, saturation: 3, unit: 'deliverable' },
  { name: 'ambiguity', weight: 0.10, saturation: 3, unit: 'ambiguity marker' },
] as const;

export type SignalName = (typeof SIGNAL_RULES)[number]['name'];

/** Domain terms, by field. Each counts once, however often it appears; plural and -ing/-ed forms count as the term. */
export const DOMAIN_TERMS: readonly string[] = [
  // climate
  'climate', 'adaptation', 'mitigation', 'emission', 'carbon', 'greenhouse gas', 'global warming', 'resilience',
  'sea level rise', 'net zero',
  // disaster
  'flood', 'drought', 'wildfire', 'cyclone', 'hurricane', 'typhoon', 'heatwave', 'heat wave', 'storm surge',
  'landslide', 'early warning', 'evacuation', 'disaster', 'coastal', 'monsoon', 'alert', 'shelter',
  // energy
  'renewable', 'solar', 'wind power', 'wind turbine', 'grid', 'battery', 'microgrid', 'energy', 'electricity',
  'hydropower', 'geothermal', 'power plant',
  // agriculture
  'agriculture', 'crop', 'farmer', 'smallholder', 'irrigation', 'soil', 'yield', 'livestock', 'agroforestry',
  'drought tolerant', 'water harvesting', 'rainwater', 'fertiliser', 'fertilizer', 'seed', 'harvest',
  'food security', 'watershed',
  // policy
  'policy', 'regulation', 'subsidy', 'subsidies', 'carbon tax', 'climate finance', 'insurance', 'governance',
  'infrastructure', 'loss and damage',
];

/** Things a query asks to be produced, as [name, ...forms]; each name counts once. */
export const DELIVERABLES: readonly (readonly string[])[] = [
  ['plan', 'plan', 'planning'], ['compare', 'compare', 'comparison', 'versus'], ['list', 'list'], ['table', 'table'],
  ['estimate', 'estimate', 'estimation', 'calculate'], ['design', 'design'],
  ['evaluate', 'evaluate', 'evaluation', 'assess', 'assessment'], ['steps', 'step'], ['budget', 'budget'],
  ['report', 'report'], ['cost', 'cost'], ['sequence', 'sequence', 'prioritise', 'prioritize', 'rank'],
  ['timeline', 'timeline', 'schedule', 'roadmap'], ['strategy', 'strategy', 'strategies'],
  ['recommend', 'recommend', 'recommendation'], ['outline', 'outline'], ['draft', 'draft'],
  ['analyse', 'analyse', 'analyze', 'analysis'], ['map', 'map'],
];

/** Vague wording: an answer has to decide what the asker meant, which is work a critic role is there to check. */
export const AMBIGUITY_MARKERS: readonly string[] = [
  'maybe', 'perhaps', 'some', 'somewhat', 'something', 'or something', 'etc', 'or so', 'it depends', 'kind of',
  'sort of', 'a few', 'several', 'a lot', 'roughly', 'approximately', 'probably', 'stuff', 'whatever',
  'various',
];

/** Money words: when present, a council gets an economist. */
export const COST_TERMS: readonly string[] = [
  'cost', 'costing', 'budget', 'price', 'pricing', 'investment', 'invest', 'finance', 'financing', 'funding',
  'affordable', 'afford', 'profit', 'tariff', 'subsidy', 'subsidies', 'roi',
];

const CONJUNCTIONS = /(?<![\p{L}\p{N}])(?:and|but|or|while|whereas|because|although|though|unless|if|then)(?![\p{L}\p{N}])/giu;
const INTERROGATIVES = new Set([
  'what', 'how', 'why', 'which', 'who', 'whom', 'whose', 'when', 'where', 'should', 'can', 'could', 'would', 'will',
  'is', 'are', 'do', 'does', 'did', 'shall', 'may',
]);
// A second question inside one sentence: "…, and how should they…".
const EMBEDDED_QUESTION = /(?:[,;:]|(?<![\p{L}\p{N}])(?:and|or|but))\s+(?:what|how|why|which|who|when|where)(?![\p{L}\p{N}])/giu;
const WORD = /[\p{L}\p{N}]+(?:['’-][\p{L}\p{N}]+)*/gu;
// Sentence ends and question marks of other scripts too: full-width (Chinese, Japanese) and Arabic. A query in
// Japanese ending "？" asks as much as one ending "?" (rules @2; @1 counted "?" alone). Greek's question mark is
// mostly typed as ";", which in every other language ends a clause, not a question: it is left out.
const SENTENCE_BREAK = /[.!?\n。．！？؟]+/u;
const QUESTION_MARKS = /[?？؟]+/gu;

interface Measurement { count: number; found: readonly string[] }

export interface TextFeatures {
  measurements: Record<SignalName, Measurement>;
  namedEntities: readonly string[];
  costTerms: readonly string[];
  words: number;
}

/** Lower case, hyphens and slashes as spaces: "Early-Warning" and "early warning" are the same term. */
function normalise(text: string): string {
  return ` ${text.toLowerCase().replace(/[-‐‑–—_/]+/gu, ' ').replace(/\s+/gu, ' ')} `;
}

/** `lead`: a word every match of the form contains literally, when the form is plain words (no regex syntax). */
interface Form { name: string; pattern: RegExp; length: number; lead: string | undefined }

/**
 * Longest forms are matched first and blanked out, so "drought tolerant" counts once as itself rather than also
 * as "drought".
 */
function compile(entries: readonly (readonly string[])[]): Form[] {
  const forms = entries.flatMap(([name = '', ...rest]) => (rest.length > 0 ? rest : [name]).map((form) => ({
    name,
    pattern: new RegExp(`(?<![\\p{L}\\p{N}])${form.replace(/ /g, '\\s+')}(?:s|es|d|ed|ing)?(?![\\p{L}\\p{N}])`, 'gu'),
    length: form.length,
    lead: /^[a-z0-9]+( [a-z0-9]+)*$/.test(form) ? form.split(' ')[0] : undefined,
  })));
  return forms.sort((a, b) => b.length - a.length);
}

function matchVocabulary(normalised: string, forms: readonly Form[]): string[] {
  const found = new Set<string>();
  let text = normalised;
  for (const form of forms) {
    // A text without the form's first word cannot match it: a substring search is far cheaper than the pattern.
    if (form.lead !== undefined && !text.includes(form.lead)) continue;
    text = text.replace(form.pattern, () => {
      found.add(form.name);
      return ' ';
    });
  }
  return [...found];
}

const domainForms = compile(DOMAIN_TERMS.map((term) => [term]));
const deliverableForms = compile(DELIVERABLES);
const ambiguityForms = compile(AMBIGUITY_MARKERS.map((marker) => [marker]));
const costForms = compile(COST_TERMS.map((term) => [term]));

function countQuestions(text: string): number {
  const marks = text.match(QUESTION_MARKS)?.length ?? 0;
  let interrogative = 0;
  for (const sentence of text.split(SENTENCE_BREAK)) {
    const first = sentence.match(WORD)?.[0]?.toLowerCase();
    if (first !== undefined && INTERROGATIVES.has(first)) interrogative += 1;
    interrogative += sentence.match(EMBEDDED_QUESTION)?.length ?? 0;
  }
  // A question may be marked by "?", by its wording, or both; take whichever shows more of them.
  return Math.max(marks, interrogative);
}

/**
 * Capitalised names (consecutive ones joined: "Machakos County") and acronyms ("SMS"). The first word of a sentence
 * is capitalised anyway, so it is skipped unless it is an acronym; in an all-capitals sentence nothing is an acronym.
 */
function findNamedEntities(text: string): string[] {
  const found = new Map<string, string>();
  for (const sentence of text.split(SENTENCE_BREAK)) {
    const shouting = !/\p{Ll}/u.test(sentence);
    const words = sentence.match(WORD) ?? [];
    let run: string[] = [];
    const close = (): void => {
      if (run.length > 0) {
        const name = run.join(' ');
        if (!found.has(name.toLowerCase())) found.set(name.toLowerCase(), name);
      }
      run = [];
    };
    words.forEach((word, index) => {
      if (!shouting && /^\p{Lu}{2,}\p{N}*s?$/u.test(word)) {
        close();
        run = [word];
        close();
      } else if (index > 0 && word !== 'I' && /^\p{Lu}\p{Ll}/u.test(word)) {
        // A possessive ends a name: "Kenya's Machakos County" is Kenya and Machakos County.
        const owner = word.replace(/['’]s$/u, '');
        run.push(owner);
        if (owner !== word) close();
      } else {
        close();
      }
    });
    close();
  }
  return [...found.values()];
}

export function extractFeatures(text: string): TextFeatures {
  const words = text.match(WORD)?.length ?? 0;
  const normalised = normalise(text);
  const clauseMarks = (text.match(/[,;:]/gu) ?? []).length + (text.match(CONJUNCTIONS) ?? []).length;
  const namedEntities = findNamedEntities(text);
  return {
    measurements: {
      length: { count: words, found: [] },
      questions: { count: countQuestions(text), found: [] },
      clauses: { count: clauseMarks, found: [] },
      domain_terms: wholeList(matchVocabulary(normalised, domainForms)),
      named_entities: wholeList(namedEntities),
      deliverables: wholeList(matchVocabulary(normalised, deliverableForms)),
      ambiguity: wholeList(matchVocabulary(normalised, ambiguityForms)),
    },
    namedEntities,
    costTerms: matchVocabulary(normalised, costForms),
    words,
  };
}

function wholeList(found: readonly string[]): Measurement {
  return { count: found.length, found };
}

/** At most five examples, so a pathological input cannot make the recorded detail unbounded. */
export function preview(items: readonly string[]): string {
  return items.length <= 5 ? items.join(', ') : `${items.slice(0, 5).join(', ')}, … (${items.length - 5} more)`;
}

const round6 = (x: number): number => Math.round(x * 1e6) / 1e6;
const plural = (unit: string): string => (unit.endsWith('y') ? `${unit.slice(0, -1)}ies` : `${unit}s`);

/**
 * The signals in SIGNAL_RULES order: value = min(1, count / saturation), contribution = value × weight, both to
 * six decimals so the recorded decision does not carry floating-point noise (0.13999999999999999).
 */
export function scoreSignals(features: TextFeatures): TriageSignal[] {
  return SIGNAL_RULES.map(({ name, weight, saturation, unit }) => {
    const { count, found } = features.measurements[name];
    const value = round6(Math.min(1, count / saturation));
    const examples = found.length > 0 ? ` (${preview(found)})` : '';
    const detail = `${count} ${count === 1 ? unit : plural(unit)}${examples}; saturates at ${saturation}`;
    return { name, value, weight, contribution: round6(value * weight), detail };
  });
}
