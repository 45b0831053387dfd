// Trains the task classifier on the public prompts' train split plus the project's own prompt set (train
// templates), fits its confidence temperature on the public calibration split, and writes
// model/task-model.json. Deterministic (fixed seeds and order, float64 math): retraining from the same data
// reproduces the file byte for byte.
// Run: make classifier-train [CLASSIFIER_DATA=../shared/classifier-data]
import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { featureBuckets, HASH_BITS } from '@llm-router/router/classify/features';
import { TASK_CLASSES } from '@llm-router/common/task-classes';
import { DEFAULT_MODEL_FILE, MODEL_FORMAT, type TaskModelFile } from '@llm-router/router/classify/task-classifier';
import { DATA_FILE, type LabeledPrompt } from './generate-prompts.ts';
import { DEFAULT_PUBLIC_DATA_DIR, readPublicPrompts, splitPublic, type SplitPrompt } from './public-data.ts';

export const TRAINING = {
  epochs: 12,
  seed: 7,
  learningRate: 0.4,
  l2: 1e-2,
  /** Class weight = (mean class size / class size)^this: rare classes count more, without swamping. */
  classWeightPower: 1,
  /** Features seen in fewer training prompts are dropped: they are noise and cost model size. */
  minFeatureCount: 2,
} as const;

export interface Example {
  text: string;
  label: string;
}

export function readPrompts(file = DATA_FILE): LabeledPrompt[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as LabeledPrompt);
}

/** Everything the shipped model learns from: the public train split and the project's train templates. */
export function trainingSet(publicPrompts: SplitPrompt[], projectPrompts: LabeledPrompt[]): Example[] {
  return [...publicPrompts.filter((p) => p.split === 'train'), ...projectPrompts.filter((p) => p.split === 'train')];
}

interface Encoded {
  x: Int32Array;
  y: number;
}

/** Softmax logits (before temperature) of one encoded prompt. */
function logits(x: Int32Array, w: ArrayLike<number>, bias: ArrayLike<number>, k: number, out: Float64Array) {
  for (let c = 0; c < k; c++) out[c] = bias[c]!;
  for (const row of x) {
    const off = row * k;
    for (let c = 0; c < k; c++) out[c]! += w[off + c]!;
  }
}

/** The temperature that minimises negative log-likelihood on `set` (golden-section search over log T). */
export function fitTemperature(set: Array<{ logits: Float64Array; y: number }>): number {
  const nll = (t: number) => {
    let total = 0;
    for (const { logits: z, y } of set) {
      let max = -Infinity;
      for (const v of z) max = Math.max(max, v / t);
      let sum = 0;
      for (const v of z) sum += Math.exp(v / t - max);
      total -= z[y]! / t - max - Math.log(sum);
    }
    return total / set.length;
  };
  let lo = Math.log(0.05);
  let hi = Math.log(20);
  const g = (Math.sqrt(5) - 1) / 2;
  for (let i = 0; i < 60; i++) {
    const a = hi - g * (hi - lo);
    const b = lo + g * (hi - lo);
    if (nll(Math.exp(a)) < nll(Math.exp(b))) hi = b;
    else lo = a;
  }
  return Number(Math.exp((lo + hi) / 2).toFixed(4));
}

/**
 * Isotonic regression (pool adjacent violators) of "was the top class right" on the top probability, over
 * 20 equal-count bins: a monotone map from the softmax's confidence to observed accuracy, as [raw, calibrated]
 * points interpolated linearly at inference.
 */
export function fitConfidenceMap(set: Array<{ logits: Float64Array; y: number }>, temperature: number): number[][] {
  const points = set
    .map(({ logits: z, y }) => {
      let max = -Infinity;
      let best = 0;
      z.forEach((v, c) => {
        if (v > max) (max = v), (best = c);
      });
      let sum = 0;
      for (const v of z) sum += Math.exp((v - max) / temperature);
      return { p: 1 / sum, ok: best === y ? 1 : 0 };
    })
    .sort((a, b) => a.p - b.p);
  const bins = 20;
  const blocks: Array<{ p: number; acc: number; n: number }> = [];
  for (let i = 0; i < bins; i++) {
    const part = points.slice(Math.floor((i * points.length) / bins), Math.floor(((i + 1) * points.length) / bins));
    if (!part.length) continue;
    blocks.push({
      p: part.reduce((a, b) => a + b.p, 0) / part.length,
      acc: part.reduce((a, b) => a + b.ok, 0) / part.length,
      n: part.length,
    });
    while (blocks.length > 1 && blocks.at(-2)!.acc >= blocks.at(-1)!.acc) {
      const b = blocks.pop()!;
      const a = blocks.pop()!;
      const n = a.n + b.n;
      blocks.push({ p: (a.p * a.n + b.p * b.n) / n, acc: (a.acc * a.n + b.acc * b.n) / n, n });
    }
  }
  const r = (v: number) => Number(v.toFixed(4));
  return [
    [0, r(Math.min(blocks[0]!.acc, 1 / 12))],
    ...blocks.map((b) => [r(b.p), r(b.acc)]),
    [1, r(blocks.at(-1)!.acc)],
  ];
}

