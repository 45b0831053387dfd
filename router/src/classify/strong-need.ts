// The strong-need score: the probability that a prompt needs the strong model (the weak one would get it wrong
// where the strong one gets it right), from the prompt alone. A logistic regression over strong-need-features.ts
// and the meaning of the request's words (one learned value per vocabulary word, folded from GloVe vectors at
// training time: training/routing/embeddings.ts), blended with two signals the router already has, the prompt's length and its complexity score (an ensemble
// whose weights, one set for multiple-choice questions and one for open requests, are chosen by
// cross-validation over whole subjects), and mapped to a probability by Platt scaling on out-of-fold predictions. Trained by `make routing-train` on public
// per-prompt correctness data (training/routing/); `make routing-eval` measures it.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { scoreComplexity, ZERO_COMPLEXITY } from './complexity.ts';
import type { PromptView } from './prompt-text.ts';
import {
  DENSE_COUNT,
  DENSE_FEATURES,
  hasChoices,
  logWords,
  forEachSemanticHash,
  strongNeedFeatures,
  type SparseFeatures,
  WORD_HASH_BITS,
} from './strong-need-features.ts';
import { TASK_CLASSES } from '@llm-router/common/task-classes';
import type { TaskClassifier } from './task-classifier.ts';

export const STRONG_NEED_FORMAT = 'strong-need-logreg-v1';
/** What the score blends: the logistic model's log-odds and two dense features (length, overall complexity). */
export const BLEND_PARTS = ['model', 'log_words', 'cx:overall'] as const;
const BLEND_FEATURES = ['log_words', 'cx:overall'].map((f) =>
  DENSE_FEATURES.indexOf(f as (typeof DENSE_FEATURES)[number]),
);
/** Prompts with answer choices blend with one set of weights, open requests with the other. */
export const CHOICES_FEATURE = DENSE_FEATURES.indexOf('choices');
export type PromptKind = 'choice' | 'open';
export const kindOf = (x: SparseFeatures): PromptKind => (x.dense[CHOICES_FEATURE]! > 0 ? 'choice' : 'open');

/** The blend's parts for features `x`, given the model's log-odds: [log-odds, length, complexity]. */
export function blendParts(x: SparseFeatures, modelLogit: number): number[] {
  return [modelLogit, ...BLEND_FEATURES.map((j) => x.dense[j]!)];
}

export interface StrongNeedModelFile {
  format: typeof STRONG_NEED_FORMAT;
  dense_features: string[];
  word_hash_bits: number;
  /** Standardisation of the dense features: (x - mean) / std. */
  mean: number[];
  std: number[];
  dense: number[];
  bias: number;
  /** Word weight = int8 value x word_scale; base64 of Int8, 2^word_hash_bits of them (empty: no words). */
  word_scale: number;
  words: string;
  /** Word meanings: the mean value of the request's known tokens, plus `constant`, enters the log-odds. */
  semantic?: {
    source: string;
    /** Ascending semanticHash of each vocabulary word, base64 of little-endian Uint32. */
    hashes: string;
    /** Value = int8 x scale, in hash order, base64 of Int8. */
    values: string;
    scale: number;
    constant: number;
  };
  /** score logit = platt.a * sum_i weights[kind][i] * (part_i - mean_i) / std_i + platt.b, parts: BLEND_PARTS */
  blend: { parts: string[]; mean: number[]; std: number[]; weights: Record<PromptKind, number[]> };
  platt: { a: number; b: number };
  trained_on: Record<string, unknown>;
  selection: Record<string, unknown>;
}

/** Scores are reported and compared with thresholds at this precision (x-router-score, /v1/route, calibration). */
export const roundScore = (score: number) => Math.round(score * 1e4) / 1e4;

export const DEFAULT_STRONG_NEED_FILE = fileURLToPath(new URL('./model/strong-need-model.json', import.meta.url));

/** Dense features that come from the task model or the complexity scorer (costly to compute). */
const TASK_FEATURES = DENSE_FEATURES.flatMap((f, i) => (f.startsWith('task') || f.startsWith('cx:') ? [i] : []));
const NO_TASK = new Float64Array(TASK_CLASSES.length);

export class StrongNeedScorer {
  private readonly mean: Float64Array;
  private readonly invStd: Float64Array;
  private readonly dense: Float64Array;
  private readonly words: Int8Array;
  private readonly wordScale: number;
  private readonly semanticHashes: Uint32Array;
  private readonly semanticValues: Int8Array;
  /** Whether a prompt of each kind needs the task model and complexity scorer (a weight on what they give). */
  private readonly needsTask: Record<PromptKind, boolean>;

