// make routing-eval: RouteLLM's cost-quality metrics for every policy of a router config and for baselines
// measured in the same run, on the public routing data's held-out split (whole MMLU subjects never trained on,
// held-out rows of the other subjects, held-out word problems) and on any extra labelled prompt files.
// Prints a table per set and writes the curves as SVG and the numbers as JSON (README figures come from it).
// Run: make routing-eval [ROUTING_DATA=DIR] [ROUTING_EVAL_ARGS="--prompts my.jsonl"]
import { mkdirSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { mulberry32 } from '@llm-router/common/prng';
import { loadRouterConfig } from '@llm-router/router/config';
import { blendedPrice, modelPrice } from '@llm-router/common/pricing';
import { buildPolicies, type Classification, type Policy } from '@llm-router/router/routing/policies';
import { type ChatMessageLike, promptView, type PromptView } from '@llm-router/router/classify/prompt-text';
import { StrongNeedScorer } from '@llm-router/router/classify/strong-need';
import { TaskClassifier } from '@llm-router/router/classify/task-classifier';
import { DEFAULT_ROUTING_DATA_DIR, heldOutSubjects, readRoutingData, splitRouting } from './data.ts';
import { oracleScores, routingMetrics, thinCurve, type Outcome, type RoutingMetrics } from './metrics.ts';
import { curvesSvg } from './plot.ts';
import { readPromptFile } from './prompt-file.ts';

const REPO = resolve(fileURLToPath(new URL('../../../', import.meta.url)));
export const DEFAULT_REPORT_DIR = join(REPO, 'docs', 'routing');

export interface LabelledPrompt {
  messages: ChatMessageLike[];
  strong: boolean | number;
  weak: boolean | number;
  /** The prompt's subject, where the set has them (MMLU): the subject ceiling is measured per subject. */
  group?: string;
}
export interface EvalSet {
  name: string;
  prompts: LabelledPrompt[];
}

/** A JSONL file of {prompt | messages, strong_correct, weak_correct} (booleans, or 0..1 quality scores). */
export function readLabelledPrompts(file: string): LabelledPrompt[] {
  return readPromptFile(file, true).map((p) => ({ messages: p.messages, strong: p.strong!, weak: p.weak! }));
}

/** The public routing data's held-out sets (routing/data.ts): never read by training. */
export function heldOutSets(dir: string): EvalSet[] {
  const all = readRoutingData(dir);
  const split = splitRouting(all);
  const held = heldOutSubjects(all);
  const as = (rows: typeof split): LabelledPrompt[] =>
    rows.map((e) => ({
      messages: [{ role: 'user', content: e.prompt }],
      strong: e.strong,
      weak: e.weak,
      ...(e.source === 'mmlu' ? { group: e.subject } : {}),
    }));
  return [
    {
      name: `MMLU, ${held.length} subjects held out`,
      prompts: as(split.filter((e) => e.split === 'test_subjects')),
    },
    {
      name: 'MMLU, held-out rows',
      prompts: as(split.filter((e) => e.split === 'test_rows' && e.source === 'mmlu')),
    },
    {
      name: 'GSM8K, held-out rows',
      prompts: as(split.filter((e) => e.split === 'test_rows' && e.source === 'gsm8k')),
    },
  ];
}

/**
 * What each router would rank by, per prompt (from its classification): a quality policy its strong-need score, a
 * complexity policy its overall complexity, a task policy the price of the model it picks (what it spends on it).
 */
export function policyScore(policy: Policy, prices: Map<string, number>): (c: Classification) => number {
  return (c) => {
    if (c.score !== undefined) return c.score;
    if (c.scores) return c.scores.overall;
    return prices.get(policy.modelFor(c.class)) ?? 0;
  };
}

export interface RouterResult {
  router: string;
  /** Random routing only: the APGR range of 90% of its draws (how far noise alone moves APGR on this set). */
  band?: [number, number];
  metrics: Omit<RoutingMetrics, 'curve'> & { curve: RoutingMetrics['curve'] };
  /** For quality policies: the share its configured thresholds send to the strongest model, and the quality. */
  configured?: { strongShare: number; quality: number; pgr: number };
}

export function evaluateSet(
  set: EvalSet,
  policies: Map<string, Policy>,
  prices: Map<string, number>,
  seed = 1,
): { set: string; n: number; weak: number; strong: number; results: RouterResult[] } {
  const views = set.prompts.map((p) => promptView(p.messages));
  const rows = (score: (v: PromptView, i: number) => number): Outcome[] =>
    set.prompts.map((p, i) => ({ score: score(views[i]!, i), strong: p.strong, weak: p.weak }));
  const rand = mulberry32(seed);
  const results: RouterResult[] = [];
  const add = (router: string, outcomes: Outcome[], configured?: RouterResult['configured']) =>
    results.push({ router, metrics: routingMetrics(outcomes), ...(configured ? { configured } : {}) });
  for (const policy of policies.values()) {
    const score = policyScore(policy, prices);
    const classified = views.map((v) => policy.classify(v));
    let configured: RouterResult['configured'];
    const out = rows((_, i) => score(classified[i]!));
    if (policy.classifier === 'quality') {
      let strong = 0;
      let quality = 0;
      set.prompts.forEach((p, i) => {
        const goesStrong = classified[i]!.class === 'strong';
        strong += goesStrong ? 1 : 0;
        quality += goesStrong ? +p.strong : +p.weak;
      });
      const m = routingMetrics(out);
      const q = quality / set.prompts.length;
      configured = {
        strongShare: strong / set.prompts.length,
        quality: q,
        pgr: (q - m.weakQuality) / (m.strongQuality - m.weakQuality),
      };
    }
    add(`${policy.name} (${policy.classifier})`, out, configured);
  }
  add(
    'baseline: prompt length',
    rows((v) => v.requestWords),
  );
  // Random routing, drawn RANDOM_DRAWS times: its mean curve is the baseline, its spread the set's noise band.
  const draws = Array.from({ length: RANDOM_DRAWS }, () => routingMetrics(rows(() => rand())));
  const apgrs = draws.map((d) => d.apgr).sort((a, b) => a - b);
  const mean = (f: (m: RoutingMetrics) => number) => draws.reduce((a, d) => a + f(d), 0) / draws.length;
  results.push({
    router: `baseline: random (${RANDOM_DRAWS} draws)`,
    band: [apgrs[Math.floor(0.05 * RANDOM_DRAWS)]!, apgrs[Math.ceil(0.95 * RANDOM_DRAWS) - 1]!],
    metrics: {
      ...draws[0]!,
      apgr: mean((m) => m.apgr),
      cpt50: mean((m) => m.cpt50),
      cpt80: mean((m) => m.cpt80),
      share95: mean((m) => m.share95),
      curve: routingMetrics(rows(() => 0)).curve,
    },
  });
  const ceiling = subjectCeiling(set.prompts);
  if (ceiling)
    add(
      "ceiling: each subject's own gap (labels)",
      rows((_, i) => ceiling[i]!),
    );
  add('oracle', oracleScores(set.prompts.map((p) => ({ strong: p.strong, weak: p.weak }))));
  const m = results[0]!.metrics;
  return { set: set.name, n: set.prompts.length, weak: m.weakQuality, strong: m.strongQuality, results };
}

/**
 * The best any score that only tells subjects apart can do on a set: each prompt scored by its subject's measured
 * gap (strong right minus weak right, on this set's own labels). Not a router (it reads the answers); it shows how
 * much of a set's APGR is there to win by knowing the subject, and how much only a prompt-level score can win.
 * Undefined for sets without subjects or with one.
 */
export function subjectCeiling(prompts: ReadonlyArray<LabelledPrompt>): number[] | undefined {
  if (prompts.some((p) => p.group === undefined)) return undefined;
  const gap = new Map<string, { n: number; sum: number }>();
  for (const p of prompts) {
    const g = gap.get(p.group!) ?? { n: 0, sum: 0 };
    g.n++;
    g.sum += +p.strong - +p.weak;
    gap.set(p.group!, g);
  }
  if (gap.size < 2) return undefined;
  return prompts.map((p) => {
    const g = gap.get(p.group!)!;
    return g.sum / g.n;
  });
}

const RANDOM_DRAWS = 200;
const pct = (v: number) => `${(v * 100).toFixed(1)}%`;

function printSet(r: ReturnType<typeof evaluateSet>) {
  console.log(`\n${r.set}: ${r.n} prompts; always weak ${pct(r.weak)} right, always strong ${pct(r.strong)}`);
  const rows = r.results.map((x) => [
    x.router,
    x.band
      ? `${x.metrics.apgr.toFixed(3)} (${x.band[0].toFixed(2)}-${x.band[1].toFixed(2)})`
      : x.metrics.apgr.toFixed(3),
    pct(x.metrics.cpt50),
    pct(x.metrics.cpt80),
    pct(x.metrics.share95),
    x.configured ? `${pct(x.configured.strongShare)} strong, PGR ${x.configured.pgr.toFixed(2)}` : '',
  ]);
  const head = ['router', 'APGR', 'CPT(50%)', 'CPT(80%)', 'strong for 95% quality', 'at its config'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ');
  console.log(line(head));
  for (const row of rows) console.log(line(row));
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({
    options: {
      data: { type: 'string', default: DEFAULT_ROUTING_DATA_DIR },
      config: { type: 'string', default: join(REPO, 'config', 'router.yaml') },
      prompts: { type: 'string', multiple: true, default: [] },
      out: { type: 'string', default: DEFAULT_REPORT_DIR },
    },
  });
  const config = loadRouterConfig(values.config!);
  const classifier = TaskClassifier.load();
  const policies = buildPolicies(config, classifier, StrongNeedScorer.load(classifier));
  const prices = new Map(config.models.map((m) => [m.name, blendedPrice(modelPrice(m))]));
  const sets = [
    ...heldOutSets(values.data!),
    ...values.prompts!.map((f) => ({ name: basename(f), prompts: readLabelledPrompts(f) })),
  ];
  const reports = sets.map((s) => evaluateSet(s, policies, prices));
  reports.forEach(printSet);
  mkdirSync(values.out!, { recursive: true });
  const svg = curvesSvg(
    reports.map((r) => ({
      title: `${r.set} (${r.n})`,
      weak: r.weak,
      strong: r.strong,
      lines: r.results.map((x) => ({ name: x.router, curve: thinCurve(x.metrics.curve) })),
    })),
  );
  writeFileSync(join(values.out!, 'routing-eval.svg'), svg);
  const json = reports.map((r) => ({
    ...r,
    results: r.results.map((x) => ({ ...x, metrics: { ...x.metrics, curve: thinCurve(x.metrics.curve, 21) } })),
  }));
  writeFileSync(join(values.out!, 'routing-eval.json'), `${JSON.stringify(json, null, 1)}\n`);
  console.log(
    `\nwrote ${join(values.out!, 'routing-eval.svg')} and routing-eval.json (in ${dirname(join(values.out!, 'x'))})`,
  );
}
