import { mulberry32 } from '@llm-router/common/prng';

/** Seeded random source (the project's mulberry32): same seed, same answers. */
export class Rng {
  readonly next: () => number;
  constructor(seed: number) {
    this.next = mulberry32(seed);
  }
  /** Normal sample (Box-Muller), clamped at 0 because delays and counts cannot be negative. */
  normal(mean: number, stddev: number): number {
    if (stddev === 0) return mean;
    const u = Math.max(this.next(), 1e-12);
    const v = this.next();
    return Math.max(0, mean + stddev * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v));
  }
  int(maxExclusive: number): number {
    return Math.floor(this.next() * maxExclusive);
  }
}