  constructor(
    private readonly model: StrongNeedModelFile,
    private readonly classifier: TaskClassifier,
    source = 'strong-need model',
  ) {
    const retrain = 'retrain with make routing-train';
    if (model.format !== STRONG_NEED_FORMAT || model.word_hash_bits !== WORD_HASH_BITS)
      throw new Error(
        `${source}: format ${model.format}/${model.word_hash_bits} bits does not match this code; ${retrain}`,
      );
    if (
      model.dense_features.join('|') !== DENSE_FEATURES.join('|') ||
      model.blend.parts.join('|') !== BLEND_PARTS.join('|')
    )
      throw new Error(`${source}: its dense features or blend differ from this code's; ${retrain}`);
    this.mean = Float64Array.from(model.mean);
    this.invStd = Float64Array.from(model.std, (s) => 1 / s);
    this.dense = Float64Array.from(model.dense);
    const q = Buffer.from(model.words, 'base64');
    if (q.length !== 0 && q.length !== 2 ** WORD_HASH_BITS)
      throw new Error(`${source}: ${q.length} word weights, expected 0 or ${2 ** WORD_HASH_BITS}; ${retrain}`);
    this.words = new Int8Array(q.buffer, q.byteOffset, q.length);
    this.wordScale = model.word_scale;
    const h = Buffer.from(model.semantic?.hashes ?? '', 'base64');
    this.semanticHashes = new Uint32Array(h.buffer.slice(h.byteOffset, h.byteOffset + h.byteLength));
    const v = Buffer.from(model.semantic?.values ?? '', 'base64');
    this.semanticValues = new Int8Array(v.buffer, v.byteOffset, v.length);
    if (this.semanticValues.length !== this.semanticHashes.length)
      throw new Error(
        `${source}: ${this.semanticValues.length} word values for ${this.semanticHashes.length} words; ${retrain}`,
      );
    for (let i = 1; i < this.semanticHashes.length; i++)
      if (this.semanticHashes[i]! <= this.semanticHashes[i - 1]!)
        throw new Error(`${source}: word hashes must be ascending; ${retrain}`);
    const taskWeighed = TASK_FEATURES.some((j) => this.dense[j] !== 0);
    const needs = (k: PromptKind) => {
      const w = model.blend.weights[k];
      return (w[0] !== 0 && taskWeighed) || w[2] !== 0;
    };
    this.needsTask = { choice: needs('choice'), open: needs('open') };
  }

  static load(classifier: TaskClassifier, file = DEFAULT_STRONG_NEED_FILE): StrongNeedScorer {
    return new StrongNeedScorer(JSON.parse(readFileSync(file, 'utf8')) as StrongNeedModelFile, classifier, file);
  }

  /**
   * What the model reads of a prompt (the training code featurises with the same function). `all`: compute the
   * task model's and complexity scorer's features even where no weight needs them (training does).
   */
  features(view: PromptView, all = true): SparseFeatures {
    let x: SparseFeatures;
    if (all || this.needsTask[hasChoices(view.request) ? 'choice' : 'open']) {
      const task = this.classifier.predict(view.request).probabilities;
      const evidence: Record<string, number> = {};
      this.classifier.classes.forEach((c, i) => {
        evidence[c] = task[i]!;
      });
      x = strongNeedFeatures(view, task, scoreComplexity(view, evidence), all || this.words.length > 0);
    } else x = strongNeedFeatures(view, NO_TASK, ZERO_COMPLEXITY, this.words.length > 0);
    if (this.semanticHashes.length) x.semantic = this.semanticOf(view.request);
    return x;
  }

  /** The mean learned value of the request's known words, plus the model's constant. */
  private semanticOf(text: string): number {
    const hashes = this.semanticHashes;
    const values = this.semanticValues;
    let sum = 0;
    let n = 0;
    forEachSemanticHash(text, (h) => {
      let lo = 0;
      let hi = hashes.length - 1;
      while (lo <= hi) {
        const mid = (lo + hi) >>> 1;
        const m = hashes[mid]!;
        if (m === h) {
          sum += values[mid]!;
          n++;
          return;
        }
        if (m < h) lo = mid + 1;
        else hi = mid - 1;
      }
    });
    const { scale, constant } = this.model.semantic!;
    return (n ? (sum * scale) / n : 0) + constant;
  }

  /** The logistic model's own log-odds, before the blend. */
  modelLogit(x: SparseFeatures): number {
    let z = this.model.bias;
    for (let j = 0; j < DENSE_COUNT; j++) z += this.dense[j]! * (x.dense[j]! - this.mean[j]!) * this.invStd[j]!;
    if (this.words.length && x.words.length) {
      let sum = 0;
      for (const b of x.words) sum += this.words[b]!;
      z += (sum * this.wordScale) / Math.sqrt(x.words.length);
    }
    return z + (x.semantic ?? 0);
  }

  /** P(the strong model is needed), 0..1, for features `x`. */
  scoreFeatures(x: SparseFeatures): number {
    const { blend, platt } = this.model;
    const parts = blendParts(x, this.modelLogit(x));
    const w = blend.weights[kindOf(x)];
    let z = 0;
    for (let i = 0; i < parts.length; i++) z += (w[i]! * (parts[i]! - blend.mean[i]!)) / blend.std[i]!;
    return 1 / (1 + Math.exp(-(platt.a * z + platt.b)));
  }

  score(view: PromptView): number {
    // Where the blend gives a prompt's kind weight only on its length, the rest is not computed: the same score
    // (tested) without the task model and the complexity scorer.
    const kind: PromptKind = hasChoices(view.request) ? 'choice' : 'open';
    const w = this.model.blend.weights[kind];
    if (w[0] === 0 && w[2] === 0) {
      const { blend, platt } = this.model;
      const z = (w[1]! * (logWords(view) - blend.mean[1]!)) / blend.std[1]!;
      return 1 / (1 + Math.exp(-(platt.a * z + platt.b)));
    }
    return this.scoreFeatures(this.features(view, false));
  }
}
