// The strong-need score's data split and training on a small made-up data set in the routing data's format:
// whole subjects held out, subjects below chance left out, and the same data giving the same model file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mulberry32 } from '@llm-router/common/prng';
import { promptView } from '@llm-router/router/classify/prompt-text';
import { StrongNeedScorer } from '@llm-router/router/classify/strong-need';
import { semanticHash } from '@llm-router/router/classify/strong-need-features';
import { TaskClassifier } from '@llm-router/router/classify/task-classifier';
import {
  heldOutSubjects,
  readAllRoutingData,
  readRoutingData,
  ROUTING_FILES,
  ROUTING_SPLIT,
  splitRouting,
  unusableSubjects,
} from '../src/routing/data.ts';
import { trainStrongNeed } from '../src/routing/train.ts';
import { EmbeddingIndex, type Embeddings } from '../src/routing/embeddings.ts';

/** 14 subjects x 30 questions and 60 word problems; in "broken" the strong model is below chance. */
function writeData(dir: string) {
  const rand = mulberry32(9);
  const mmlu: string[] = [];
  for (let s = 0; s < 14; s++) {
    const subject = s === 13 ? 'broken' : `subject_${s}`;
    for (let q = 0; q < 30; q++) {
      const long = rand() < 0.5;
      const words = Array.from({ length: long ? 40 : 8 }, (_, k) => `w${(s * 7 + k + q) % 50}`).join(' ');
      const prompt = `${words} ${q}?\nA. ${q}\nB. ${q + 1}\nC. ${q + 2}\nD. ${q + 3}\nAnswer:`;
      // Long questions: the weak model fails more often.
      const weak = rand() < (long ? 0.4 : 0.8);
      const strong = subject === 'broken' ? rand() < 0.05 : rand() < 0.9;
      mmlu.push(JSON.stringify({ prompt, subject, strong_correct: strong, weak_correct: weak }));
    }
  }
  const gsm: string[] = [];
  for (let q = 0; q < 60; q++) {
    const n = 1 + (q % 6);
    const prompt = `${Array.from({ length: n }, (_, k) => `Ann has ${k + q} apples and buys ${k + 2} more.`).join(' ')} How many now?`;
    gsm.push(JSON.stringify({ prompt, strong_correct: rand() < 0.9, weak_correct: rand() < 1 - n / 8 }));
  }
  writeFileSync(join(dir, ROUTING_FILES.mmlu), `${mmlu.join('\n')}\n`);
  writeFileSync(join(dir, ROUTING_FILES.gsm8k), `${gsm.join('\n')}\n`);
}

