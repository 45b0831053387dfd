// Trains the task classifier from data/task-prompts.jsonl and writes model/task-model.json.
// Deterministic: fixed seed, fixed order, float64 math, so retraining reproduces the file byte for byte.
// Run: npm run classifier:train
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { featureBuckets, HASH_BITS } from '../features.ts';
import { DEFAULT_MODEL_FILE, type TaskModelFile } from '../task-classifier.ts';
import { DATA_FILE, type LabeledPrompt } from './generate-prompts.ts';
import { TASK_CLASSES } from './prompt-templates.ts';

export const TRAINING = { epochs: 30, seed: 7, learningRate: 0.5, l2: 1e-2 } as const;

export function readPrompts(file = DATA_FILE): LabeledPrompt[] {
  return readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as LabeledPrompt);
}

export function train(examples: LabeledPrompt[]): TaskModelFile {
  const classes = [...TASK_CLASSES];
  const k = classes.length;
  const data = examples.map((e) => ({ x: featureBuckets(e.text), y: classes.indexOf(e.label as (typeof classes)[number]) }));
  if (data.some((d) => d.y < 0)) throw new Error('training data has a label outside TASK_CLASSES');
  const used = [...new Set(data.flatMap((d) => d.x))].sort((a, b) => a - b);
  const rowOf = new Map(used.map((b, i) => [b, i]));
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
    const lr = TRAINING.learningRate / (1 + epoch * 0.2);
    for (const idx of order) {
      const { x, y } = data[idx]!;
      for (let c = 0; c < k; c++) p[c] = bias[c]!;
      for (const b of x) {
        const off = rowOf.get(b)! * k;
        for (let c = 0; c < k; c++) p[c]! += w[off + c]!;
      }
      let max = -Infinity;
      for (let c = 0; c < k; c++) max = Math.max(max, p[c]!);
      let sum = 0;
      for (let c = 0; c < k; c++) sum += p[c] = Math.exp(p[c]! - max);
      const scale = lr / Math.sqrt(x.length);
      for (let c = 0; c < k; c++) {
        const g = p[c]! / sum - (c === y ? 1 : 0);
        bias[c]! -= lr * 0.1 * g;
        for (const b of x) {
          const off = rowOf.get(b)! * k + c;
          w[off] = w[off]! - scale * (g + TRAINING.l2 * w[off]!);
        }
      }
    }
  }
  return {
    format: 'hashed-logreg-v1',
    hash_bits: HASH_BITS,
    classes,
    bias: Array.from(bias, (v) => Number(v.toFixed(6))),
    buckets: Buffer.from(Uint32Array.from(used).buffer).toString('base64'),
    weights: Buffer.from(Float32Array.from(w).buffer).toString('base64'),
    trained_on: { examples: data.length, epochs: TRAINING.epochs, seed: TRAINING.seed },
  };
}

export const serializeModel = (m: TaskModelFile) => JSON.stringify(m, null, 1) + '\n';

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const all = readPrompts();
  const trainSet = all.filter((e) => e.split === 'train');
  const t0 = performance.now();
  const model = train(trainSet);
  writeFileSync(DEFAULT_MODEL_FILE, serializeModel(model));
  console.log(`trained on ${trainSet.length} prompts in ${(performance.now() - t0).toFixed(0)} ms -> ${DEFAULT_MODEL_FILE}`);
}
