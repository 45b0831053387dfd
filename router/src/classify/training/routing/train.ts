// Trains the strong-need score (../../strong-need.ts) from ../shared/routing-data and writes
// model/strong-need-model.json. The model is chosen by measurement: each candidate (target, word features,
// regularisation) and each blend with the prompt's length is scored by APGR over 5 folds of whole MMLU subjects
// (word problems: random folds) of the training split; the held-out split (routing/data.ts) is never read here.
// Deterministic: the same data gives the same file.
// Run: make routing-train [ROUTING_DATA=../shared/routing-data]
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { promptView } from '../../prompt-text.ts';
import { DENSE_FEATURES, type SparseFeatures, WORD_HASH_BITS } from '../../strong-need-features.ts';
import {
  BLEND_PARTS,
  blendParts,
  DEFAULT_STRONG_NEED_FILE,
  kindOf,
  type PromptKind,
  STRONG_NEED_FORMAT,
  StrongNeedScorer,
  type StrongNeedModelFile,
} from '../../strong-need.ts';
import { TaskClassifier } from '../../task-classifier.ts';
import {
  DEFAULT_ROUTING_DATA_DIR,
  ROUTING_SPLIT,
  readRoutingData,
  splitRouting,
  subjectFolds,
  type RoutingExample,
} from './data.ts';
import { fitLogistic, logit, type LogisticModel, type LogisticOptions } from './logistic.ts';
import { routingMetrics } from './metrics.ts';

export const TARGETS = {
  /** The weak model fails where the strong one succeeds: what routing to the strong model buys. */
  need: (e: RoutingExample) => (e.strong && !e.weak ? 1 : 0),
  /** The weak model fails (whatever the strong one does). */
  weak_wrong: (e: RoutingExample) => (e.weak ? 0 : 1),
} as const;
type Target = keyof typeof TARGETS;

export const CANDIDATES: Array<{ target: Target; options: Partial<LogisticOptions> }> = [];
for (const target of ['need', 'weak_wrong'] as const)
  for (const groupBias of [false, true])
    for (const words of [false, true]) CANDIDATES.push({ target, options: { words, groupBias } });
const BASE: LogisticOptions = {
  epochs: 10,
  learningRate: 0.05,
  l2Dense: 1e-2,
  l2Words: 1e-2,
  words: true,
  groupBias: false,
  seed: 3,
};
const FOLDS = 5;
const FOLD_SEED = 11;
/** Blend weights tried: every point of the simplex over BLEND_PARTS in steps of 0.2. */
const STEP = 5;
const BLENDS: number[][] = [];
for (let a = 0; a <= STEP; a++)
  for (let b = 0; a + b <= STEP; b++) BLENDS.push([a / STEP, b / STEP, (STEP - a - b) / STEP]);
/** The source whose cross-validated APGR picks each kind's blend (open requests: the word problems). */
const KIND_SOURCE: Record<PromptKind, RoutingExample['source']> = { choice: 'mmlu', open: 'gsm8k' };

/** Each source counts the same in training: the word problems would otherwise be a twelfth of it. */
export function sourceWeights(rows: ReadonlyArray<RoutingExample>): number[] {
  const n = new Map<string, number>();
  for (const r of rows) n.set(r.source, (n.get(r.source) ?? 0) + 1);
  return rows.map((r) => rows.length / n.size / n.get(r.source)!);
}

const stats = (a: ArrayLike<number>) => {
  let m = 0;
  for (let i = 0; i < a.length; i++) m += a[i]! / a.length;
  let v = 0;
  for (let i = 0; i < a.length; i++) v += (a[i]! - m) ** 2 / a.length;
  return { mean: m, std: Math.sqrt(v) || 1 };
};

/** 1-d logistic regression of y on s (Platt scaling), by Newton's method. */
export function fitPlatt(s: ArrayLike<number>, y: ArrayLike<number>): { a: number; b: number } {
  let a = 1;
  let b = 0;
  for (let it = 0; it < 50; it++) {
    let ga = 0;
    let gb = 0;
    let haa = 1e-9;
    let hab = 0;
    let hbb = 1e-9;
    for (let i = 0; i < s.length; i++) {
      const p = 1 / (1 + Math.exp(-(a * s[i]! + b)));
      const r = p - y[i]!;
      const w = p * (1 - p);
      ga += r * s[i]!;
      gb += r;
      haa += w * s[i]! * s[i]!;
      hab += w * s[i]!;
      hbb += w;
    }
    const det = haa * hbb - hab * hab;
    a -= (hbb * ga - hab * gb) / det;
    b -= (haa * gb - hab * ga) / det;
  }
  return { a, b };
}