const dir = mkdtempSync(join(tmpdir(), 'routing-data-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));
writeData(dir);

test('subjects below chance are left out; whole subjects are held out, the rest split by rows', () => {
  assert.deepEqual(unusableSubjects(readAllRoutingData(dir)), ['broken']);
  const rows = readRoutingData(dir);
  assert.ok(!rows.some((r) => r.subject === 'broken'));
  const split = splitRouting(rows);
  const held = new Set(heldOutSubjects(rows));
  assert.equal(held.size, ROUTING_SPLIT.heldOutSubjects);
  for (const r of split) assert.equal(r.split === 'test_subjects', held.has(r.subject), r.subject);
  const trainSubjects = new Set(split.filter((r) => r.split === 'train').map((r) => r.subject));
  assert.ok(![...held].some((s) => trainSubjects.has(s)), 'no held-out subject is trained on');
  const gsm = split.filter((r) => r.source === 'gsm8k');
  const gsmTest = gsm.filter((r) => r.split === 'test_rows').length;
  assert.equal(gsmTest, Math.round(gsm.length * ROUTING_SPLIT.heldOutRows));
  // A subject's split does not depend on which other subjects are present.
  const without = splitRouting(rows.filter((r) => r.subject !== 'subject_0' && r.subject !== 'subject_1'));
  const gsmAgain = without.filter((r) => r.source === 'gsm8k').map((r) => r.split);
  assert.deepEqual(
    gsmAgain,
    gsm.map((r) => r.split),
  );
});

test('training is deterministic and its file loads and scores', () => {
  const classifier = TaskClassifier.load();
  const rows = splitRouting(readRoutingData(dir)).filter((r) => r.split === 'train');
  const quiet = () => {};
  const a = trainStrongNeed(rows, classifier, quiet);
  const b = trainStrongNeed(rows, classifier, quiet);
  assert.equal(JSON.stringify(a), JSON.stringify(b));
  const scorer = new StrongNeedScorer(a, classifier);
  const short = scorer.score(promptView([{ role: 'user', content: 'w1 w2 3?\nA. 1\nB. 2\nC. 3\nD. 4\nAnswer:' }]));
  const long = scorer.score(
    promptView([
      {
        role: 'user',
        content: `${Array.from({ length: 40 }, (_, k) => `w${k}`).join(' ')} 3?\nA. 1\nB. 2\nC. 3\nD. 4\nAnswer:`,
      },
    ]),
  );
  assert.ok(short > 0 && short < 1 && long > 0 && long < 1);
  assert.ok(long > short, `what the data says: long questions need the strong model more (${long} vs ${short})`);
  const candidates = (a.selection as { candidates: unknown[] }).candidates;
  assert.equal(candidates.length, 8, 'every candidate without word meanings measured and kept in the file');
});

/** 60 made-up words in 4 dimensions; "hard" words point one way, the rest another. */
function fakeEmbeddings(): Embeddings {
  const rand = mulberry32(4);
  const words = Array.from({ length: 60 }, (_, i) => (i < 10 ? `hard${String.fromCharCode(97 + i)}` : `w${i}`));
  const vectors = new Float32Array(words.length * 4);
  words.forEach((w, i) => {
    for (let j = 0; j < 4; j++) vectors[i * 4 + j] = (w.startsWith('hard') && j === 0 ? 2 : 0) + rand() - 0.5;
  });
  return { source: 'made up', dims: 4, words, vectors };
}

test('word meanings fold into one value per word: the mean of the values plus a constant is the linear term', () => {
  const index = new EmbeddingIndex(fakeEmbeddings());
  const weights = [0.7, -0.2, 0.1, 0.4];
  const mean = [0.3, -0.1, 0.05, 0];
  const std = [0.9, 0.5, 1.2, 0.8];
  const { hashes, values, constant } = index.fold(weights, mean, std);
  for (const text of ['harda w12 W13 hardb', 'nothing known here', 'w1 w2 w3 42']) {
    const v = index.mean(text);
    let direct = 0;
    for (let j = 0; j < 4; j++) direct += (weights[j]! * (v[j]! - mean[j]!)) / std[j]!;
    let sum = 0;
    let n = 0;
    for (const t of text.toLowerCase().match(/[a-z]+|\d+/g) ?? []) {
      const k = hashes.indexOf(semanticHash(t));
      if (k >= 0) (sum += values[k]!), n++;
    }
    assert.ok(Math.abs((n ? sum / n : 0) + constant - direct) < 1e-9, text);
  }
});

test('trained with word meanings, the model file keeps a word table that moves the score the way the data does', () => {
  const rows = splitRouting(readRoutingData(dir)).filter((r) => r.split === 'train');
  // Prompts that use "hard" words: the weak model fails them.
  const hard = rows.map((r, i) =>
    i % 2 === 0 ? { ...r, prompt: `hardc hardd ${r.prompt}`, weak: false, strong: true } : r,
  );
  const file = trainStrongNeed(hard, TaskClassifier.load(), () => {}, fakeEmbeddings());
  assert.ok(file.semantic, 'the chosen candidate weighs word meanings');
  const scorer = new StrongNeedScorer(file, TaskClassifier.load());
  const q = (text: string) =>
    scorer.score(promptView([{ role: 'user', content: `${text}\nA. 1\nB. 2\nC. 3\nD. 4\nAnswer:` }]));
  assert.ok(q('hardc hardd hardf which one?') > q('w20 w21 w22 which one?'));
  assert.deepEqual(
    trainStrongNeed(hard, TaskClassifier.load(), () => {}, fakeEmbeddings()),
    file,
    'deterministic',
  );
});
