import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { get_encoding } from 'tiktoken';
import { mulberry32 } from '../../src/models/seededRandom.ts';
import { countTokens, encodingForModel, forgetTokenCounts, PIECE_PATTERNS, tokenPrefix, truncateToTokens } from '../../src/models/tokenCount.ts';

/**
 * Asserts `countTokens` gives what tiktoken gives encoding each text whole, in both encodings, from a cold start.
 * Seeded, so a failing text is the same on every run (mulberry32: the floating-point LCG these tests used before
 * falls into a cycle within some 15 000 draws, so most of its texts were repeats).
 */
function expectExactCounts(texts: (random: () => number) => string, cases: number, seed: number): void {
  for (const encoding of ['o200k_base', 'cl100k_base'] as const) {
    const whole = get_encoding(encoding);
    try {
      forgetTokenCounts();
      const random = mulberry32(seed);
      for (let i = 0; i < cases; i++) {
        const text = texts(random);
        expect(countTokens(text, encoding), `${encoding} ${JSON.stringify(text)}`).toBe(whole.encode(text, undefined, []).length);
      }
    } finally {
      whole.free();
    }
  }
}

const pickFrom = <T>(random: () => number, items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
const between = (random: () => number, min: number, max: number): number => min + Math.floor(random() * (max - min + 1));

describe('token counting', () => {
  it('counts with o200k_base by default and cl100k_base on request', () => {
    // Known encodings of "hello world": one token per word in both.
    expect(countTokens('hello world')).toBe(2);
    expect(countTokens('hello world', 'cl100k_base')).toBe(2);
    expect(countTokens('')).toBe(0);
    // The encodings differ on non-English text, o200k_base being the more compact.
    const swahili = 'Mafuriko yanatishia makazi ya pwani katika msimu wa mvua ndefu.';
    expect(countTokens(swahili)).toBeLessThan(countTokens(swahili, 'cl100k_base'));
  });

  it('counts a long text line by line to exactly what encoding it whole gives, in both encodings', () => {
    // Line breaks before whitespace, "/", punctuation, letters and digits; carriage returns, NEL, emoji, markers.
    const alphabet = ['a', 'B', 'é', '日本', '1', '23', '456', ' ', '  ', '\n', '\n\n', '\r\n', '\t', '\u0085', '\u00a0', '.', ',', '-', '- ', '/', '//',
      "'s", "'", '?', '!', ':', '(', ')', '…', '€', '😀', 'Turn', ' the', 'context', '<|endoftext|>', '__', '*', 'Essential context:', '\n- '];
    expectExactCounts((random) => Array.from({ length: between(random, 60, 259) }, () => pickFrom(random, alphabet)).join(''), 3_000, 11);
  });

  it('counts ASCII text piece by piece to exactly what encoding it whole gives, in both encodings', () => {
    // What the pre-tokenizer patterns tell apart: letter case runs, contractions in every case, digit runs longer
    // than three, punctuation runs with "/" and breaks after them, every ASCII whitespace alone and in runs (before
    // letters, digits, punctuation, breaks and the end), control characters, special-token markers, texts long
    // enough to be counted line by line.
    expectExactCounts((random) => Array.from({ length: between(random, 1, 120) }, () => asciiAtom(random)).join(''), 4_000, 7);
  });

  it('counts text with non-ASCII characters to exactly what encoding it whole gives, in both encodings', () => {
    // Letters of every case category, marks, other digits, and the characters JS and Rust disagree are whitespace.
    const foreign = ['é', 'É', 'ß', 'ſ', '\u212a', 'ǅ', 'ʰ', '\u0301', '²', '٣', '日本語', 'Привет', '😀', '…', '—', '’', '“', '€', '\u0085', '\u00a0', '\ufeff', '\u2028', '\u3000'];
    expectExactCounts((random) => Array.from({ length: between(random, 1, 120) }, () => (random() < 0.2 ? pickFrom(random, foreign) : asciiAtom(random))).join(''), 2_000, 5);
  });

  it('counts prompt-like paragraphs with lists, ids and figures exactly, in both encodings', () => {
    expectExactCounts(promptLike, 400, 3);
  });

  it('cuts text into pieces by the patterns the installed tiktoken compiles in', () => {
    const wasm = readFileSync(join(dirname(createRequire(import.meta.url).resolve('tiktoken')), 'tiktoken_bg.wasm')).toString('latin1');
    for (const pattern of Object.values(PIECE_PATTERNS)) expect(wasm.includes(pattern), pattern).toBe(true);
  });

  it('counts special-token markers as the text they are instead of throwing', () => {
    expect(countTokens('quote <|endoftext|> here')).toBeGreaterThan(3);
    expect(countTokens('<|im_start|>', 'cl100k_base')).toBeGreaterThan(1);
  });

  it('truncates to a token budget on a token boundary', () => {
    const text = 'Flood exposure is concentrated in low-lying wards, where drainage capacity was designed for another climate.';
    const cut = truncateToTokens(text, 5);
    expect(countTokens(cut)).toBe(5);
    expect(text.startsWith(cut)).toBe(true);
    expect(truncateToTokens(text, 500)).toBe(text);
    expect(truncateToTokens(text, 0)).toBe('');
  });

  it('cuts a text to its first n tokens exactly as decoding tiktoken\'s first n tokens does, in both encodings', () => {
    // ASCII text is cut piece by piece; the rest by tiktoken itself. Budgets from none to past the whole text.
    const foreign = ['é', '日本語', '😀', '…', '\u0085', '\u00a0'];
    for (const encoding of ['o200k_base', 'cl100k_base'] as const) {
      const whole = get_encoding(encoding);
      try {
        forgetTokenCounts();
        const random = mulberry32(13);
        for (let i = 0; i < 1_500; i++) {
          const text = Array.from({ length: between(random, 0, 60) }, () => (random() < 0.05 ? pickFrom(random, foreign) : asciiAtom(random))).join('');
          const tokens = whole.encode(text, undefined, []);
          const budget = between(random, -1, tokens.length + 2);
          const decoded = new TextDecoder().decode(whole.decode(tokens.slice(0, Math.max(0, budget))));
          const expected = tokens.length <= budget ? text : decoded;
          const label = `${encoding} ${budget} ${JSON.stringify(text)}`;
          expect(truncateToTokens(text, budget, encoding), label).toBe(expected);
          expect(tokenPrefix(text, budget, encoding), label).toEqual({ prefix: tokens.length <= budget ? text : decoded.replace(/\uFFFD+$/, ''), tokens: tokens.length });
        }
      } finally {
        whole.free();
      }
    }
  });

  it('picks the encoding by model name for models without a profile', () => {
    for (const id of ['gpt-4', 'gpt-4-turbo', 'gpt-4-0613', 'gpt-3.5-turbo', 'text-embedding-3-small']) expect(encodingForModel(id)).toBe('cl100k_base');
    for (const id of ['gpt-4o', 'gpt-4o-mini', 'gpt-4.1', 'gpt-5', 'o3-mini', 'some-local-model']) expect(encodingForModel(id)).toBe('o200k_base');
  });
});

const LETTERS = [...'abcdefghijklmnopqrstuvwxyz'];
const PUNCTUATION = [...'!"#$%&()*+,-.:;<=>?@[\\]^_`{|}~/\''];
const WHITESPACE = [' ', '  ', '   ', '\t', '\r', '\n', '\r\n', '\n\n', '\v', '\f', ' \n', '\t\n ', '\n ', ' \r\n\t', '\f\v '];

/** One stretch of ASCII text of a kind the patterns treat differently. */
function asciiAtom(random: () => number): string {
  const word = () => Array.from({ length: between(random, 1, 8) }, () => pickFrom(random, LETTERS)).join('');
  const cased = (text: string) => Array.from(text, (c) => (random() < 0.5 ? c.toUpperCase() : c)).join('');
  const punctuation = () => Array.from({ length: between(random, 1, 4) }, () => pickFrom(random, PUNCTUATION)).join('');
  switch (between(random, 0, 13)) {
    case 0: return word();
    case 1: return ` ${word()}`;
    case 2: { const w = word(); return w[0]!.toUpperCase() + w.slice(1); }
    case 3: return word().toUpperCase();
    case 4: return cased(word());
    case 5: return `'${cased(pickFrom(random, ['s', 't', 're', 've', 'm', 'll', 'd']))}`;
    case 6: return Array.from({ length: between(random, 1, 7) }, () => String(between(random, 0, 9))).join('');
    case 7: return punctuation();
    case 8: case 9: return pickFrom(random, WHITESPACE);
    case 10: return pickFrom(random, ['<|endoftext|>', '<|im_start|>', '<|fim_prefix|>', '\x00', '\x1c', '\x1f', '\x7f', "'", '//', '/']);
    case 11: return punctuation() + pickFrom(random, ['\n', '\r\n', '\r', '\n\n', '']) + pickFrom(random, ['/', '//', '']);
    case 12: return String.fromCharCode(...Array.from({ length: between(random, 1, 3) }, () => between(random, 0, 127)));
    default: return pickFrom(random, [' the', ' context', 'Turn', ' 25', ' -', '.\n', ':\n- ', "n't", "'S"]);
  }
}

const SENTENCES = [
  'Flood exposure is concentrated in low-lying wards, where drainage capacity was designed for another climate.',
  "Heat mortality rises sharply once night-time temperatures stay above 25 degrees for several days; that's the threshold.",
  'Early-warning systems return 4 to 10 dollars of avoided losses per dollar spent (see appraisal #2031/B).',
  "The agent's brief: DON'T exceed the budget of 1,250.00 USD, and WE'LL review at 09:30.",
  'Escalate to a human reviewer whenever two agents disagree by more than a factor of two.',
];

/** A prompt as the runtime builds one: a session id, a question, a context of bullet points with figures. */
function promptLike(random: () => number): string {
  const id = Array.from({ length: 8 }, () => pickFrom(random, [...'0123456789abcdef'])).join('');
  const lines = [`Session sess-${id}, turn ${between(random, 0, 30)}: what are the first ${between(random, 2, 12)} steps in district ${between(random, 1, 99_999)}?`, '', 'Essential context:'];
  for (let i = between(random, 2, 12); i > 0; i--) lines.push(`${pickFrom(random, ['- ', '* ', `${i}. `, '  - '])}${pickFrom(random, SENTENCES)}${random() < 0.2 ? '  ' : ''}`);
  return lines.join(pickFrom(random, ['\n', '\n', '\r\n', '\n\n'])) + (random() < 0.3 ? '\n' : '');
}
