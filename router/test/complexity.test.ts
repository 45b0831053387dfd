import { test } from 'node:test';
import assert from 'node:assert/strict';
import { COMPLEXITY_WEIGHTS, scoreComplexity } from '../src/classify/complexity.ts';
import { promptView } from '../src/classify/prompt-text.ts';

const score = (text: string, system = '') => scoreComplexity(promptView([...(system ? [{ role: 'system', content: system }] : []), { role: 'user', content: text }]));

test('weights are NVIDIA\'s and sum to 1', () => {
  assert.equal(Object.values(COMPLEXITY_WEIGHTS).reduce((a, b) => a + b, 0).toFixed(6), '1.000000');
  assert.equal(COMPLEXITY_WEIGHTS.creativity, 0.35);
  assert.equal(COMPLEXITY_WEIGHTS.reasoning, 0.25);
});

test('overall is the weighted sum of the dimensions', () => {
  const s = score('Write a creative story, then explain step by step why the plot works, in exactly 200 words as JSON.');
  const sum = Object.entries(COMPLEXITY_WEIGHTS).reduce((a, [k, w]) => a + w * s[k as keyof typeof COMPLEXITY_WEIGHTS], 0);
  assert.ok(Math.abs(s.overall - sum) < 0.005);
});

test('each dimension responds to its own cues', () => {
  const plain = score('hello');
  assert.ok(score('Write an original poem and a short story with a twist').creativity > plain.creativity + 0.5);
  assert.ok(score('Prove the theorem and derive the result step by step; explain why').reasoning > 0.5);
  assert.ok(score('Answer in exactly 3 bullet points, at most 50 words, formatted as JSON').constraints > 0.5);
  assert.ok(score('What dosage adjustments apply for patients with renal impairment under GDPR compliance?').domain_knowledge > 0.5);
  assert.ok(score('Example 1: input: a output: b. Example 2: input: c output: d. Now do e').few_shot > 0.5);
  assert.ok(score(`Context: ${'lorem ipsum '.repeat(200)}\n\nWhat is it about?`).contextual_knowledge > 0.5);
});

test('a hard multi-part request scores above a greeting', () => {
  assert.ok(score('hi there').overall < 0.1);
  assert.ok(score('Imagine a novel plot about a quantum compiler; explain step by step why it works, in at most 300 words, as JSON.').overall > 0.4);
});
