/**
 * The owner of `key` among the live `hubs` by rendezvous (highest random weight) hashing: every hub
 * scores every key and the highest score owns it. Each key has exactly one owner among the hubs given
 * (null when there are none); the answer depends on the set of hubs only, not on their order or
 * repeats; when a hub leaves, only the keys it owned move (each to the hub that scored second), and a
 * hub that joins takes keys only for itself. Every hub computes the same owner from the same live set,
 * with no coordination (DESIGN §8: timers have one owner).
 *
 * Pure and allocation-free: a 64-bit score from two 32-bit lanes of FNV-1a over the key and the hub,
 * mixed with murmur3's finaliser; ties (practically never) go to the greater hub id.
 */
export function rendezvous(key: string, hubs: readonly string[]): string | null {
  const k1 = fnv(key, 0x811c9dc5);
  const k2 = fnv(key, 0x050c5d1f);
  let best: string | null = null;
  let bestHi = -1;
  let bestLo = -1;
  for (const hub of hubs) {
    const hi = fmix(k1 ^ fnv(hub, 0x811c9dc5));
    const lo = fmix(k2 ^ fnv(hub, 0x050c5d1f) ^ hi);
    if (hi > bestHi || (hi === bestHi && (lo > bestLo || (lo === bestLo && best !== null && hub > best)))) {
      best = hub;
      bestHi = hi;
      bestLo = lo;
    }
  }
  return best;
}

function fnv(s: string, seed: number): number {
  let h = seed;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h;
}

/** murmur3's 32-bit finaliser: every input bit flips each output bit with probability about ½. Unsigned. */
function fmix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
