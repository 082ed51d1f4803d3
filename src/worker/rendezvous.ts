/**
 * Which of the live workers a session belongs to (highest random weight, "rendezvous" hashing): every worker
 * computes the same answer from the same board, a session stays put while its worker lives, and when a worker
 * leaves only its own sessions move, spread over the others.
 */
export function preferredWorker(sessionId: string, workers: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestWeight = -1;
  for (const worker of workers) {
    const weight = fnv1a(`${sessionId}\u0000${worker}`);
    if (weight > bestWeight || (weight === bestWeight && best !== undefined && worker < best)) {
      best = worker;
      bestWeight = weight;
    }
  }
  return best;
}

/**
 * 32-bit FNV-1a with murmur3's final mix: stable across processes and machines, and the mix spreads weights of ids
 * that differ only in their last characters, which plain FNV-1a leaves clustered.
 */
function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  hash ^= hash >>> 16;
  hash = Math.imul(hash, 0x85ebca6b);
  hash ^= hash >>> 13;
  hash = Math.imul(hash, 0xc2b2ae35);
  hash ^= hash >>> 16;
  return hash >>> 0;
}
