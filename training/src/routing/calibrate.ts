// make routing-calibrate: the thresholds of a quality policy that send a chosen share of traffic to its stronger
// models, computed from a sample of the user's own prompts (a JSONL file: exact quantiles of their scores) or from
// a running router's score histogram (/metrics: llm_router_strong_need_score, interpolated within buckets; no
// prompt text is ever logged). Reports what that share bought on the sample when it carries labels, and on the
// public held-out data otherwise, and prints the config lines to paste.
// Run: make routing-calibrate SHARE=0.3 PROMPTS=my-prompts.jsonl   (or METRICS=http://127.0.0.1:4000/metrics)
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadRouterConfig } from '@llm-router/router/config';
import { ROUTER_METRICS } from '@llm-router/common/metric-names';
import { buildPolicies } from '@llm-router/router/routing/policies';
import { promptView } from '@llm-router/router/classify/prompt-text';
import { roundScore, StrongNeedScorer } from '@llm-router/router/classify/strong-need';
import { TaskClassifier } from '@llm-router/router/classify/task-classifier';
import { DEFAULT_ROUTING_DATA_DIR, routingDataAvailable } from './data.ts';
import { heldOutSets } from './evaluate.ts';
import { routingMetrics, type Outcome } from './metrics.ts';
import { readPromptFile } from './prompt-file.ts';

/** The score at or above which `share` of `scores` lie (the (1 - share) quantile; ties kept together). */
export function thresholdForShare(scores: ReadonlyArray<number>, share: number): number {
  if (scores.length === 0) throw new Error('no scores to calibrate on');
  if (!(share >= 0 && share <= 1)) throw new Error(`a share is a number from 0 to 1, not ${share}`);
  const sorted = [...scores].sort((a, b) => b - a);
  const k = Math.round(share * sorted.length);
  if (k === 0) return Math.min(1, sorted[0]! + 1e-4);
  return sorted[k - 1]!;
}

