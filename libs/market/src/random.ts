/**
 * Seeded pseudo-random numbers for the synthetic market and for restarts of the regime fit;
 * the launcher's demo market draws from these too.
 */

/** Uniform draws in [0, 1) from mulberry32 seeded with `seed` (its low 32 bits): the same seed, the same stream. */
export function seededUniform(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Standard normal draws from a uniform stream (Box–Muller, one draw per two uniforms, so the stream's order is plain). */
export function seededNormal(uniform: () => number): () => number {
  return () => {
    const u = Math.max(uniform(), Number.MIN_VALUE);
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * uniform());
  };
}
