import { test } from 'node:test';
import assert from 'node:assert/strict';
import { COMPLEXITY_WEIGHTS, scoreComplexity } from '../src/classify/complexity.ts';
import { promptView, WINDOW_HEAD_CHARS, WINDOW_TAIL_CHARS } from '../src/classify/prompt-text.ts';

const score = (text: string, system = '') =>
  scoreComplexity(
    promptView([...(system ? [{ role: 'system', content: system }] : []), { role: 'user', content: text }]),
  );

test("weights are NVIDIA's and sum to 1", () => {
  assert.equal(
    Object.values(COMPLEXITY_WEIGHTS)
      .reduce((a, b) => a + b, 0)
      .toFixed(6),
    '1.000000',
  );
  assert.equal(COMPLEXITY_WEIGHTS.creativity, 0.35);
  assert.equal(COMPLEXITY_WEIGHTS.reasoning, 0.25);
});

test('overall is the weighted sum of the dimensions', () => {
  const s = score(
    'Write a creative story, then explain step by step why the plot works, in exactly 200 words as JSON.',
  );
  const sum = Object.entries(COMPLEXITY_WEIGHTS).reduce(
    (a, [k, w]) => a + w * s[k as keyof typeof COMPLEXITY_WEIGHTS],
    0,
  );
  assert.ok(Math.abs(s.overall - sum) < 0.005);
});

test('each dimension responds to its own cues', () => {
  const plain = score('hello');
  assert.ok(score('Write an original poem and a short story with a twist').creativity > plain.creativity + 0.5);
  assert.ok(score('Prove the theorem and derive the result step by step; explain why').reasoning > 0.5);
  assert.ok(score('Answer in exactly 3 bullet points, at most 50 words, formatted as JSON').constraints > 0.5);
  assert.ok(
    score('What dosage adjustments apply for patients with renal impairment under GDPR compliance?').domain_knowledge >
      0.5,
  );
  assert.ok(score('Example 1: input: a output: b. Example 2: input: c output: d. Now do e').few_shot > 0.5);
  assert.ok(score(`Context: ${'lorem ipsum '.repeat(200)}\n\nWhat is it about?`).contextual_knowledge > 0.5);
});

test('a hard multi-part request scores above a greeting', () => {
  assert.ok(score('hi there').overall < 0.1);
  assert.ok(
    score(
      'Imagine a novel plot about a quantum compiler; explain step by step why it works, in at most 300 words, as JSON.',
    ).overall > 0.4,
  );
});

test('long prompts are classified from a bounded window: head and tail, with the full length still counted', () => {
  const doc = Array.from({ length: 20_000 }, (_, i) => `word${i % 50}`).join(' ');
  const text = `Summarize the following report in three bullet points:\n\n${doc}\n\nKeep it under 50 words.`;
  const view = promptView([{ role: 'user', content: text }]);
  assert.ok(view.request.length <= WINDOW_HEAD_CHARS + WINDOW_TAIL_CHARS + 3, `window of ${view.request.length} chars`);
  assert.ok(view.request.startsWith('Summarize the following report'));
  assert.ok(view.request.endsWith('Keep it under 50 words.'));
  const fullWords = text.split(/\s+/).filter(Boolean).length;
  assert.ok(
    Math.abs(view.requestWords - fullWords) / fullWords < 0.15,
    `estimated ${view.requestWords} words of ${fullWords}`,
  );
  assert.ok(scoreComplexity(view).contextual_knowledge > 0.9, 'a long document still counts as heavy context');
  const short = 'What is the capital of France?';
  assert.equal(promptView([{ role: 'user', content: short }]).request, short, 'short prompts are untouched');
  assert.equal(promptView([{ role: 'user', content: short }]).requestWords, 6);
});
