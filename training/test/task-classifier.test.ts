import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import {
  BucketRows,
  DEFAULT_MODEL_FILE,
  TaskClassifier,
  type TaskModelFile,
} from '@llm-router/router/classify/task-classifier';
import { fitConfidenceMap, fitTemperature, serializeModel, trainFromData, readPrompts } from '../src/train.ts';
import { complexityOf, deriveTiers, evaluate } from '../src/evaluate.ts';
import { generatePrompts } from '../src/generate-prompts.ts';
import { mulberry32 } from '@llm-router/common/prng';
import { DEFAULT_PUBLIC_DATA_DIR, publicDataAvailable, readPublicPrompts, splitPublic } from '../src/public-data.ts';
import { TASK_CLASSES } from '@llm-router/common/task-classes';
import { promptView } from '@llm-router/router/classify/prompt-text';

const classifier = TaskClassifier.load();

test('bucket -> row by rank: every bucket gets its index among ascending buckets, or -1, word edges included', () => {
  const bits = 12;
  const rand = mulberry32(7);
  for (const density of [0, 0.01, 0.3, 0.97, 1]) {
    const buckets: number[] = [];
    for (let b = 0; b < 2 ** bits; b++) if (rand() < density || (density > 0 && b % 32 === 31)) buckets.push(b);
    const rows = new BucketRows(buckets, bits);
    const index = new Map(buckets.map((b, i) => [b, i]));
    for (let b = 0; b < 2 ** bits; b++) assert.equal(rows.of(b), index.get(b) ?? -1, `bucket ${b}, density ${density}`);
  }
  // The committed model: the same rows as a dense bucket -> row table.
  const model = JSON.parse(readFileSync(DEFAULT_MODEL_FILE, 'utf8')) as TaskModelFile;
  const raw = Buffer.from(model.buckets, 'base64');
  const buckets = new Uint32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));
  const rows = new BucketRows(buckets, model.hash_bits);
  const dense = new Int32Array(2 ** model.hash_bits).fill(-1);
  for (let i = 0; i < buckets.length; i++) dense[buckets[i]!] = i;
  let differ = 0;
  for (let b = 0; b < dense.length; b++) if (rows.of(b) !== dense[b]) differ++;
  assert.equal(differ, 0);
  assert.throws(
    () => new BucketRows([3, 2], bits, 'model.json: ', '; retrain'),
    /model\.json: buckets must be ascending .*row 1.*retrain/,
  );
  assert.throws(() => new BucketRows([1, 2 ** bits], bits), /below 2\^12 \(row 1\)/);
});
const hasPublic = publicDataAvailable();
const SKIP_PUBLIC = hasPublic
  ? false
  : `public data not found at ${DEFAULT_PUBLIC_DATA_DIR} (set CLASSIFIER_DATA_DIR): skipped`;

test('the committed prompt set is the generator output: >= 3,000 prompts over every class, with a held-out split', () => {
  const committed = readPrompts();
  assert.deepEqual(committed, generatePrompts());
  assert.ok(committed.length >= 3000, `${committed.length} prompts`);
  for (const c of TASK_CLASSES)
    assert.ok(
      committed.some((p) => p.label === c && p.split === 'heldout'),
      `${c} has held-out prompts`,
    );
  const trainTemplates = new Set(committed.filter((p) => p.split === 'train').map((p) => p.template));
  assert.ok(
    committed.filter((p) => p.split === 'heldout').every((p) => !trainTemplates.has(p.template)),
    'held-out templates never appear in training',
  );
});

test("held-out accuracy on the project's unseen templates is at least 0.7", () => {
  const { accuracy, examples } = evaluate(
    classifier,
    readPrompts().filter((p) => p.split === 'heldout'),
  );
  assert.ok(examples > 500);
  assert.ok(accuracy >= 0.7, `held-out accuracy ${accuracy.toFixed(3)}`);
});

