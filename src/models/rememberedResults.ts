/**
 * A pure function's results for the newest `limit` keys, the oldest forgotten first. Only for pure functions: a
 * remembered result is then the result, so callers see no difference but speed.
 */
export interface RememberedResults<T> {
  get(key: string, compute: () => T): T;
  clear(): void;
}

export function rememberedResults<T>(limit: number): RememberedResults<T> {
  const results = new Map<string, T>();
  return {
    get(key, compute) {
      const known = results.get(key);
      if (known !== undefined) return known;
      const result = compute();
      if (results.size >= limit) results.delete(results.keys().next().value!);
      results.set(key, result);
      return result;
    },
    clear: () => results.clear(),
  };
}