export function train(examples: Example[], calibration: Example[]): TaskModelFile {
  const classes = [...TASK_CLASSES];
  const k = classes.length;
  const raw = examples.map((e) => ({
    x: featureBuckets(e.text),
    y: classes.indexOf(e.label as (typeof classes)[number]),
  }));
  if (raw.some((d) => d.y < 0)) throw new Error('training data has a label outside TASK_CLASSES');
  // Keep features seen in at least minFeatureCount prompts; rows are dense indices into the weight matrix.
  const seenIn = new Map<number, number>();
  for (const d of raw) for (const b of new Set(d.x)) seenIn.set(b, (seenIn.get(b) ?? 0) + 1);
  const used = [...seenIn]
    .filter(([, n]) => n >= TRAINING.minFeatureCount)
    .map(([b]) => b)
    .sort((a, b) => a - b);
  const rowOf = new Map(used.map((b, i) => [b, i]));
  const encode = (x: number[]) => Int32Array.from(x.filter((b) => rowOf.has(b)).map((b) => rowOf.get(b)!));
  const data: Encoded[] = raw.map((d) => ({ x: encode(d.x), y: d.y }));

  const counts = new Array<number>(k).fill(0);
  for (const d of data) counts[d.y]!++;
  const mean = data.length / k;
  const classWeight = counts.map((n) => (n ? (mean / n) ** TRAINING.classWeightPower : 0));

  const w = new Float64Array(used.length * k);
  const bias = new Float64Array(k);
  let s = TRAINING.seed >>> 0;
  const rand = () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
  const order = data.map((_, i) => i);
  const p = new Float64Array(k);
  for (let epoch = 0; epoch < TRAINING.epochs; epoch++) {
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1));
      [order[i], order[j]] = [order[j]!, order[i]!];
    }
    const lr = TRAINING.learningRate / (1 + epoch * 0.3);
    for (const idx of order) {
      const { x, y } = data[idx]!;
      logits(x, w, bias, k, p);
      let max = -Infinity;
      for (let c = 0; c < k; c++) max = Math.max(max, p[c]!);
      let sum = 0;
      for (let c = 0; c < k; c++) sum += p[c] = Math.exp(p[c]! - max);
      const cw = classWeight[y]!;
      const scale = (lr * cw) / Math.sqrt(Math.max(1, x.length));
      for (let c = 0; c < k; c++) {
        const g = p[c]! / sum - (c === y ? 1 : 0);
        bias[c]! -= lr * cw * 0.05 * g;
        for (const row of x) {
          const off = row * k + c;
          w[off] = w[off]! - scale * (g + TRAINING.l2 * w[off]!);
        }
      }
    }
  }

  // int8 weights with one scale: a quarter of float32's size, and no measurable change in accuracy.
  let maxAbs = 0;
  for (const v of w) maxAbs = Math.max(maxAbs, Math.abs(v));
  const weightScale = Number((maxAbs / 127).toPrecision(6));
  const q = Int8Array.from(w, (v) => Math.max(-127, Math.min(127, Math.round(v / weightScale))));
  const roundedBias = Array.from(bias, (v) => Number(v.toFixed(6)));

  // The calibration split (never trained on) sets, on the quantized model as shipped, the temperature and an
  // isotonic map from the top probability to how often such answers are right. (Per-class bias offsets tuned
  // for macro-F1 there were measured too: no gain on the test split, a loss on the project's held-out set.)
  const deq = Float64Array.from(q, (v) => v * weightScale);
  const calSet = calibration.map((e) => {
    const z = new Float64Array(k);
    logits(encode(featureBuckets(e.text)), deq, roundedBias, k, z);
    return { logits: z, y: classes.indexOf(e.label as (typeof classes)[number]) };
  });
  const temperature = calSet.length ? fitTemperature(calSet) : 1;
  const confidenceMap = calSet.length
    ? fitConfidenceMap(calSet, temperature)
    : [
        [0, 0],
        [1, 1],
      ];

  return {
    format: MODEL_FORMAT,
    hash_bits: HASH_BITS,
    classes,
    bias: roundedBias,
    temperature,
    confidence_map: confidenceMap,
    weight_scale: weightScale,
    buckets: Buffer.from(Uint32Array.from(used).buffer).toString('base64'),
    weights: Buffer.from(q.buffer).toString('base64'),
    trained_on: {
      examples: data.length,
      calibration_examples: calSet.length,
      sources: ['dolly-15k (CC BY-SA 3.0)', 'gsm8k-train (MIT)', 'project prompt set (this repository)'],
      epochs: TRAINING.epochs,
      seed: TRAINING.seed,
    },
  };
}

export const serializeModel = (m: TaskModelFile) => `${JSON.stringify(m, null, 1)}\n`;

/** Train from the public data folder and the project's prompt set, as `make classifier-train` does. */
export function trainFromData(dataDir = DEFAULT_PUBLIC_DATA_DIR): TaskModelFile {
  const pub = splitPublic(readPublicPrompts(dataDir));
  return train(
    trainingSet(pub, readPrompts()),
    pub.filter((p) => p.split === 'calibration'),
  );
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({
    options: {
      data: { type: 'string', default: DEFAULT_PUBLIC_DATA_DIR },
      out: { type: 'string', default: DEFAULT_MODEL_FILE },
    },
  });
  const t0 = performance.now();
  const model = trainFromData(values.data);
  writeFileSync(values.out!, serializeModel(model));
  const t = model.trained_on;
  console.log(
    `trained on ${t.examples} prompts (temperature ${model.temperature} fitted on ${t.calibration_examples}) in ${(performance.now() - t0).toFixed(0)} ms -> ${values.out}`,
  );
}