test('the public split is seeded, stratified and disjoint', { skip: SKIP_PUBLIC }, () => {
  const prompts = readPublicPrompts();
  const a = splitPublic(prompts);
  assert.deepEqual(
    a.map((p) => p.split),
    splitPublic(prompts).map((p) => p.split),
    'same seed, same split',
  );
  for (const stratum of new Set(prompts.map((p) => `${p.source}/${p.category}`))) {
    const inStratum = a.filter((p) => `${p.source}/${p.category}` === stratum);
    const share = inStratum.filter((p) => p.split === 'test').length / inStratum.length;
    assert.ok(Math.abs(share - 0.15) < 0.01, `${stratum}: ${share.toFixed(3)} in test`);
  }
});

test('on held-out public prompts: accuracy >= 0.8 and calibrated confidence (ECE <= 0.05)', {
  skip: SKIP_PUBLIC,
}, () => {
  const r = evaluate(
    classifier,
    splitPublic(readPublicPrompts()).filter((p) => p.split === 'test'),
  );
  assert.ok(r.accuracy >= 0.8, `accuracy ${r.accuracy.toFixed(3)}`);
  assert.ok(r.ece <= 0.05, `expected calibration error ${r.ece.toFixed(3)}`);
  // Confident answers are right more often than unsure ones.
  const populated = r.reliability.filter((b) => b.n >= 30);
  assert.ok(populated.at(-1)!.accuracy > populated[0]!.accuracy + 0.3, JSON.stringify(populated));
});

test('retraining from the public data reproduces the committed model byte for byte', { skip: SKIP_PUBLIC }, () => {
  assert.equal(serializeModel(trainFromData()), readFileSync(DEFAULT_MODEL_FILE, 'utf8'));
});

test('temperature scaling recovers the temperature that generated the labels', () => {
  // Labels drawn from softmax(z / 2.5): the NLL-optimal temperature is ~2.5.
  const rand = mulberry32(3);
  const set = Array.from({ length: 4000 }, () => {
    const z = Float64Array.from({ length: 4 }, () => rand() * 12);
    const p = [...z].map((v) => Math.exp(v / 2.5));
    const sum = p.reduce((a, b) => a + b);
    let u = rand() * sum;
    let y = 0;
    while (u > p[y]!) u -= p[y++]!;
    return { logits: z, y: Math.min(y, 3) };
  });
  const t = fitTemperature(set);
  assert.ok(Math.abs(t - 2.5) < 0.25, `fitted ${t}`);
  const map = fitConfidenceMap(set, t);
  for (let i = 1; i < map.length; i++) {
    assert.ok(map[i]![0]! >= map[i - 1]![0]!, 'map inputs ascend');
    assert.ok(map[i]![1]! >= map[i - 1]![1]!, 'isotonic: calibrated confidence never falls as raw confidence rises');
  }
});

test('calibrated confidence interpolates the shipped map and stays in [0, 1]', () => {
  const model = JSON.parse(readFileSync(DEFAULT_MODEL_FILE, 'utf8')) as TaskModelFile;
  const c = new TaskClassifier({
    ...model,
    confidence_map: [
      [0, 0.1],
      [0.5, 0.3],
      [1, 0.9],
    ],
  });
  assert.equal(c.calibrated(0.5), 0.3);
  assert.ok(Math.abs(c.calibrated(0.75) - 0.6) < 1e-9);
  assert.ok(Math.abs(c.calibrated(0.25) - 0.2) < 1e-9);
  for (const text of ['hi', 'Write a haiku about rain', 'x'.repeat(5000)]) {
    const p = classifier.predict(text);
    assert.ok(p.confidence >= 0 && p.confidence <= 1, `${p.confidence}`);
  }
});

test("a model file whose classes differ from the router's is refused, naming the file and the fix", () => {
  const model = JSON.parse(readFileSync(DEFAULT_MODEL_FILE, 'utf8')) as TaskModelFile;
  assert.throws(
    () => new TaskClassifier({ ...model, classes: [...model.classes].reverse() }, 'x/model.json'),
    /x\/model.json: classes .* make classifier-train/,
  );
});

