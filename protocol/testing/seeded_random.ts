/**
 * A small deterministic pseudo-random generator (mulberry32) for fuzz tests: the same seed gives
 * the same inputs on every run, so a failure can be replayed.
 * @module
 */

/** Deterministic random source for fuzz tests. */
export class SeededRandom {
  #state: number;

  constructor(seed: number) {
    this.#state = seed >>> 0;
  }

  /** A float in [0, 1). */
  next(): number {
    let t = (this.#state = (this.#state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** An integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** `n` random bytes. */
  bytes(n: number): Uint8Array {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = this.int(256);
    return out;
  }
}

/** Iterations for a fuzz test: `DEDL_FUZZ_ITERATIONS` if set, else `fallback` (the CI bound). */
export function fuzzIterations(fallback: number): number {
  const raw = Deno.env.get("DEDL_FUZZ_ITERATIONS");
  const n = raw === undefined ? NaN : Number(raw);
  return Number.isInteger(n) && n > 0 ? n : fallback;
}
