// Task-type classifier: multinomial logistic regression over hashed features (see features.ts),
// trained by training/train.ts. Inference is a sparse dot product: ~microseconds per prompt.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { featureBuckets, HASH_BITS } from './features.ts';

export interface TaskModelFile {
  format: 'hashed-logreg-v1';
  hash_bits: number;
  classes: string[];
  bias: number[];
  /** Sorted bucket ids that have weights, base64 of little-endian Uint32. */
  buckets: string;
  /** Row-major weights [bucket][class], base64 of little-endian Float32. */
  weights: string;
  trained_on: { examples: number; epochs: number; seed: number };
}

export interface TaskPrediction {
  label: string;
  confidence: number;
  /** Probability of every class, in `classes` order. */
  probabilities: number[];
}

export const DEFAULT_MODEL_FILE = fileURLToPath(new URL('./model/task-model.json', import.meta.url));

export class TaskClassifier {
  readonly classes: string[];
  private readonly rowOf: Int32Array;
  private readonly weights: Float32Array;
  private readonly bias: Float64Array;

  constructor(model: TaskModelFile) {
    if (model.format !== 'hashed-logreg-v1' || model.hash_bits !== HASH_BITS) {
      throw new Error(`task model format ${model.format}/${model.hash_bits} bits does not match this code (hashed-logreg-v1/${HASH_BITS}); retrain with npm run classifier:train`);
    }
    this.classes = model.classes;
    const buckets = new Uint32Array(Buffer.from(model.buckets, 'base64').buffer.slice(0));
    const wbuf = Buffer.from(model.weights, 'base64');
    this.weights = new Float32Array(wbuf.buffer.slice(wbuf.byteOffset, wbuf.byteOffset + wbuf.byteLength));
    this.bias = Float64Array.from(model.bias);
    // Dense bucket -> row index (1 MiB) so lookups are one array read, no hashing of a Map.
    this.rowOf = new Int32Array(1 << HASH_BITS).fill(-1);
    buckets.forEach((b, row) => (this.rowOf[b] = row));
  }

  static load(file = DEFAULT_MODEL_FILE): TaskClassifier {
    return new TaskClassifier(JSON.parse(readFileSync(file, 'utf8')) as TaskModelFile);
  }

  predict(text: string): TaskPrediction {
    const k = this.classes.length;
    const scores = Float64Array.from(this.bias);
    for (const b of featureBuckets(text)) {
      const row = this.rowOf[b]!;
      if (row < 0) continue;
      const off = row * k;
      for (let c = 0; c < k; c++) scores[c]! += this.weights[off + c]!;
    }
    let max = -Infinity;
    let best = 0;
    for (let c = 0; c < k; c++) if (scores[c]! > max) ((max = scores[c]!), (best = c));
    let sum = 0;
    const probabilities = new Array<number>(k);
    for (let c = 0; c < k; c++) sum += probabilities[c] = Math.exp(scores[c]! - max);
    for (let c = 0; c < k; c++) probabilities[c]! /= sum;
    return { label: this.classes[best]!, confidence: probabilities[best]!, probabilities };
  }
}
