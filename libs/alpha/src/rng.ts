/**
 * The seeded generator of the genetic operators: the same seed gives the same populations, so a
 * discovery run can be repeated and a candidate traced to the run that found it.
 */

const UINT32 = 2 ** 32;

/** splitmix32: spreads a seed over the four words of sfc32's state. */
function splitmix32(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x9e3779b9) | 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 0;
  };
}

/**
 * sfc32 (Chris Doty-Humphrey's Small Fast Counting generator, from PractRand): fast, passes
 * PractRand, 128 bits of state that `state()` exports and `Rng.fromState` resumes exactly.
 */
export class Rng {
  private a = 0;
  private b = 0;
  private c = 0;
  private d = 0;

  /** A generator seeded from any safe integer (its low 32 bits and the rest mixed apart). */
  constructor(seed: number) {
    if (!Number.isSafeInteger(seed)) throw new RangeError(`a seed must be a safe integer, got ${seed}`);
    const low = splitmix32(seed % UINT32);
    const high = splitmix32(Math.floor(seed / UINT32) ^ 0x5bd1e995);
    this.a = low();
    this.b = high();
    this.c = low();
    this.d = 1;
    // Discarded outputs, as PractRand's seeding does, so that nearby seeds part ways.
    for (let i = 0; i < 12; i++) this.uint32();
  }

  /** Resumes a generator from `state()`. */
  static fromState(state: readonly [number, number, number, number]): Rng {
    const rng = new Rng(0);
    [rng.a, rng.b, rng.c, rng.d] = state.map((w) => w >>> 0) as [number, number, number, number];
    return rng;
  }

  /** The four 32-bit words of the state. */
  state(): [number, number, number, number] {
    return [this.a >>> 0, this.b >>> 0, this.c >>> 0, this.d >>> 0];
  }

  /** A uniform 32-bit unsigned integer. */
  uint32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** A uniform double in [0, 1) with 53 random bits. */
  next(): number {
    return ((this.uint32() >>> 5) * 67108864 + (this.uint32() >>> 6)) / 9007199254740992;
  }

  /** A uniform integer in [0, n). */
  int(n: number): number {
    if (!(Number.isInteger(n) && n > 0)) throw new RangeError(`int needs a positive count, got ${n}`);
    return Math.floor(this.next() * n);
  }

  /** A uniformly chosen element of a non-empty list. */
  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new RangeError("pick needs a non-empty list");
    return items[this.int(items.length)] as T;
  }

  /** True with probability p. */
  chance(p: number): boolean {
    return this.next() < p;
  }

  /** A standard normal draw (Box–Muller; one draw per call, the spare is not kept). */
  normal(): number {
    const u = 1 - this.next(); // in (0, 1], so the log is finite
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.next());
  }

  /** The list shuffled (Fisher–Yates), as a new array. */
  shuffle<T>(items: readonly T[]): T[] {
    const out = items.slice();
    for (let i = out.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      [out[i], out[j]] = [out[j] as T, out[i] as T];
    }
    return out;
  }
}
