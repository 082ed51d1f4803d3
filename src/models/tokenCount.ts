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
 * function of text and encoding, so a remembered count is the count.
 */
const counted: Record<TokenEncoding, RememberedResults<number>> = { o200k_base: rememberedResults(4_096), cl100k_base: rememberedResults(4_096) };

/** Counts tokens the way OpenAI's models do; o200k_base (current models) unless told otherwise. */
export function countTokens(text: string, encoding: TokenEncoding = DEFAULT_ENCODING): number {
  const remembered = counted[encoding];
  return remembered.peek(text) ?? remembered.remember(text, text.length < LINE_SPLIT_MIN ? countText(text, encoding) : countByLines(text, encoding));
}

/** Forgets remembered counts: for benchmarks that must time counting itself, not a lookup. */
export function forgetTokenCounts(): void {
  for (const memory of [counted, countedPieces, countedLines]) for (const counts of Object.values(memory)) counts.clear();
}

/** ASCII text by its pieces; any other by tiktoken, whole. */
function countText(text: string, encoding: TokenEncoding): number {
  return NON_ASCII.test(text) ? encode(text, encoding).length : countPieces(text, encoding);
}

const NON_ASCII = /[^\x00-\x7f]/;

/**
 * tiktoken's pre-tokenizer patterns, verbatim as the installed package compiles them into tiktoken_bg.wasm (the
 * same strings as the `pat_str` of its encoders/*.json; a test checks the WASM still holds them). tiktoken cuts a
 * text into the pieces these match, one after another, and merges bytes within a piece only (a piece that is a
 * vocabulary entry is one token), so a text's count is the sum of its pieces' counts.
 */
export const PIECE_PATTERNS: Record<TokenEncoding, string> = {
  o200k_base: String.raw`[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+`,
  cl100k_base: String.raw`(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`,
};

/**
 * The patterns as JS regexps for ASCII text, the only text they are used on: there each class means the same in
 * JS as in tiktoken's Rust regex (letters A-Za-z, upper case A-Z, lower case a-z, digits 0-9, whitespace \t \n \v
 * \f \r and space), while beyond ASCII JS's \s differs (U+0085, U+FEFF) and so may the Unicode tables. Both
 * engines try alternatives in order, backtracking, with greedy quantifiers. The patterns cannot match empty and
 * some alternative matches every character, so the pieces cover the text.
 */
const pieceSplitters: Record<TokenEncoding, RegExp> = { o200k_base: asciiRegExp(PIECE_PATTERNS.o200k_base), cl100k_base: asciiRegExp(PIECE_PATTERNS.cl100k_base) };

/**
 * A pattern with its Unicode classes spelled as ASCII ranges: without the "u" flag the scan is four times faster.
 * Case-insensitive groups are spelled out too: V8 (13.6) without "u" loses `(?i:'s|'t|'re)`'s case-insensitivity
 * (`'T` goes unmatched).
 */
function asciiRegExp(pattern: string): RegExp {
  const ascii = pattern
    .replace(/\(\?i:([^)]*)\)/g, (_, group: string) => `(?:${group.replace(/[a-z]/g, (c) => `[${c}${c.toUpperCase()}]`)})`)
    .replace(/(?<!\[[^\]]*)\\p\{\w+\}/g, '[$&]') // a property outside a class becomes a class of its own
    .replaceAll(String.raw`\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}`, 'A-Z')
    .replaceAll(String.raw`\p{Ll}\p{Lm}\p{Lo}\p{M}`, 'a-z')
    .replaceAll(String.raw`\p{L}`, 'A-Za-z')
    .replaceAll(String.raw`\p{N}`, '0-9');
  return new RegExp(ascii, 'g');
}

/** Pieces (a word with its leading space, up to three digits, a run of punctuation or of whitespace) recur across texts that as wholes never do. */
const countedPieces: Record<TokenEncoding, RememberedResults<number>> = { o200k_base: rememberedResults(65_536), cl100k_base: rememberedResults(65_536) };

/**
 * An ASCII text's count as the sum of its pieces' counts, each piece encoded alone. Exact: tiktoken encoding a
 * piece alone cuts it into that same single piece. The patterns have no lookbehind or anchors, so a match depends
 * only on the text from where it starts; cutting the text off after the piece removes characters a match might
 * have needed (which only makes attempts fail, and the attempt that won still succeeds) and changes one test: the
 * lookahead of `\s+(?!\S)` at the piece's end now sees the end of the text and succeeds. An attempt winning by
 * that must end exactly there, so it spans the same characters: the piece is the same either way.
 */
function countPieces(text: string, encoding: TokenEncoding): number {
  let total = 0;
  for (const piece of text.match(pieceSplitters[encoding]) ?? []) total += countPiece(piece, encoding);
  return total;
}

function countPiece(piece: string, encoding: TokenEncoding): number {
  const remembered = countedPieces[encoding];
  return remembered.peek(piece) ?? remembered.remember(piece, encode(piece, encoding).length);
}

