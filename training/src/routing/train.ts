// Trains the strong-need score (../../strong-need.ts) from ../shared/routing-data and writes
// model/strong-need-model.json. The model is chosen by measurement: each candidate (target, which features: word
// meanings, the task model's and complexity scorer's outputs, hashed words, a per-subject bias) and each blend with
// the prompt's length and complexity is scored by APGR over 5 folds of whole MMLU subjects (word problems: random
// folds) of the training split; the held-out split (routing/data.ts) is never read here. Among candidates within
// TOLERANCE of the best, the cheapest to run wins. Deterministic: the same data gives the same file.
// Run: make routing-train [ROUTING_DATA=../shared/routing-data]
import { writeFileSync } from 'node:fs';
import { DEFAULT_EMBEDDINGS_FILE, EmbeddingIndex, type Embeddings, loadEmbeddings } from './embeddings.ts';
import { parseArgs } from 'node:util';
import { promptView } from '@llm-router/router/classify/prompt-text';
import {
  DENSE_COUNT,
  DENSE_FEATURES,
  type SparseFeatures,
  WORD_HASH_BITS,
} from '@llm-router/router/classify/strong-need-features';
import {
  BLEND_PARTS,
  blendParts,
  DEFAULT_STRONG_NEED_FILE,
  kindOf,
  type PromptKind,
  STRONG_NEED_FORMAT,
  StrongNeedScorer,
  type StrongNeedModelFile,
} from '@llm-router/router/classify/strong-need';
import { TaskClassifier } from '@llm-router/router/classify/task-classifier';
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

export interface Candidate {
  target: Target;
  /** The mean word meaning (needs embeddings). */
  semantic: boolean;
  /** all: every dense feature; structure: without the task model's and complexity scorer's (cheaper to run);
   * size: the prompt's size alone (characters, words, sentences). */
  dense: 'all' | 'structure' | 'size';
  options: Partial<LogisticOptions>;
}
export const CANDIDATES: Candidate[] = [];
for (const target of ['need', 'weak_wrong'] as const)
  for (const semantic of [false, true])
    for (const dense of ['size', 'structure', 'all'] as const)
      CANDIDATES.push({ target, semantic, dense, options: {} });
// Tried before and kept as evidence: hashed words and a per-subject bias (neither carried to unseen subjects).
CANDIDATES.push({ target: 'need', semantic: false, dense: 'all', options: { words: true } });
CANDIDATES.push({ target: 'need', semantic: false, dense: 'all', options: { groupBias: true } });
/** Candidates within this much mean APGR of the best are as good: the cheapest of them is chosen. */
const TOLERANCE = 0.005;
const cost = (c: Candidate) =>
  (c.dense === 'all' ? 2 : c.dense === 'structure' ? 0.3 : 0) + (c.options.words ? 1 : 0) + (c.semantic ? 0.5 : 0);
const describe = (c: Candidate) =>
  `${c.target} ${c.dense}${c.semantic ? '+meaning' : ''}${c.options.words ? '+words' : ''}${c.options.groupBias ? '+subject-bias' : ''}`;
