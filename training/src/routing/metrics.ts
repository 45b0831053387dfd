// RouteLLM's cost-quality metrics (Ong et al., 2024) for a score that says how much a prompt needs the strong
// model: route the highest-scored share x of prompts to the strong model, the rest to the weak one.
//   quality(x)  mean correctness of that mix
//   PGR(x)      (quality(x) - weak) / (strong - weak): the share of the quality gap recovered
//   APGR        area under PGR over x in [0, 1] (random routing: 0.5)
//   CPT(p)      the smallest strong share whose PGR reaches p (random: CPT(50%) = 50%)
// Pure functions of (score, strong_correct, weak_correct) rows; the curve is exact (one point per distinct
// score), with tied scores taken in random order on average, so a constant score is exactly the random router.

export interface Outcome {
  /** Higher: the strong model is more needed. */
  score: number;
  /** Correctness (or a quality score, e.g. a judge's 0..1) of each model's answer. */
  strong: boolean | number;
  weak: boolean | number;
}

export interface CurvePoint {
  /** Share of prompts sent to the strong model, 0..1. */
  strongShare: number;
  /** Mean correctness of the routed mix. */
  quality: number;
  /** Score threshold that gives this share: prompts scored >= it go strong (Infinity: none). */
  threshold: number;
}

export interface RoutingMetrics {
  n: number;
  strongQuality: number;
  weakQuality: number;
  apgr: number;
  /** Strong share needed for 50% / 80% of the gap recovered. */
  cpt50: number;
  cpt80: number;
  /** Strong share needed for 95% of the strong model's own quality. */
  share95: number;
  curve: CurvePoint[];
}

/** The exact cost-quality curve: prompts in descending score, one point after each block of tied scores. */
export function qualityCurve(rows: ReadonlyArray<Outcome>): CurvePoint[] {
  const n = rows.length;
  if (n === 0) throw new Error('qualityCurve: no rows');
  for (const r of rows) if (Number.isNaN(r.score)) throw new Error('qualityCurve: a score is NaN');
  const sorted = [...rows].sort((a, b) => b.score - a.score);
  let correct = 0;
  for (const r of rows) correct += +r.weak;
  const curve: CurvePoint[] = [{ strongShare: 0, quality: correct / n, threshold: Number.POSITIVE_INFINITY }];
  for (let i = 0; i < n; ) {
    const s = sorted[i]!.score;
    while (i < n && sorted[i]!.score === s) {
      correct += +sorted[i]!.strong - +sorted[i]!.weak;
      i++;
    }
    curve.push({ strongShare: i / n, quality: correct / n, threshold: s });
  }
  return curve;
}

/** Trapezoid area of y over x (x ascending). */
function area(points: ReadonlyArray<{ x: number; y: number }>): number {
  let a = 0;
  for (let i = 1; i < points.length; i++)
    a += ((points[i]!.x - points[i - 1]!.x) * (points[i]!.y + points[i - 1]!.y)) / 2;
  return a;
}

/** The first strong share at which `value` reaches `target`, interpolated linearly along the curve. */
export function shareReaching(curve: ReadonlyArray<CurvePoint>, value: (p: CurvePoint) => number, target: number) {
  if (value(curve[0]!) >= target) return 0;
  for (let i = 1; i < curve.length; i++) {
    const a = curve[i - 1]!;
    const b = curve[i]!;
    const va = value(a);
    const vb = value(b);
    if (vb >= target) return a.strongShare + ((target - va) / (vb - va)) * (b.strongShare - a.strongShare);
  }
  return 1;
}

export function routingMetrics(rows: ReadonlyArray<Outcome>): RoutingMetrics {
  const curve = qualityCurve(rows);
  const weakQuality = curve[0]!.quality;
  const strongQuality = rows.reduce((a, r) => a + +r.strong, 0) / rows.length;
  const gap = strongQuality - weakQuality;
  const pgr = (p: CurvePoint) => (gap === 0 ? 1 : (p.quality - weakQuality) / gap);
  return {
    n: rows.length,
    strongQuality,
    weakQuality,
    apgr: area(curve.map((p) => ({ x: p.strongShare, y: pgr(p) }))),
    cpt50: shareReaching(curve, pgr, 0.5),
    cpt80: shareReaching(curve, pgr, 0.8),
    share95: shareReaching(curve, (p) => p.quality, 0.95 * strongQuality),
    curve,
  };
}

/** The oracle: prompts in order of what the strong model adds over the weak one on each. */
export function oracleScores(rows: ReadonlyArray<Omit<Outcome, 'score'>>): Outcome[] {
  return rows.map((r) => ({ ...r, score: +r.strong - +r.weak }));
}

/** The curve thinned to at most `points` points (for plots and JSON), always keeping both ends. */
export function thinCurve(curve: ReadonlyArray<CurvePoint>, points = 101): CurvePoint[] {
  if (curve.length <= points) return [...curve];
  const out: CurvePoint[] = [];
  for (let k = 0; k < points; k++) out.push(curve[Math.round((k * (curve.length - 1)) / (points - 1))]!);
  return out;
}
