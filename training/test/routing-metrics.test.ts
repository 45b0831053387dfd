// RouteLLM's metrics (APGR, CPT, quality for 95%) on small sets whose answers are worked out by hand, and the
// calibration helpers (thresholds from a sample of scores or from a /metrics histogram).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mulberry32 } from '@llm-router/common/prng';
import { oracleScores, qualityCurve, routingMetrics, thinCurve, type Outcome } from '../src/routing/metrics.ts';
import { histogramBuckets, thresholdForShare, thresholdFromHistogram } from '../src/routing/calibrate.ts';
import { subjectCeiling } from '../src/routing/evaluate.ts';
import { curvesSvg } from '../src/routing/plot.ts';

// Four prompts: the strong model is right on all, the weak one on the last two. Gap = 0.5.
const rows = (scores: number[]): Outcome[] => scores.map((score, i) => ({ score, strong: true, weak: i >= 2 }));

test('a perfect ranking recovers the gap with the first strong calls; APGR is the area under PGR', () => {
  const m = routingMetrics(rows([4, 3, 2, 1]));
  assert.equal(m.weakQuality, 0.5);
  assert.equal(m.strongQuality, 1);
  // PGR at 0, 25, 50, 75, 100% strong: 0, 0.5, 1, 1, 1 -> trapezoids 0.0625 + 0.1875 + 0.25 + 0.25 = 0.75
  assert.equal(m.apgr, 0.75);
  assert.equal(m.cpt50, 0.25);
  assert.equal(m.cpt80, 0.4); // 0.8 of the way from PGR 0.5 (25%) to 1 (50%): 25% + 0.6 x 25%
  // 95% of the strong model's quality = 0.95, reached 0.8 of the way from 0.75 (25%) to 1 (50%)
  assert.ok(Math.abs(m.share95 - 0.45) < 1e-12);
});

test('the worst ranking spends every strong call where it adds nothing first', () => {
  const m = routingMetrics(rows([1, 2, 3, 4]));
  // PGR: 0, 0, 0, 0.5, 1 -> 0 + 0 + 0.0625 + 0.1875 = 0.25
  assert.equal(m.apgr, 0.25);
  assert.equal(m.cpt50, 0.75);
});

test('tied scores are taken in random order on average: a constant score is exactly the random router', () => {
  const m = routingMetrics(rows([0, 0, 0, 0]));
  assert.equal(m.apgr, 0.5);
  assert.equal(m.cpt50, 0.5);
  assert.deepEqual(
    qualityCurve(rows([0, 0, 0, 0])).map((p) => p.strongShare),
    [0, 1],
  );
  // and random scores average to it
  const rand = mulberry32(5);
  const big = Array.from({ length: 4000 }, (_, i) => ({ score: rand(), strong: rand() < 0.8, weak: i % 3 === 0 }));
  assert.ok(Math.abs(routingMetrics(big).apgr - 0.5) < 0.05);
});

test('the oracle ranks by what the strong model adds; quality scores (0..1) work like correctness', () => {
  const set = [
    { strong: 1, weak: 0 },
    { strong: 0, weak: 1 },
    { strong: 0.5, weak: 0.5 },
  ];
  const oracle = routingMetrics(oracleScores(set));
  // strong and weak both average 0.5: no gap -> PGR is 1 everywhere by definition
  assert.equal(oracle.apgr, 1);
  const gap = routingMetrics(oracleScores([...set, { strong: 1, weak: 0 }]));
  assert.ok(gap.apgr > 1, 'the oracle beats the strong model itself by skipping it where it is worse');
  assert.throws(() => routingMetrics([{ score: Number.NaN, strong: true, weak: false }]), /NaN/);
});

test('thinCurve keeps both ends and at most the points asked for', () => {
  const curve = qualityCurve(Array.from({ length: 500 }, (_, i) => ({ score: i, strong: i % 2 === 0, weak: false })));
  const thin = thinCurve(curve, 11);
  assert.equal(thin.length, 11);
  assert.deepEqual(thin[0], curve[0]);
  assert.deepEqual(thin.at(-1), curve.at(-1));
});