/** Cumulative bucket counts of one histogram series in Prometheus text: [upper bound, count] ascending. */
export function histogramBuckets(
  text: string,
  metric: string,
  labels: Record<string, string>,
): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${metric}_bucket{`)) continue;
    const close = line.lastIndexOf('}');
    const body = line.slice(line.indexOf('{') + 1, close);
    const pairs = new Map([...body.matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1]!, m[2]!]));
    if (Object.entries(labels).some(([k, v]) => pairs.get(k) !== v)) continue;
    const le = pairs.get('le')!;
    out.push([le === '+Inf' ? Number.POSITIVE_INFINITY : Number(le), Number(line.slice(close + 1).trim())]);
  }
  return out.sort((a, b) => a[0] - b[0]);
}

/** The threshold above which `share` of a histogram's observations lie, interpolated linearly within a bucket. */
export function thresholdFromHistogram(buckets: ReadonlyArray<[number, number]>, share: number): number {
  const total = buckets.at(-1)?.[1] ?? 0;
  if (total === 0) throw new Error('the histogram has no observations yet: send traffic through the policy first');
  const below = (1 - share) * total;
  let prevLe = 0;
  let prevCount = 0;
  for (const [le, count] of buckets) {
    if (count >= below) {
      const upper = Number.isFinite(le) ? le : 1;
      const t = count === prevCount ? 0 : (below - prevCount) / (count - prevCount);
      return prevLe + t * (upper - prevLe);
    }
    prevLe = le;
    prevCount = count;
  }
  return 1;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({
    options: {
      config: { type: 'string', default: join(process.cwd(), 'config', 'router.yaml') },
      policy: { type: 'string' },
      share: { type: 'string', default: '0.3' },
      prompts: { type: 'string' },
      metrics: { type: 'string' },
      data: { type: 'string', default: DEFAULT_ROUTING_DATA_DIR },
    },
  });
  const fail = (msg: string): never => {
    console.error(`routing-calibrate: ${msg}`);
    process.exit(2);
  };
  const config = loadRouterConfig(values.config!);
  const quality = config.policies.filter((p) => p.classifier === 'quality');
  const policyConfig = values.policy ? quality.find((p) => p.name === values.policy) : quality[0];
  if (policyConfig?.classifier !== 'quality')
    fail(
      `${values.config}: no quality policy${values.policy ? ` named '${values.policy}'` : ''} (quality policies: ${quality.map((p) => p.name).join(', ') || 'none'})`,
    );
  const p = policyConfig as Extract<(typeof config.policies)[number], { classifier: 'quality' }>;
  const shares = values.share!.split(',').map(Number);
  if (shares.length !== p.models.length - 1 && shares.length !== 1)
    fail(`give one share (the strongest model's) or ${p.models.length - 1}, one per model after the first`);
  if (shares.some((s) => !(s >= 0 && s <= 1))) fail(`shares are numbers from 0 to 1: ${values.share}`);
  if (shares.some((s, i) => i > 0 && s > shares[i - 1]!))
    fail('shares go down from the cheaper models to the strongest');
  if (!values.prompts && !values.metrics)
    fail('give PROMPTS=file.jsonl (your own prompts) or METRICS=http://router:4000/metrics');

  const classifier = TaskClassifier.load();
  const scorer = StrongNeedScorer.load(classifier);
  let thresholds: number[];
  let labelled: Outcome[] = [];
  let source: string;
  /** The share each threshold really sends (tied scores go together), where the sample is at hand. */
  let achieved: (t: number) => number | undefined = () => undefined;
  if (values.prompts) {
    const prompts = readPromptFile(values.prompts, false);
    // Rounded as the policy rounds them before comparing: the threshold then splits the prompts exactly.
    const scores = prompts.map((q) => roundScore(scorer.score(promptView(q.messages))));
    thresholds = shares.map((s) => thresholdForShare(scores, s));
    achieved = (t) => scores.filter((x) => x >= t).length / scores.length;
    labelled = prompts.flatMap((q, i) =>
      q.strong !== undefined ? [{ score: scores[i]!, strong: q.strong, weak: q.weak! }] : [],
    );
    source = `${prompts.length} prompts of ${values.prompts}`;
  } else {
    const res = await fetch(values.metrics!);
    if (!res.ok) fail(`${values.metrics}: HTTP ${res.status}`);
    const buckets = histogramBuckets(await res.text(), ROUTER_METRICS.strongNeedScore, { policy: p.name });
    thresholds = shares.map((s) => thresholdFromHistogram(buckets, s));
    source = `${buckets.at(-1)?.[1] ?? 0} requests scored by ${p.name} at ${values.metrics}`;
  }
  const all =
    shares.length === 1
      ? [...p.thresholds.slice(0, -1).map((t) => Math.min(t, thresholds[0]!)), thresholds[0]!]
      : thresholds;
  // Rounded down: a prompt scored at the threshold reaches it.
  const r4 = (v: number) => Math.floor(v * 1e4 + 1e-9) / 1e4;
  console.log(`From ${source}:`);
  shares.forEach((s, i) => {
    const got = achieved(r4(thresholds[i]!));
    const really = got === undefined ? '' : ` (exactly ${(got * 100).toFixed(1)}%: tied scores go together)`;
    console.log(`  ${(s * 100).toFixed(1)}% at or above threshold ${r4(thresholds[i]!)}${really}`);
  });
  console.log(`\nIn ${values.config}, policy ${p.name}:\n    thresholds: [${all.map(r4).join(', ')}]`);
  console.log(`Or per request: "model": "router/${p.name}@${r4(all.at(-1)!)}"`);
  if (all.slice(0, -1).some((t) => t >= all.at(-1)!))
    console.log(
      `Note: a middle model whose threshold is not below the strongest's is never chosen; give one share per model (SHARE=0.5,0.2).`,
    );

  const strongShare = shares.at(-1)!;
  const expected = (name: string, rows: Outcome[]) => {
    const m = routingMetrics(rows);
    const pointAt = m.curve.reduce((best, c) =>
      Math.abs(c.strongShare - strongShare) < Math.abs(best.strongShare - strongShare) ? c : best,
    );
    const pgr = (pointAt.quality - m.weakQuality) / (m.strongQuality - m.weakQuality);
    console.log(
      `  ${name}: ${(pointAt.strongShare * 100).toFixed(1)}% strong calls -> ${(pointAt.quality * 100).toFixed(1)}% right ` +
        `(weak alone ${(m.weakQuality * 100).toFixed(1)}%, strong alone ${(m.strongQuality * 100).toFixed(1)}%; ${(pgr * 100).toFixed(0)}% of the gap, ` +
        `${((pointAt.quality / m.strongQuality) * 100).toFixed(1)}% of the strong model's quality)`,
    );
  };
  console.log(`\nExpected quality at ${(strongShare * 100).toFixed(1)}% strong calls (weakest vs strongest model):`);
  if (labelled.length) expected(`your ${labelled.length} labelled prompts`, labelled);
  else if (routingDataAvailable(values.data)) {
    const policies = buildPolicies(config, classifier, scorer);
    const policy = policies.get(p.name)!;
    for (const set of heldOutSets(values.data!))
      expected(
        `${set.name} (public data, not your traffic)`,
        set.prompts.map((q) => ({
          score: policy.classify(promptView(q.messages)).score ?? 0,
          strong: q.strong,
          weak: q.weak,
        })),
      );
  } else console.log('  (no labels in the sample and no public routing data to estimate it from)');
}