/** Texts shorter than this are counted whole: splitting them would save nothing. */
const LINE_SPLIT_MIN = 256;

/**
 * The lines of long texts, counted with their break: a prompt or a prompt context repeats most of the last one's
 * lines, and a remembered line costs a lookup instead of a scan of its pieces (on the texts the runtime counts,
 * 40% less time per text; on texts whose lines never recur, a quarter more). A line with a character beyond ASCII
 * (an ellipsis, a quote) keeps only that line from being counted by pieces.
 */
const countedLines: Record<TokenEncoding, RememberedResults<number>> = { o200k_base: rememberedResults(8_192), cl100k_base: rememberedResults(8_192) };

/**
 * A text's count as the sum of its lines' counts, each line with the break that ends it. Exact, not an estimate:
 * in both encodings no piece runs on past a line break that is followed by a character other than whitespace or
 * "/" (only whitespace runs, and punctuation runs through "[\r\n/]*", may hold a break, and neither continues
 * with such a character); and a line alone ends in the same piece, as whitespace before its break is taken by
 * `\s*[\r\n]+`, which comes before the one alternative that looks ahead. So the pieces, and with them the count,
 * are the same whether the text is encoded whole or line by line. The tests compare both ways on random texts.
 */
function countByLines(text: string, encoding: TokenEncoding): number {
  let total = 0;
  let start = 0;
  for (let at = text.indexOf('\n'); at >= 0 && at < text.length - 1; at = text.indexOf('\n', at + 1)) {
    if (!endsPiece(text.charCodeAt(at + 1))) continue;
    total += countLine(text.slice(start, at + 1), encoding);
    start = at + 1;
  }
  if (start === 0) return countText(text, encoding);
  return total + countLine(text.slice(start), encoding);
}

function countLine(line: string, encoding: TokenEncoding): number {
  const remembered = countedLines[encoding];
  return remembered.peek(line) ?? remembered.remember(line, countText(line, encoding));
}

/** Whether a line break followed by this character ends a piece: it is no whitespace (Unicode's, NEL included) and no "/". */
function endsPiece(next: number): boolean {
  return next !== 0x2f && next !== 0x85 && !WHITESPACE.test(String.fromCharCode(next));
}

const WHITESPACE = /\s/;

/** The longest prefix of `text` that is at most `maxTokens` tokens, cut where a model would stop. */
export function truncateToTokens(text: string, maxTokens: number, encoding: TokenEncoding = DEFAULT_ENCODING): string {
  return firstTokens(text, maxTokens, encoding).prefix;
}

/**
 * The first `maxTokens` tokens of `text` decoded, with how many tokens `text` has (it is encoded once for both).
 * A decoded prefix can end inside a character; the replacement character that leaves is dropped.
 */
export function tokenPrefix(text: string, maxTokens: number, encoding: TokenEncoding = DEFAULT_ENCODING): { prefix: string; tokens: number } {
  const { prefix, tokens } = firstTokens(text, maxTokens, encoding);
  return { prefix: prefix.replace(/\uFFFD+$/, ''), tokens };
}

/** Decoding is stateless without `stream`, so one decoder serves every call. */
const utf8 = new TextDecoder();

/** The first `maxTokens` tokens of `text` decoded (`text` itself when it has no more), and how many tokens it has. */
function firstTokens(text: string, maxTokens: number, encoding: TokenEncoding): { prefix: string; tokens: number } {
  if (!NON_ASCII.test(text)) return asciiTokenPrefix(text, maxTokens, encoding);
  const tokens = encode(text, encoding);
  if (tokens.length <= maxTokens) return { prefix: text, tokens: tokens.length };
  return { prefix: utf8.decode(encoder(encoding).decode(tokens.slice(0, Math.max(0, maxTokens)))), tokens: tokens.length };
}

/**
 * An ASCII text's first `maxTokens` tokens decoded, piece by piece: its tokens are its pieces' tokens one after
 * another (see `countPieces`), so they are the whole pieces that fit and the first tokens of the next, the only
 * piece encoded here. Every byte of ASCII text is a whole character, so no cut leaves half of one.
 */
function asciiTokenPrefix(text: string, maxTokens: number, encoding: TokenEncoding): { prefix: string; tokens: number } {
  let tokens = 0;
  let end = 0;
  let prefix: string | undefined;
  for (const piece of text.match(pieceSplitters[encoding]) ?? []) {
    const count = countPiece(piece, encoding);
    if (prefix === undefined && tokens + count > maxTokens) {
      const head = encode(piece, encoding).slice(0, Math.max(0, maxTokens - tokens));
      prefix = text.slice(0, end) + utf8.decode(encoder(encoding).decode(head));
    }
    tokens += count;
    end += piece.length;
  }
  return { prefix: prefix ?? text, tokens };
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