const BASE: LogisticOptions = {
  epochs: 10,
  learningRate: 0.05,
  l2Dense: 1e-2,
  l2Words: 1e-2,
  words: false,
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

/** Dense features the task model or the complexity scorer give. */
const TASK_DERIVED = DENSE_FEATURES.map((f) => f.startsWith('task') || f.startsWith('cx:'));
const SIZE = DENSE_FEATURES.map((f) => f === 'log_chars' || f === 'log_words' || f === 'log_sentences');
const usesDense = (c: Candidate, j: number) =>
  c.dense === 'all' || (c.dense === 'structure' ? !TASK_DERIVED[j] : SIZE[j]!);

export function trainStrongNeed(
  rows: ReadonlyArray<RoutingExample>,
  classifier: TaskClassifier,
  log: (line: string) => void = console.log,
  embeddings?: Embeddings,
) {
  // Any model file will do for featurising: features() does not read the weights.
  const featurizer = new StrongNeedScorer(emptyModel(), classifier);
  const runtime = featurize(rows, featurizer);
  // Training sees the mean word vector after the runtime's dense features; the file keeps it folded per word.
  const index = embeddings ? new EmbeddingIndex(embeddings) : undefined;
  const xs: SparseFeatures[] = runtime.map((x, i) => {
    if (!index) return x;
    const meaning = index.mean(promptView([{ role: 'user', content: rows[i]!.prompt }]).request);
    const dense = new Float64Array(DENSE_COUNT + meaning.length);
    dense.set(x.dense);
    dense.set(meaning, DENSE_COUNT);
    return { dense, words: x.words };
  });
  const width = xs[0]!.dense.length;
  const kinds = xs.map(kindOf);
  const folds = subjectFolds(rows, FOLDS, FOLD_SEED);
  const weights = sourceWeights(rows);
  const subjects = [...new Set(rows.map((r) => r.subject))].sort();
  const groups = rows.map((r) => subjects.indexOf(r.subject));
  const table: Array<Record<string, unknown>> = [];
  type Result = {
    c: Candidate;
    options: LogisticOptions;
    blend: Record<PromptKind, number[]>;
    value: number;
    parts: number[][];
  };
  const results: Result[] = [];
  for (const c of CANDIDATES) {
    if (c.semantic && !index) continue;
    const use = Array.from({ length: width }, (_, j) => (j < DENSE_COUNT ? usesDense(c, j) : c.semantic));
    const options = { ...BASE, ...c.options, use };
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
      candidate: describe(c),
      model_alone: { mmlu_apgr: round(alone.mmlu), gsm8k_apgr: round(alone.gsm8k) },
      blend,
      blended: { mmlu_apgr: round(apgr.choice), gsm8k_apgr: round(apgr.open) },
    });
    log(
      `  ${describe(c).padEnd(34)} alone MMLU ${alone.mmlu.toFixed(3)} GSM8K ${alone.gsm8k.toFixed(3)}; blended MMLU ${apgr.choice.toFixed(3)} [${blend.choice.join(', ')}] GSM8K ${apgr.open.toFixed(3)} [${blend.open.join(', ')}]`,
    );
    results.push({ c, options, blend, value, parts });
  }
  const lengthAlone = apgrBySource(
    rows,
    xs.map((x) => x.dense[DENSE_FEATURES.indexOf('log_words')]!),
  );
  const top = Math.max(...results.map((r) => r.value));
  const chosen = results
    .filter((r) => r.value >= top - TOLERANCE)
    .reduce((a, b) => (cost(b.c) < cost(a.c) || (cost(b.c) === cost(a.c) && b.value > a.value) ? b : a));
  log(
    `prompt length alone: MMLU ${lengthAlone.mmlu.toFixed(3)} GSM8K ${lengthAlone.gsm8k.toFixed(3)}\nchosen: ${describe(chosen.c)} (cross-validated mean APGR ${chosen.value.toFixed(3)}; best ${top.toFixed(3)})`,
  );
  // The blend's standardisation and Platt scaling, both from out-of-fold log-odds (what unseen prompts look like).
  const st = partStats(chosen.parts);
  const platt = fitPlatt(blendScores(chosen.parts, kinds, chosen.blend), rows.map(TARGETS.need));
  const m = fitLogistic(xs, rows.map(TARGETS[chosen.c.target]), chosen.options, weights, groups);
  const { use: _, ...options } = chosen.options;
  return toFile(m, index, {
    blend: { parts: [...BLEND_PARTS], mean: st.map((s) => s.mean), std: st.map((s) => s.std), weights: chosen.blend },
    platt,
    trained_on: {
      examples: rows.length,
      sources: ['RouteLLM MMLU and GSM8K answers of gpt-4-1106-preview and Mixtral-8x7B-Instruct (Apache-2.0)'],
      ...(index ? { word_meanings: embeddings!.source } : {}),
      split_seed: ROUTING_SPLIT.seed,
      candidate: describe(chosen.c),
      options,
    },
    selection: {
      folds: `${FOLDS} folds of whole MMLU subjects (word problems: random)`,
      tolerance: TOLERANCE,
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

/** The word-meaning weights folded into one value per vocabulary word, by ascending hash (first word of a hash wins). */
function semanticTable(m: LogisticModel, index: EmbeddingIndex) {
  const { hashes, values, constant } = index.fold(
    m.dense.subarray(DENSE_COUNT),
    m.mean.subarray(DENSE_COUNT),
    m.std.subarray(DENSE_COUNT),
  );
  const seen = new Set<number>();
  const order = [...hashes.keys()].filter((i) => !seen.has(hashes[i]!) && seen.add(hashes[i]!));
  order.sort((a, b) => hashes[a]! - hashes[b]!);
  const q = quantiseWords(Float64Array.from(order, (i) => values[i]!));
  return {
    source: index.e.source,
    hashes: Buffer.from(Uint32Array.from(order, (i) => hashes[i]!).buffer).toString('base64'),
    values: q.data,
    scale: Number(q.scale.toPrecision(8)),
    constant: Number(constant.toPrecision(8)),
  };
}

function toFile(
  m: LogisticModel,
  index: EmbeddingIndex | undefined,
  rest: Pick<StrongNeedModelFile, 'blend' | 'platt' | 'trained_on' | 'selection'>,
) {
  const words = quantiseWords(m.words);
  const r = (v: number) => Number(v.toPrecision(8));
  const semanticWeighed = m.dense.subarray(DENSE_COUNT).some((w) => w !== 0);
  const file: StrongNeedModelFile = {
    format: STRONG_NEED_FORMAT,
    dense_features: [...DENSE_FEATURES],
    word_hash_bits: WORD_HASH_BITS,
    mean: Array.from(m.mean.subarray(0, DENSE_COUNT), r),
    std: Array.from(m.std.subarray(0, DENSE_COUNT), r),
    dense: Array.from(m.dense.subarray(0, DENSE_COUNT), r),
    bias: r(m.bias),
    word_scale: r(words.scale),
    words: words.data,
    ...(index && semanticWeighed ? { semantic: semanticTable(m, index) } : {}),
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
      embeddings: { type: 'string', default: DEFAULT_EMBEDDINGS_FILE },
    },
  });
  const rows = splitRouting(readRoutingData(values.data)).filter((e) => e.split === 'train');
  const embeddings = loadEmbeddings(values.embeddings);
  console.log(
    `training on ${rows.length} prompts (the held-out split is not read); word meanings: ${embeddings.source}`,
  );
  const file = trainStrongNeed(rows, TaskClassifier.load(), console.log, embeddings);
  writeFileSync(values.out!, `${JSON.stringify(file)}\n`);
  console.log(`wrote ${values.out}`);
}
