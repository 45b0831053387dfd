// Logistic regression over a strong-need feature vector (dense block standardised, hashed words after it),
// trained with Adagrad over seeded shuffles in float64: the same data gives the same weights, bit for bit. The
// dense block may be longer than the runtime's (training appends the mean word embedding: see embeddings.ts).
import { mulberry32, shuffle } from '@llm-router/common/prng';
import { WORD_HASH_BITS, type SparseFeatures } from '@llm-router/router/classify/strong-need-features';

export interface LogisticOptions {
  epochs: number;
  learningRate: number;
  /** L2 penalty on the dense weights and on the word weights (per example seen). */
  l2Dense: number;
  l2Words: number;
  /** Use the hashed words at all. */
  words: boolean;
  /**
   * Learn a bias per group (subject) beside the shared weights, and drop it after training ("fixed effects"):
   * the group biases take up how hard each subject is, so the shared weights learn what makes a prompt harder
   * than others of its kind — what carries to subjects never seen.
   */
  groupBias: boolean;
  /** Dense features used (by index; absent: all): the others keep weight 0. */
  use?: ReadonlyArray<boolean>;
  seed: number;
}

export interface LogisticModel {
  mean: Float64Array;
  std: Float64Array;
  dense: Float64Array;
  words: Float64Array;
  bias: number;
}

export function standardiser(xs: ReadonlyArray<SparseFeatures>): { mean: Float64Array; std: Float64Array } {
  const d = xs[0]!.dense.length;
  const mean = new Float64Array(d);
  const std = new Float64Array(d);
  for (const x of xs) for (let j = 0; j < d; j++) mean[j]! += x.dense[j]! / xs.length;
  for (const x of xs) for (let j = 0; j < d; j++) std[j]! += (x.dense[j]! - mean[j]!) ** 2 / xs.length;
  // A feature constant in the data (all prompts single-turn, say) keeps std 1: rounding leaves its variance a
  // hair above 0, and dividing by that would turn float noise into a huge weight on it.
  for (let j = 0; j < d; j++) std[j] = std[j]! > 1e-12 ? Math.sqrt(std[j]!) : 1;
  return { mean, std };
}

export function logit(m: LogisticModel, x: SparseFeatures): number {
  let z = m.bias;
  for (let j = 0; j < m.dense.length; j++) z += m.dense[j]! * ((x.dense[j]! - m.mean[j]!) / m.std[j]!);
  if (m.words.length && x.words.length) {
    const scale = 1 / Math.sqrt(x.words.length);
    for (const b of x.words) z += m.words[b]! * scale;
  }
  return z;
}

const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));

/** Fits P(y = 1 | x); y may be fractional (a soft label), w weights each example. */
export function fitLogistic(
  xs: ReadonlyArray<SparseFeatures>,
  ys: ReadonlyArray<number>,
  opts: LogisticOptions,
  ws?: ReadonlyArray<number>,
  groups?: ReadonlyArray<number>,
): LogisticModel {
  const nGroups = opts.groupBias && groups ? Math.max(...groups) + 1 : 0;
  const gb = new Float64Array(nGroups);
  const ggb = new Float64Array(nGroups).fill(1e-8);
  const { mean, std } = standardiser(xs);
  const d = mean.length;
  const use = opts.use ?? new Array<boolean>(d).fill(true);
  const m: LogisticModel = {
    mean,
    std,
    dense: new Float64Array(d),
    words: new Float64Array(opts.words ? 2 ** WORD_HASH_BITS : 0),
    bias: 0,
  };
  const gDense = new Float64Array(d).fill(1e-8);
  const gWords = new Float64Array(m.words.length).fill(1e-8);
  let gBias = 1e-8;
  const rand = mulberry32(opts.seed);
  const order = xs.map((_, i) => i);
  const zx = new Float64Array(d);
  for (let epoch = 0; epoch < opts.epochs; epoch++) {
    for (const k of shuffle(order, rand)) {
      const x = xs[k]!;
      for (let j = 0; j < d; j++) zx[j] = use[j] ? (x.dense[j]! - mean[j]!) / std[j]! : 0;
      const xw: SparseFeatures = opts.words ? x : { dense: x.dense, words: [] };
      const group = nGroups ? groups![k]! : -1;
      const p = sigmoid(logit(m, xw) + (group >= 0 ? gb[group]! : 0));
      const g = (p - ys[k]!) * (ws?.[k] ?? 1);
      if (group >= 0) {
        ggb[group]! += g * g;
        gb[group]! -= (opts.learningRate * g) / Math.sqrt(ggb[group]!);
      }
      gBias += g * g;
      m.bias -= (opts.learningRate * g) / Math.sqrt(gBias);
      for (let j = 0; j < d; j++) {
        if (!use[j]) continue;
        const gj = g * zx[j]! + opts.l2Dense * m.dense[j]!;
        gDense[j]! += gj * gj;
        m.dense[j]! -= (opts.learningRate * gj) / Math.sqrt(gDense[j]!);
      }
      if (opts.words && x.words.length) {
        const scale = 1 / Math.sqrt(x.words.length);
        for (const b of x.words) {
          const gj = g * scale + opts.l2Words * m.words[b]!;
          gWords[b]! += gj * gj;
          m.words[b]! -= (opts.learningRate * gj) / Math.sqrt(gWords[b]!);
        }
      }
    }
  }
  // The shared bias stands for an average group: add the groups' mean offset (weighted by their sizes).
  if (nGroups) {
    let sum = 0;
    for (const g of groups!) sum += gb[g]!;
    m.bias += sum / groups!.length;
  }
  return m;
}

export const predict = (m: LogisticModel, x: SparseFeatures) => sigmoid(logit(m, x));
