import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { DEFAULT_MODEL_FILE, TaskClassifier } from '../src/classify/task-classifier.ts';
import { serializeModel, train, readPrompts } from '../src/classify/training/train.ts';
import { evaluate } from '../src/classify/training/evaluate.ts';
import { generatePrompts } from '../src/classify/training/generate-prompts.ts';
import { TASK_CLASSES } from '../src/classify/training/prompt-templates.ts';
import { promptView } from '../src/classify/prompt-text.ts';

const classifier = TaskClassifier.load();

test('the committed prompt set is the generator output: >= 1,500 prompts over every class, with a held-out split', () => {
  const committed = readPrompts();
  assert.deepEqual(committed, generatePrompts());
  assert.ok(committed.length >= 1500, `${committed.length} prompts`);
  for (const c of TASK_CLASSES) assert.ok(committed.some((p) => p.label === c && p.split === 'heldout'), `${c} has held-out prompts`);
  const trainTemplates = new Set(committed.filter((p) => p.split === 'train').map((p) => p.template));
  assert.ok(committed.filter((p) => p.split === 'heldout').every((p) => !trainTemplates.has(p.template)), 'held-out templates never appear in training');
});

test('held-out accuracy on unseen templates is at least 0.75', () => {
  const { accuracy, examples } = evaluate(classifier, 'heldout');
  assert.ok(examples > 300);
  assert.ok(accuracy >= 0.75, `held-out accuracy ${accuracy.toFixed(3)}`);
});

test('retraining reproduces the committed model byte for byte', () => {
  const model = train(readPrompts().filter((p) => p.split === 'train'));
  assert.equal(serializeModel(model), readFileSync(DEFAULT_MODEL_FILE, 'utf8'));
});

test('typical prompts land in the expected class', () => {
  const cases: Array<[string, string]> = [
    ['Write a Go function that parses a JSON config file and returns a struct.', 'Code Generation'],
    ['Summarize the following text: The board met on Monday and approved the budget for next year.', 'Summarization'],
    ['Give me 5 ideas for a team-building day.', 'Brainstorming'],
    ['Solve for x: 3x + 7 = 22.', 'Math/Reasoning'],
    ['Write a poem about the sea at night.', 'Text Generation'],
  ];
  for (const [text, label] of cases) assert.equal(classifier.predict(text).label, label, text);
});

test('classifies what the user asked: last user turn, content parts, system prompt ignored', () => {
  const view = promptView([
    { role: 'system', content: 'You are a poet. Always write poems.' },
    { role: 'user', content: 'Write a poem about autumn.' },
    { role: 'assistant', content: 'Leaves fall...' },
    { role: 'user', content: [{ type: 'text', text: 'Now write a Python function that' }, { type: 'image_url', image_url: { url: 'x' } }, { type: 'text', text: 'checks whether a string is a palindrome.' }] },
  ]);
  assert.equal(view.request, 'Now write a Python function that\nchecks whether a string is a palindrome.');
  assert.match(view.system, /poet/);
  assert.match(view.history, /autumn/);
  assert.equal(classifier.predict(view.request).label, 'Code Generation');
});

test('empty, non-English and odd input never throw and give a valid distribution', () => {
  for (const text of ['', '   ', '¿Qué es la fotosíntesis?', '请总结这篇文章', '🙂🙂🙂', 'a'.repeat(100_000), '\u0000\uffff']) {
    const p = classifier.predict(text);
    assert.ok(TASK_CLASSES.includes(p.label as (typeof TASK_CLASSES)[number]));
    assert.ok(Math.abs(p.probabilities.reduce((a, b) => a + b, 0) - 1) < 1e-9);
  }
  assert.equal(promptView([{ role: 'assistant', content: 'hi' }]).request, '');
});
