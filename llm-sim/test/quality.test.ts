// Simulated quality: deterministic, falling with difficulty, rising with the model's level; the judge reads marks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ANSWER_MARK, answersRight, judgeVerdict, promptDifficulty } from '../src/quality.ts';

const prompts = Array.from({ length: 400 }, (_, i) =>
  i % 2
    ? `Prove step by step that the algorithm for case ${i} has complexity O(n log n), then derive the bound ${i * 37}. `.repeat(
        1 + (i % 5),
      )
    : `hi ${i}`,
);
const rightShare = (quality: number, list = prompts) =>
  list.filter((p) => answersRight('m', quality, p)).length / list.length;

test('difficulty is deterministic, and long technical prompts are harder than short chat', () => {
  assert.equal(promptDifficulty(prompts[1]!), promptDifficulty(prompts[1]!));
  const mean = (list: string[]) => list.reduce((s, p) => s + promptDifficulty(p), 0) / list.length;
  assert.ok(mean(prompts.filter((_, i) => i % 2)) > mean(prompts.filter((_, i) => !(i % 2))) + 0.2);
});

test('a better model answers more prompts right; hard prompts less often than easy ones', () => {
  assert.ok(rightShare(0.9) > rightShare(0.5) + 0.2, `${rightShare(0.9)} vs ${rightShare(0.5)}`);
  const hard = prompts.filter((_, i) => i % 2);
  const easy = prompts.filter((_, i) => !(i % 2));
  assert.ok(rightShare(0.5, easy) > rightShare(0.5, hard) + 0.3);
  assert.equal(answersRight('m', 0.7, prompts[3]!), answersRight('m', 0.7, prompts[3]!), 'deterministic');
});

test('the judge compares the marks of answer A and answer B', () => {
  const ask = (a: string, b: string) => `Compare.\n[Request]\nq\n[Answer A]\n${a}\n[Answer B]\n${b}\n[End]`;
  const right = `Fine answer.${ANSWER_MARK.right}`;
  const wrong = `Fine answer.${ANSWER_MARK.wrong}`;
  assert.equal(judgeVerdict(ask(right, wrong)), 'A');
  assert.equal(judgeVerdict(ask(wrong, right)), 'B');
  assert.equal(judgeVerdict(ask(right, right)), 'SAME');
  assert.equal(judgeVerdict(ask(wrong, wrong)), 'SAME');
  assert.equal(judgeVerdict('an ordinary prompt'), undefined);
});
