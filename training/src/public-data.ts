// Public labeled prompts (../shared/classifier-data: Dolly-15k, CC BY-SA 3.0; GSM8K train, MIT), read from
// their folder at training and evaluation time and never copied into the repository. Split here, seeded
// and stratified by source/category, into train / calibration (fits the confidence temperature) / test
// (only ever evaluated).
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TASK_CLASSES } from '@llm-router/common/task-classes';
import { mulberry32 } from '@llm-router/common/prng';

export interface PublicPrompt {
  text: string;
  label: string;
  source: string;
  category: string;
}
export type PublicSplit = 'train' | 'calibration' | 'test';
export interface SplitPrompt extends PublicPrompt {
  split: PublicSplit;
}

export const PUBLIC_DATA_FILE = 'public-train.jsonl';
/** `../shared/classifier-data` beside the repository, or CLASSIFIER_DATA_DIR. */
export const DEFAULT_PUBLIC_DATA_DIR =
  process.env.CLASSIFIER_DATA_DIR ??
  resolve(fileURLToPath(new URL('../../', import.meta.url)), '../shared/classifier-data');
export const SPLIT = { seed: 20261129, test: 0.15, calibration: 0.1 } as const;

export const publicDataAvailable = (dir = DEFAULT_PUBLIC_DATA_DIR) => existsSync(join(dir, PUBLIC_DATA_FILE));

export function readPublicPrompts(dir = DEFAULT_PUBLIC_DATA_DIR): PublicPrompt[] {
  const file = join(dir, PUBLIC_DATA_FILE);
  if (!existsSync(file)) {
    throw new Error(
      `${file}: not found. Pass the folder holding ${PUBLIC_DATA_FILE} (--data DIR or CLASSIFIER_DATA_DIR); see docs/routing.md, "The built-in task classifier".`,
    );
  }
  const known = new Set<string>(TASK_CLASSES);
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line, i) => {
      const p = JSON.parse(line) as PublicPrompt;
      if (typeof p.text !== 'string' || !known.has(p.label))
        throw new Error(`${file}:${i + 1}: needs "text" and a "label" among ${TASK_CLASSES.join(', ')}`);
      return p;
    });
}

/** Each source/category stratum shuffled with a fixed seed, then cut: test first, calibration next, train the rest. */
export function splitPublic(prompts: PublicPrompt[], seed: number = SPLIT.seed): SplitPrompt[] {
  const strata = new Map<string, number[]>();
  prompts.forEach((p, i) => {
    const key = `${p.source}/${p.category}`;
    const list = strata.get(key);
    if (list) list.push(i);
    else strata.set(key, [i]);
  });
  const split = new Array<PublicSplit>(prompts.length);
  const rand = mulberry32(seed);
  for (const key of [...strata.keys()].sort()) {
    const idx = strata.get(key)!;
    for (let i = idx.length - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1));
      [idx[i], idx[j]] = [idx[j]!, idx[i]!];
    }
    const nTest = Math.round(idx.length * SPLIT.test);
    const nCal = Math.round(idx.length * SPLIT.calibration);
    idx.forEach((p, k) => {
      split[p] = k < nTest ? 'test' : k < nTest + nCal ? 'calibration' : 'train';
    });
  }
  return prompts.map((p, i) => ({ ...p, split: split[i]! }));
}
