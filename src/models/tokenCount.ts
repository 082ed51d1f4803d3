import { get_encoding, type Tiktoken } from 'tiktoken';
import { rememberedResults, type RememberedResults } from './rememberedResults.ts';

/** The tiktoken encodings Chronicle estimates with: o200k_base for current OpenAI models, cl100k_base for older ones. */
export type TokenEncoding = 'o200k_base' | 'cl100k_base';

export const DEFAULT_ENCODING: TokenEncoding = 'o200k_base';

const encoders = new Map<TokenEncoding, Tiktoken>();

/**
 * Loaded on first use: an encoder costs a few hundred milliseconds to build, which commands that never count
 * tokens should not pay.
 */
function encoder(encoding: TokenEncoding): Tiktoken {
  let found = encoders.get(encoding);
  if (!found) {
    found = get_encoding(encoding);
    encoders.set(encoding, found);
  }
  return found;
}

/**
 * Special-token markers such as `<|endoftext|>` are encoded as the plain text they are: a prompt quoting one must
 * be counted, not make tiktoken throw.
 */
function encode(text: string, encoding: TokenEncoding): Uint32Array {
  return encoder(encoding).encode(text, undefined, []);
}

/**
 * The same texts are counted several times on their way through (a reply by the model, then by the session state
 * it lands in, then again in a checkpoint's fold), and BPE costs far more than a lookup. Counting is a pure
 * function of text and encoding, so a remembered count is the count. Bounded, oldest forgotten first.
 */
const counted: Record<TokenEncoding, RememberedResults<number>> = { o200k_base: rememberedResults(4_096), cl100k_base: rememberedResults(4_096) };

/** Counts tokens the way OpenAI's models do; o200k_base (current models) unless told otherwise. */
export function countTokens(text: string, encoding: TokenEncoding = DEFAULT_ENCODING): number {
  return counted[encoding].get(text, () => countByLines(text, encoding));
}

/** Forgets remembered counts: for benchmarks that must time counting itself, not a lookup. */
export function forgetTokenCounts(): void {
  for (const memory of [...Object.values(counted), ...Object.values(countedLines)]) memory.clear();
}

/** Texts shorter than this are encoded whole: splitting them would save nothing. */
const LINE_SPLIT_MIN = 256;

/** The lines of long texts, counted with their break; a prompt or a prompt context repeats most of the last one's. */
const countedLines: Record<TokenEncoding, RememberedResults<number>> = { o200k_base: rememberedResults(8_192), cl100k_base: rememberedResults(8_192) };

/**
 * A text's count as the sum of its lines' counts, each line with the break that ends it. Exact, not an estimate:
 * tiktoken cuts text into pieces by a pattern before it merges bytes within a piece, and in both encodings no piece
 * runs on past a line break that is followed by a character other than whitespace or "/" (only whitespace runs,
 * and punctuation runs through "[\r\n/]*", may hold a break, and neither continues with such a character). So the
 * pieces, and with them the count, are the same whether the text is encoded whole or line by line; lines seen
 * before cost a lookup. The tests compare both ways on random texts.
 */
function countByLines(text: string, encoding: TokenEncoding): number {
  if (text.length < LINE_SPLIT_MIN) return encode(text, encoding).length;
  const lines = countedLines[encoding];
  let total = 0;
  let start = 0;
  for (let at = text.indexOf('\n'); at >= 0 && at < text.length - 1; at = text.indexOf('\n', at + 1)) {
    if (!endsPiece(text.charCodeAt(at + 1))) continue;
    const line = text.slice(start, at + 1);
    total += lines.get(line, () => encode(line, encoding).length);
    start = at + 1;
  }
  if (start === 0) return encode(text, encoding).length;
  const last = text.slice(start);
  return total + lines.get(last, () => encode(last, encoding).length);
}

/** Whether a line break followed by this character ends a piece: it is no whitespace (Unicode's, NEL included) and no "/". */
function endsPiece(next: number): boolean {
  return next !== 0x2f && next !== 0x85 && !WHITESPACE.test(String.fromCharCode(next));
}

const WHITESPACE = /\s/;

/** The longest prefix of `text` that is at most `maxTokens` tokens, cut where a model would stop. */
export function truncateToTokens(text: string, maxTokens: number, encoding: TokenEncoding = DEFAULT_ENCODING): string {
  const tokens = encode(text, encoding);
  if (tokens.length <= maxTokens) return text;
  return new TextDecoder().decode(encoder(encoding).decode(tokens.slice(0, Math.max(0, maxTokens))));
}

/**
 * The first `maxTokens` tokens of `text` decoded, with how many tokens `text` has (it is encoded once for both).
 * A decoded prefix can end inside a character; the replacement character that leaves is dropped.
 */
export function tokenPrefix(text: string, maxTokens: number, encoding: TokenEncoding = DEFAULT_ENCODING): { prefix: string; tokens: number } {
  const tokens = encode(text, encoding);
  if (tokens.length <= maxTokens) return { prefix: text, tokens: tokens.length };
  const prefix = new TextDecoder().decode(encoder(encoding).decode(tokens.slice(0, Math.max(0, maxTokens))));
  return { prefix: prefix.replace(/\uFFFD+$/, ''), tokens: tokens.length };
}

/**
 * The encoding of a model we have no profile for, by OpenAI's naming: gpt-4 (not 4o), gpt-3.5 and the
 * text-embedding-ada/3 generation use cl100k_base; everything newer uses o200k_base, which is also the better guess
 * for an unknown name.
 */
export function encodingForModel(modelId: string): TokenEncoding {
  const id = modelId.toLowerCase();
  if (/^gpt-4(-|$)/.test(id) || id.startsWith('gpt-3.5') || id.startsWith('gpt-35') || id.startsWith('text-embedding-')) return 'cl100k_base';
  return DEFAULT_ENCODING;
}