test('thresholdForShare: the score at or above which the share lies', () => {
  const scores = [0.1, 0.9, 0.5, 0.3, 0.7];
  assert.equal(thresholdForShare(scores, 0.4), 0.7);
  assert.equal(thresholdForShare(scores, 1), 0.1);
  assert.ok(thresholdForShare(scores, 0) > 0.9, 'share 0: above every score');
  assert.throws(() => thresholdForShare(scores, 1.5), /from 0 to 1/);
  assert.throws(() => thresholdForShare([], 0.5), /no scores/);
});

test("thresholdFromHistogram reads a policy's buckets from /metrics text and interpolates within one", () => {
  const text = `# HELP llm_router_strong_need_score x
# TYPE llm_router_strong_need_score histogram
llm_router_strong_need_score_bucket{le="0.1",policy="q"} 50
llm_router_strong_need_score_bucket{le="0.2",policy="q"} 90
llm_router_strong_need_score_bucket{le="+Inf",policy="q"} 100
llm_router_strong_need_score_bucket{le="0.1",policy="other"} 1
llm_router_strong_need_score_sum{policy="q"} 12
llm_router_strong_need_score_count{policy="q"} 100`;
  const buckets = histogramBuckets(text, 'llm_router_strong_need_score', { policy: 'q' });
  assert.deepEqual(buckets, [
    [0.1, 50],
    [0.2, 90],
    [Number.POSITIVE_INFINITY, 100],
  ]);
  // 30% above -> 70 below: 20 of the 40 in (0.1, 0.2] -> halfway
  assert.ok(Math.abs(thresholdFromHistogram(buckets, 0.3) - 0.15) < 1e-12);
  assert.equal(thresholdFromHistogram(buckets, 0.5), 0.1);
  assert.throws(() => thresholdFromHistogram([], 0.3), /no observations/);
});

test('the subject ceiling scores each prompt by its subject gap: it wins what telling subjects apart can win', () => {
  const msg = [{ role: 'user', content: 'q' }];
  // Subject "a": the strong model adds a right answer on every prompt; "b": never.
  const prompts = [
    ...Array.from({ length: 10 }, () => ({ messages: msg, strong: true, weak: false, group: 'a' })),
    ...Array.from({ length: 10 }, () => ({ messages: msg, strong: true, weak: true, group: 'b' })),
  ];
  const ceiling = subjectCeiling(prompts)!;
  assert.deepEqual([ceiling[0], ceiling[19]], [1, 0]);
  const m = routingMetrics(prompts.map((p, i) => ({ score: ceiling[i]!, strong: p.strong, weak: p.weak })));
  assert.equal(m.cpt50, 0.25, 'half the gap at a quarter of the calls: subject a first');
  // Inside one subject it knows nothing: no ceiling for a set of one subject, or without subjects.
  assert.equal(subjectCeiling(prompts.slice(0, 10)), undefined);
  assert.equal(subjectCeiling([{ messages: msg, strong: true, weak: false }]), undefined);
});

test('the curves plot gives a router one colour in every panel, and the legend names each once', () => {
  const curve = [
    { strongShare: 0, quality: 0.5, threshold: 1 },
    { strongShare: 1, quality: 0.8, threshold: 0 },
  ];
  const svg = curvesSvg([
    {
      title: 'with a ceiling',
      weak: 0.5,
      strong: 0.8,
      lines: ['a', 'ceiling', 'oracle'].map((name) => ({ name, curve })),
    },
    { title: 'without', weak: 0.5, strong: 0.8, lines: ['a', 'oracle'].map((name) => ({ name, curve })) },
  ]);
  const strokes = [...svg.matchAll(/<path [^>]*stroke="([^"]+)"[^>]*clip-path="url\(#panel(\d)\)"/g)].map((m) => [
    m[2],
    m[1],
  ]);
  assert.equal(strokes.length, 5);
  const oracle = strokes.filter((_, i) => i === 2 || i === 4).map(([, c]) => c);
  assert.equal(oracle[0], oracle[1], 'the oracle is the same colour in both panels');
  assert.notEqual(strokes[1]![1], strokes[2]![1]);
  for (const name of ['a', 'ceiling', 'oracle']) assert.equal(svg.split(`>${name}</text>`).length - 1, 1, name);
});