/** Each blend part's mean and standard deviation over `parts` (rows of BLEND_PARTS values). */
function partStats(parts: ReadonlyArray<ArrayLike<number>>) {
  return BLEND_PARTS.map((_, i) => stats(parts.map((p) => p[i]!)));
}

function blendScores(
  parts: ReadonlyArray<ArrayLike<number>>,
  kinds: ReadonlyArray<PromptKind>,
  weights: Record<PromptKind, number[]>,
) {
  const st = partStats(parts);
  return parts.map((p, k) => {
    const w = weights[kinds[k]!];
    let z = 0;
    for (let i = 0; i < st.length; i++) z += (w[i]! * (p[i]! - st[i]!.mean)) / st[i]!.std;
    return z;
  });
}

export function featurize(rows: ReadonlyArray<RoutingExample>, scorer: StrongNeedScorer): SparseFeatures[] {
  return rows.map((e) => scorer.features(promptView([{ role: 'user', content: e.prompt }])));
}

function apgrBySource(rows: ReadonlyArray<RoutingExample>, scores: ArrayLike<number>) {
  const of = (src: string) =>
    routingMetrics(
      rows.flatMap((e, i) => (e.source === src ? [{ score: scores[i]!, strong: e.strong, weak: e.weak }] : [])),
    ).apgr;
  return { mmlu: of('mmlu'), gsm8k: of('gsm8k') };
}

export function trainStrongNeed(rows: ReadonlyArray<RoutingExample>, classifier: TaskClassifier, log = console.log) {
  // Any model file will do for featurising: features() does not read the weights.
  const featurizer = new StrongNeedScorer(emptyModel(), classifier);
  const xs = featurize(rows, featurizer);
  const kinds = xs.map(kindOf);
  const folds = subjectFolds(rows, FOLDS, FOLD_SEED);
  const weights = sourceWeights(rows);
  const subjects = [...new Set(rows.map((r) => r.subject))].sort();
  const groups = rows.map((r) => subjects.indexOf(r.subject));
  const table: Array<Record<string, unknown>> = [];
  type Choice = {
    target: Target;
    options: LogisticOptions;
    blend: Record<PromptKind, number[]>;
    value: number;
    parts: number[][];
  };
  let best: Choice | undefined;
  for (const c of CANDIDATES) {
    const options = { ...BASE, ...c.options };
    const oof = new Array<number>(rows.length).fill(0);
    for (let f = 0; f < FOLDS; f++) {
      const idx = rows.flatMap((_, i) => (folds[i] !== f ? [i] : []));
      const m = fitLogistic(
        idx.map((i) => xs[i]!),
        idx.map((i) => TARGETS[c.target](rows[i]!)),
        options,
        idx.map((i) => weights[i]!),
        idx.map((i) => groups[i]!),
      );
      rows.forEach((_, i) => {
        if (folds[i] === f) oof[i] = logit(m, xs[i]!);
      });
    }
    const parts = xs.map((x, i) => blendParts(x, oof[i]!));
    const name = `${c.target} words=${options.words} subject-bias=${options.groupBias}`;
    // Each kind's blend is chosen on its own source: the weights for one kind do not move the other's ranking.
    const blend = {} as Record<PromptKind, number[]>;
    const apgr = {} as Record<PromptKind, number>;
    for (const kind of ['choice', 'open'] as const) {
      for (const w of BLENDS) {
        const a = apgrBySource(rows, blendScores(parts, kinds, { choice: w, open: w }))[KIND_SOURCE[kind]];
        if (apgr[kind] === undefined || a > apgr[kind]) (apgr[kind] = a), (blend[kind] = w);
      }
    }
    const alone = apgrBySource(rows, oof);
    const value = (apgr.choice + apgr.open) / 2;
    table.push({
      candidate: name,
      model_alone: { mmlu_apgr: round(alone.mmlu), gsm8k_apgr: round(alone.gsm8k) },
      blend,
      blended: { mmlu_apgr: round(apgr.choice), gsm8k_apgr: round(apgr.open) },
    });
    log(
      `  ${name.padEnd(32)} alone MMLU ${alone.mmlu.toFixed(3)} GSM8K ${alone.gsm8k.toFixed(3)}; blended MMLU ${apgr.choice.toFixed(3)} [${blend.choice.join(', ')}] GSM8K ${apgr.open.toFixed(3)} [${blend.open.join(', ')}]`,
    );
    if (!best || value > best.value) best = { target: c.target, options, blend, value, parts };
  }
  const lengthAlone = apgrBySource(
    rows,
    xs.map((x) => x.dense[DENSE_FEATURES.indexOf('log_words')]!),
  );
  const chosen = best!;
  log(
    `prompt length alone: MMLU ${lengthAlone.mmlu.toFixed(3)} GSM8K ${lengthAlone.gsm8k.toFixed(3)}\nchosen: ${chosen.target} words=${chosen.options.words} subject-bias=${chosen.options.groupBias} (cross-validated mean APGR ${chosen.value.toFixed(3)})`,
  );
  // The blend's standardisation and Platt scaling, both from out-of-fold log-odds (what unseen prompts look like).
  const st = partStats(chosen.parts);
  const platt = fitPlatt(blendScores(chosen.parts, kinds, chosen.blend), rows.map(TARGETS.need));
  const m = fitLogistic(xs, rows.map(TARGETS[chosen.target]), chosen.options, weights, groups);
  return toFile(m, {
    blend: { parts: [...BLEND_PARTS], mean: st.map((s) => s.mean), std: st.map((s) => s.std), weights: chosen.blend },
    platt,
    trained_on: {
      examples: rows.length,
      sources: ['RouteLLM MMLU and GSM8K answers of gpt-4-1106-preview and Mixtral-8x7B-Instruct (Apache-2.0)'],
      split_seed: ROUTING_SPLIT.seed,
      target: chosen.target,
      options: chosen.options,
    },
    selection: {
      folds: `${FOLDS} folds of whole MMLU subjects (word problems: random)`,
      prompt_length_alone: { mmlu_apgr: round(lengthAlone.mmlu), gsm8k_apgr: round(lengthAlone.gsm8k) },
      candidates: table,
    },
  });
}

