/** Seeded PRNG (mulberry32): small, fast, and repeatable across runs, unlike Math.random. */
export class Rng {
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0;
  }
  next(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
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
