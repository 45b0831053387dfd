// Task-type classifier: multinomial logistic regression over hashed features (see features.ts), trained by
// training/train.ts. Inference is a sparse dot product: microseconds per prompt. Confidence is the softmax of
// the scores divided by a temperature fitted on held-out data, so "0.9" means right about 9 times in 10 on
// prompts like the training data (make classifier-eval prints the reliability table); an isotonic map fitted
// on the same held-out split then turns that probability into the observed accuracy of such answers.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { featureBuckets, HASH_BITS } from './features.ts';
import { TASK_CLASSES } from '@llm-router/common/task-classes';

export const MODEL_FORMAT = 'hashed-logreg-v2';

export interface TaskModelFile {
  format: typeof MODEL_FORMAT;
  hash_bits: number;
  classes: string[];
  bias: number[];
  /** Scores are divided by this before the softmax (temperature scaling). */
  temperature: number;
  /** [softmax top probability, observed accuracy] points, ascending: confidence = linear interpolation. */
  confidence_map: number[][];
  /** Weight = int8 value x weight_scale. */
  weight_scale: number;
  /** Sorted bucket ids that have weights, base64 of little-endian Uint32. */
  buckets: string;
  /** Row-major weights [bucket][class], base64 of Int8. */
  weights: string;
  trained_on: { examples: number; calibration_examples: number; sources: string[]; epochs: number; seed: number };
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
  readonly temperature: number;
  private readonly mapFrom: Float64Array;
  private readonly mapTo: Float64Array;
  private readonly rows: BucketRows;
  private readonly weights: Int8Array;
  private readonly scale: number;
  private readonly bias: Float64Array;

  constructor(model: TaskModelFile, source = 'task model') {
    const retrain = 'retrain with make classifier-train';
    if (model.format !== MODEL_FORMAT || model.hash_bits !== HASH_BITS) {
      throw new Error(
        `${source}: format ${model.format}/${model.hash_bits} bits does not match this code (${MODEL_FORMAT}/${HASH_BITS}); ${retrain}`,
      );
    }
    if (model.classes.join('|') !== TASK_CLASSES.join('|')) {
      throw new Error(
        `${source}: classes [${model.classes.join(', ')}] differ from the router's [${TASK_CLASSES.join(', ')}]; ${retrain}`,
      );
    }
    this.classes = model.classes;
    this.temperature = model.temperature;
    this.mapFrom = Float64Array.from(model.confidence_map, (p) => p[0]!);
    this.mapTo = Float64Array.from(model.confidence_map, (p) => p[1]!);
    const bbuf = Buffer.from(model.buckets, 'base64');
    const buckets = new Uint32Array(bbuf.buffer.slice(bbuf.byteOffset, bbuf.byteOffset + bbuf.byteLength));
    const q = Buffer.from(model.weights, 'base64');
    if (q.length !== buckets.length * this.classes.length)
      throw new Error(
        `${source}: ${q.length} weights for ${buckets.length} buckets x ${this.classes.length} classes; ${retrain}`,
      );
    // Kept as the file's 8-bit integers (a quarter of the memory of floats): predict() sums integers per class and
    // scales once. The scale is pre-divided by the temperature, so scores come out calibrated.
    this.weights = new Int8Array(q.buffer, q.byteOffset, q.length);
    this.scale = model.weight_scale / model.temperature;
    this.bias = Float64Array.from(model.bias, (b) => b / model.temperature);
    this.rows = new BucketRows(buckets, HASH_BITS, `${source}: `, `; ${retrain}`);
  }

  static load(file = DEFAULT_MODEL_FILE): TaskClassifier {
    return new TaskClassifier(JSON.parse(readFileSync(file, 'utf8')) as TaskModelFile, file);
  }

  predict(text: string): TaskPrediction {
    const k = this.classes.length;
    const sums = new Int32Array(k);
    for (const b of featureBuckets(text)) {
      const row = this.rows.of(b);
      if (row < 0) continue;
      const off = row * k;
      for (let c = 0; c < k; c++) sums[c]! += this.weights[off + c]!;
    }
    const scores = new Float64Array(k);
    for (let c = 0; c < k; c++) scores[c] = this.bias[c]! + sums[c]! * this.scale;
    let max = -Infinity;
    let best = 0;
    for (let c = 0; c < k; c++) if (scores[c]! > max) (max = scores[c]!), (best = c);
    let sum = 0;
    const probabilities = new Array<number>(k);
    for (let c = 0; c < k; c++) sum += probabilities[c] = Math.exp(scores[c]! - max);
    for (let c = 0; c < k; c++) probabilities[c]! /= sum;
    return { label: this.classes[best]!, confidence: this.calibrated(probabilities[best]!), probabilities };
  }

  /** Class name -> probability, for the complexity scorer's evidence. */
  evidence(text: string): Record<string, number> {
    const { probabilities } = this.predict(text);
    const out: Record<string, number> = {};
    this.classes.forEach((c, i) => {
      out[c] = probabilities[i]!;
    });
    return out;
  }

  /** The top probability mapped through the isotonic calibration fitted on held-out prompts. */
  calibrated(p: number): number {
    const from = this.mapFrom;
    let i = 1;
    while (i < from.length - 1 && from[i]! < p) i++;
    const x0 = from[i - 1]!;
    const x1 = from[i]!;
    const t = x1 > x0 ? Math.min(1, Math.max(0, (p - x0) / (x1 - x0))) : 1;
    return this.mapTo[i - 1]! + t * (this.mapTo[i]! - this.mapTo[i - 1]!);
  }
}

/**
 * Hash bucket -> weight row, for rows stored in ascending bucket order (train.ts sorts them): a bucket's row is
 * its rank among the present buckets. A bitmap and a count per 32-bit word: 64 KiB for 2^18 buckets, where a
 * dense table was 1 MiB.
 */
export class BucketRows {
  private readonly present: Uint32Array;
  private readonly rowsBefore: Uint32Array;

  constructor(buckets: ArrayLike<number>, bits: number, where = '', fix = '') {
    this.present = new Uint32Array(Math.ceil(2 ** bits / 32));
    this.rowsBefore = new Uint32Array(this.present.length);
    for (let row = 0; row < buckets.length; row++) {
      const b = buckets[row]!;
      if (!(b >= 0 && b < 2 ** bits) || (row > 0 && b <= buckets[row - 1]!))
        throw new Error(`${where}buckets must be ascending and below 2^${bits} (row ${row})${fix}`);
      this.present[b >>> 5]! |= 1 << (b & 31);
    }
    for (let w = 1, n = 0; w < this.present.length; w++) this.rowsBefore[w] = n += popcount(this.present[w - 1]!);
  }

  /** The row of bucket `b`, or -1 when it has none. */
  of(b: number): number {
    const word = this.present[b >>> 5]!;
    const bit = 1 << (b & 31);
    // (bit - 1) masks the bits below this one; for bit 31 it wraps to 0x7fffffff, as wanted.
    return word & bit ? this.rowsBefore[b >>> 5]! + popcount(word & (bit - 1)) : -1;
  }
}

/** Set bits in a 32-bit integer (SWAR). */
function popcount(x: number): number {
  x -= (x >>> 1) & 0x55555555;
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  return Math.imul((x + (x >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24;
}