const round = (v: number) => Number(v.toFixed(4));

function quantiseWords(words: Float64Array): { scale: number; data: string } {
  if (words.length === 0) return { scale: 0, data: '' };
  let max = 0;
  for (const w of words) max = Math.max(max, Math.abs(w));
  const scale = max / 127 || 1;
  const q = Int8Array.from(words, (w) => Math.round(w / scale));
  return { scale, data: Buffer.from(q.buffer).toString('base64') };
}

function toFile(m: LogisticModel, rest: Pick<StrongNeedModelFile, 'blend' | 'platt' | 'trained_on' | 'selection'>) {
  const words = quantiseWords(m.words);
  const r = (v: number) => Number(v.toPrecision(8));
  const file: StrongNeedModelFile = {
    format: STRONG_NEED_FORMAT,
    dense_features: [...DENSE_FEATURES],
    word_hash_bits: WORD_HASH_BITS,
    mean: Array.from(m.mean, r),
    std: Array.from(m.std, r),
    dense: Array.from(m.dense, r),
    bias: r(m.bias),
    word_scale: r(words.scale),
    words: words.data,
    blend: { ...rest.blend, mean: rest.blend.mean.map(r), std: rest.blend.std.map(r) },
    platt: { a: r(rest.platt.a), b: r(rest.platt.b) },
    trained_on: rest.trained_on,
    selection: rest.selection,
  };
  return file;
}

/** A model with no weights: for featurising only. */
export function emptyModel(): StrongNeedModelFile {
  const n = DENSE_FEATURES.length;
  return {
    format: STRONG_NEED_FORMAT,
    dense_features: [...DENSE_FEATURES],
    word_hash_bits: WORD_HASH_BITS,
    mean: new Array(n).fill(0),
    std: new Array(n).fill(1),
    dense: new Array(n).fill(0),
    bias: 0,
    word_scale: 0,
    words: '',
    blend: {
      parts: [...BLEND_PARTS],
      mean: [0, 0, 0],
      std: [1, 1, 1],
      weights: { choice: [1, 0, 0], open: [1, 0, 0] },
    },
    platt: { a: 1, b: 0 },
    trained_on: {},
    selection: {},
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({
    options: {
      data: { type: 'string', default: DEFAULT_ROUTING_DATA_DIR },
      out: { type: 'string', default: DEFAULT_STRONG_NEED_FILE },
    },
  });
  const rows = splitRouting(readRoutingData(values.data)).filter((e) => e.split === 'train');
  console.log(`training on ${rows.length} prompts (the held-out split is not read)`);
  const file = trainStrongNeed(rows, TaskClassifier.load());
  writeFileSync(values.out!, `${JSON.stringify(file)}\n`);
  console.log(`wrote ${values.out}`);
}
