/**
 * A pure function's results for the newest `limit` keys, the oldest forgotten first. Only for pure functions: a
 * remembered result is then the result, so callers see no difference but speed.
 */
export interface RememberedResults<T> {
  get(key: string, compute: () => T): T;
  /** The remembered result, or undefined: with `remember`, for hot paths that should not allocate a closure per call. */
  peek(key: string): T | undefined;
  remember(key: string, result: T): T;
  clear(): void;
}

export function rememberedResults<T>(limit: number): RememberedResults<T> {
  const results = new Map<string, T>();
  // Evicts through one iterator kept for the map's life: a fresh `keys().next()` per eviction walks past every entry
  // deleted since V8 last rehashed the map, some 3 µs at 8 192 entries and 14 µs at 65 536, more than most results
  // it saves. A live iterator follows the map through rehashes and sees entries added after it was made.
  let oldest = results.keys();
  const remember = (key: string, result: T): T => {
    if (results.size >= limit) results.delete(oldest.next().value!);
    results.set(key, result);
    return result;
  };
  return {
    get: (key, compute) => results.get(key) ?? remember(key, compute()),
    peek: (key) => results.get(key),
    remember,
    clear: () => {
      results.clear();
      oldest = results.keys();
    },
  };
}