test('typical prompts land in the expected class', () => {
  const cases: Array<[string, string]> = [
    ['Write a Go function that parses a JSON config file and returns a struct.', 'Code Generation'],
    ['Write a SQL query to list the top 5 customers by total spend.', 'Code Generation'],
    ['Write an algorithm to solve the Tower of Hanoi problem.', 'Code Generation'],
    [
      'def count_words(text: str) -> dict:\n    """Return how often each word occurs in text.\n    >>> count_words("a b a")\n    {\'a\': 2, \'b\': 1}\n    """',
      'Code Generation',
    ],
    ['Summarize the following text: The board met on Monday and approved the budget for next year.', 'Summarization'],
    ['Give me 5 ideas for a team-building day.', 'Brainstorming'],
    ['Solve for x: 3x + 7 = 22.', 'Math/Reasoning'],
    ['A farmer has 12 cows and buys 3 times as many sheep. How many animals does he have?', 'Math/Reasoning'],
    ['Write a poem about the sea at night.', 'Text Generation'],
    ['how are you today?', 'Chatbot'],
  ];
  for (const [text, label] of cases) assert.equal(classifier.predict(text).label, label, text);
});

test('complexity sends word problems and code up, small talk and one-line facts to the cheapest tier', () => {
  const simple = 0.139; // config/router.yaml's simple tier, as make classifier-eval derives it
  for (const t of [
    'A bakery sells 24 muffins a day at $2 each and spends $15 on flour. How much profit does it make in a week?',
    'Write a Python function that merges two sorted lists.',
  ]) {
    assert.ok(complexityOf(classifier, t) > simple, t);
  }
  for (const t of ['hi there!', 'how are you today?', 'What is the capital of Canada?', 'Who wrote Hamlet?']) {
    assert.ok(complexityOf(classifier, t) <= simple, t);
  }
});

test('tier boundaries from data separate the cheap set from the hard set', () => {
  const tiers = deriveTiers([0.01, 0.02, 0.05, 0.08, 0.3], [0.2, 0.25, 0.4, 0.05], [0.2, 0.25, 0.3, 0.4, 0.5, 0.6]);
  assert.ok(tiers[0]! > 0.08 && tiers[0]! < 0.2, `cheapest tier ${tiers[0]}`);
  assert.ok(tiers[1]! >= tiers[0]! && tiers[2]! >= tiers[1]!, tiers.join(','));
  assert.equal(tiers[3], 1);
});

test('classifies what the user asked: last user turn, content parts, system prompt ignored', () => {
  const view = promptView([
    { role: 'system', content: 'You are a poet. Always write poems.' },
    { role: 'user', content: 'Write a poem about autumn.' },
    { role: 'assistant', content: 'Leaves fall...' },
    {
      role: 'user',
      content: [
        { type: 'text', text: 'Now write a Python function that' },
        { type: 'image_url', image_url: { url: 'x' } },
        { type: 'text', text: 'checks whether a string is a palindrome.' },
      ],
    },
  ]);
  assert.equal(view.request, 'Now write a Python function that\nchecks whether a string is a palindrome.');
  assert.match(view.system, /poet/);
  assert.match(view.history, /autumn/);
  assert.equal(classifier.predict(view.request).label, 'Code Generation');
});

test('empty, non-English and odd input never throw and give a valid distribution', () => {
  for (const text of [
    '',
    '   ',
    '¿Qué es la fotosíntesis?',
    '请总结这篇文章',
    '🙂🙂🙂',
    'a'.repeat(100_000),
    '\u0000\uffff',
  ]) {
    const p = classifier.predict(text);
    assert.ok(TASK_CLASSES.includes(p.label as (typeof TASK_CLASSES)[number]));
    assert.ok(Math.abs(p.probabilities.reduce((a, b) => a + b, 0) - 1) < 1e-9);
  }
  assert.equal(promptView([{ role: 'assistant', content: 'hi' }]).request, '');
});
