// Public per-prompt correctness of a strong and a weak model (../shared/routing-data: RouteLLM's MMLU and
// GSM8K answers of GPT-4 and Mixtral-8x7B, Apache-2.0), read by path at training and evaluation time and never
// copied into the repository. Split here, seeded: whole MMLU subjects held out (so a score that only learned
// "this subject is hard" shows it), plus random rows of the other subjects and of the word problems.
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { mulberry32, shuffle } from '@llm-router/common/prng';

export interface RoutingExample {
  prompt: string;
  /** MMLU subject, or "gsm8k". */
  subject: string;
  source: 'mmlu' | 'gsm8k';
  strong: boolean;
  weak: boolean;
}

export type RoutingSplit = 'train' | 'test_subjects' | 'test_rows';
export interface SplitExample extends RoutingExample {
  split: RoutingSplit;
}

export const ROUTING_FILES = { mmlu: 'mmlu-gpt4-vs-mixtral.jsonl', gsm8k: 'gsm8k-gpt4-vs-mixtral.jsonl' } as const;
/** `../shared/routing-data` beside the repository, or ROUTING_DATA_DIR. */
export const DEFAULT_ROUTING_DATA_DIR =
  process.env.ROUTING_DATA_DIR ??
  resolve(fileURLToPath(new URL('../../../', import.meta.url)), '../shared/routing-data');
export const ROUTING_SPLIT = {
  seed: 20261207,
  /** Whole MMLU subjects held out of training. */
  heldOutSubjects: 8,
  /** Random rows held out of the other subjects and of the word problems. */
  heldOutRows: 0.2,
} as const;

export const routingDataAvailable = (dir = DEFAULT_ROUTING_DATA_DIR) => existsSync(join(dir, ROUTING_FILES.mmlu));

/** Chance on MMLU's four choices: a model below it on a whole subject is an answer-parsing failure in the source. */
export const CHANCE = 0.25;

/**
 * Subjects where either model is right less often than chance: such labels say nothing about the prompts (in this
 * data, the strong model's high_school_mathematics answers: 3% right where the weak one gets 32%). Left out of
 * training and evaluation alike, and named by both.
 */
export function unusableSubjects(examples: ReadonlyArray<RoutingExample>): string[] {
  const by = new Map<string, { n: number; strong: number; weak: number }>();
  for (const e of examples) {
    if (e.source !== 'mmlu') continue;
    const s = by.get(e.subject) ?? { n: 0, strong: 0, weak: 0 };
    s.n++;
    s.strong += e.strong ? 1 : 0;
    s.weak += e.weak ? 1 : 0;
    by.set(e.subject, s);
  }
  return [...by]
    .filter(([, s]) => s.strong / s.n < CHANCE || s.weak / s.n < CHANCE)
    .map(([subject]) => subject)
    .sort();
}

/** The data less its unusable subjects (unusableSubjects). */
export function readRoutingData(dir = DEFAULT_ROUTING_DATA_DIR): RoutingExample[] {
  const all = readAllRoutingData(dir);
  const drop = new Set(unusableSubjects(all));
  return all.filter((e) => !drop.has(e.subject));
}

export function readAllRoutingData(dir = DEFAULT_ROUTING_DATA_DIR): RoutingExample[] {
  const out: RoutingExample[] = [];
  for (const source of ['mmlu', 'gsm8k'] as const) {
    const file = join(dir, ROUTING_FILES[source]);
    if (!existsSync(file))
      throw new Error(
        `${file}: not found. Pass the folder holding ${ROUTING_FILES[source]} (--data DIR or ROUTING_DATA_DIR); see docs/routing.md, "Routing on quality".`,
      );
    readFileSync(file, 'utf8')
      .split('\n')
      .forEach((line, i) => {
        if (!line.trim()) return;
        const r = JSON.parse(line) as {
          prompt?: unknown;
          subject?: unknown;
          strong_correct?: unknown;
          weak_correct?: unknown;
        };
        if (
          typeof r.prompt !== 'string' ||
          typeof r.strong_correct !== 'boolean' ||
          typeof r.weak_correct !== 'boolean'
        )
          throw new Error(`${file}:${i + 1}: needs "prompt" (string), "strong_correct" and "weak_correct" (booleans)`);
        out.push({
          prompt: r.prompt,
          subject: source === 'mmlu' ? String(r.subject ?? 'unknown') : 'gsm8k',
          source,
          strong: r.strong_correct,
          weak: r.weak_correct,
        });
      });
  }
  return out;
}

/** The held-out MMLU subjects: a seeded draw from the sorted subject list. */
export function heldOutSubjects(examples: ReadonlyArray<RoutingExample>, seed: number = ROUTING_SPLIT.seed): string[] {
  const subjects = [...new Set(examples.filter((e) => e.source === 'mmlu').map((e) => e.subject))].sort();
  return shuffle(subjects, mulberry32(seed)).slice(0, ROUTING_SPLIT.heldOutSubjects).sort();
}

/** FNV-1a of a name: a per-subject seed, so one subject's split does not depend on which others are present. */
function nameSeed(name: string, seed: number): number {
  let h = 0x811c9dc5 ^ seed;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

export function splitRouting(
  examples: ReadonlyArray<RoutingExample>,
  seed: number = ROUTING_SPLIT.seed,
): SplitExample[] {
  const held = new Set(heldOutSubjects(examples, seed));
  // Per subject (and for the word problems), a shuffle seeded by its name, cut at heldOutRows.
  const bySubject = new Map<string, number[]>();
  examples.forEach((e, i) => {
    if (held.has(e.subject)) return;
    const list = bySubject.get(e.subject);
    if (list) list.push(i);
    else bySubject.set(e.subject, [i]);
  });
  const split = new Array<RoutingSplit>(examples.length).fill('test_subjects');
  for (const [subject, rows] of bySubject) {
    const idx = shuffle(rows, mulberry32(nameSeed(subject, seed)));
    const nTest = Math.round(idx.length * ROUTING_SPLIT.heldOutRows);
    idx.forEach((p, k) => {
      split[p] = k < nTest ? 'test_rows' : 'train';
    });
  }
  return examples.map((e, i) => ({ ...e, split: split[i]! }));
}

/** Whole-subject folds of the training rows, for choosing a model by cross-validation (word problems: random). */
export function subjectFolds(train: ReadonlyArray<RoutingExample>, folds: number, seed: number): number[] {
  const rand = mulberry32(seed);
  const subjects = shuffle([...new Set(train.filter((e) => e.source === 'mmlu').map((e) => e.subject))].sort(), rand);
  const foldOf = new Map(subjects.map((s, i) => [s, i % folds]));
  return train.map((e) => (e.source === 'mmlu' ? foldOf.get(e.subject)! : Math.floor(rand() * folds)));
}
