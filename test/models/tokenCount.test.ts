import { describe, expect, it } from 'vitest';
import { get_encoding } from 'tiktoken';
import { countTokens, encodingForModel, forgetTokenCounts, truncateToTokens } from '../../src/models/tokenCount.ts';

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
    let seed = 11;
    const random = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
    for (const encoding of ['o200k_base', 'cl100k_base'] as const) {
      const whole = get_encoding(encoding);
      try {
        forgetTokenCounts();
        for (let i = 0; i < 3_000; i++) {
          const text = Array.from({ length: 60 + Math.floor(random() * 200) }, () => alphabet[Math.floor(random() * alphabet.length)]).join('');
          expect(countTokens(text, encoding), JSON.stringify(text)).toBe(whole.encode(text, undefined, []).length);
        }
      } finally {
        whole.free();
      }
    }
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

  it('picks the encoding by model name for models without a profile', () => {
    for (const id of ['gpt-4', 'gpt-4-turbo', 'gpt-4-0613', 'gpt-3.5-turbo', 'text-embedding-3-small']) expect(encodingForModel(id)).toBe('cl100k_base');
    for (const id of ['gpt-4o', 'gpt-4o-mini', 'gpt-4.1', 'gpt-5', 'o3-mini', 'some-local-model']) expect(encodingForModel(id)).toBe('o200k_base');
  });
});
