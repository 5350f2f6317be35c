/**
 * Seedable pseudo-random numbers for the impairment relay, so a test or a
 * user can replay exactly the same losses, jitter and duplicates.
 */

/** A source of uniform numbers in [0, 1). */
export type Random = () => number;

/**
 * A fast 32-bit generator (the mulberry32 construction) seeded with any
 * number; the same seed always gives the same sequence. Not for crypto.
 */
export function seededRandom(seed: number): Random {
  let state = Math.trunc(seed) >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let z = state;
    z = Math.imul(z ^ (z >>> 15), z | 1);
    z ^= z + Math.imul(z ^ (z >>> 7), z | 61);
    return ((z ^ (z >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** A seed from the system's entropy, for runs that need no replay. */
export function randomSeed(): number {
  return Math.floor(Math.random() * 4_294_967_296);
}

/**
 * A standard normal sample (mean 0, deviation 1) by the Box-Muller
 * transform; draws two uniforms per call.
 */
export function normalSample(random: Random): number {
  // 1 - u keeps the logarithm's argument in (0, 1].
  const u = 1 - random();
  const v = random();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

/** True with probability `percent` / 100. */
export function chance(random: Random, percent: number): boolean {
  return percent > 0 && random() * 100 < percent;
}
