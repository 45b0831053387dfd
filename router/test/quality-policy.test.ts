// The quality policy in process: its config (errors named by path), the strong-need score against its
// thresholds, per-request thresholds (router/<policy>@t, x-router-threshold), and the shipped model and config.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError } from '@llm-router/yaml-config';
import { loadRouterConfig, parseRouterConfig } from '../src/config/load.ts';
import { promptView } from '../src/classify/prompt-text.ts';
import {
  DENSE_COUNT,
  DENSE_FEATURES,
  forEachSemanticHash,
  semanticHash,
} from '../src/classify/strong-need-features.ts';
import {
  DEFAULT_STRONG_NEED_FILE,
  roundScore,
  StrongNeedScorer,
  type StrongNeedModelFile,
} from '../src/classify/strong-need.ts';
import { TaskClassifier } from '../src/classify/task-classifier.ts';
import { readPrompts } from '@llm-router/training/train';
import type { ApiError } from '../src/http/errors.ts';
import { decide } from '../src/routing/decide.ts';
import { PromptFacts } from '../src/routing/prompt-facts.ts';
import { buildPolicies } from '../src/routing/policies.ts';
import { TargetResolver } from '../src/routing/resolve-target.ts';
import { readFileSync } from 'node:fs';

const classifier = TaskClassifier.load();
const scorer = StrongNeedScorer.load(classifier);
const models = ['small', 'mid', 'big']
  .map(
    (m, i) =>
      `  - { name: ${m}, deployments: [ { id: ${m}1, api_base: "http://127.0.0.1:1/v1", model: ${m}, price: { input_per_1m: ${i + 1}, output_per_1m: ${i + 1} } } ] }`,
  )
  .join('\n');
const yaml = (policy: string) => `models:\n${models}\npolicies:\n${policy}\naliases: { cheap: router/q@0.9 }\n`;
const QUALITY = `  - { name: q, classifier: quality, models: [small, mid, big], thresholds: [0.1, 0.2] }
  - { name: t, classifier: task, routes: {}, default: small }`;
const config = parseRouterConfig(yaml(QUALITY), 'router.yaml', {});
const policies = buildPolicies(config, classifier, scorer);
const view = (text: string) => promptView([{ role: 'user', content: text }]);

const problems = (text: string) => {
  try {
    parseRouterConfig(text, 'router.yaml', {});
    return [];
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    return err.problems;
  }
};

test('quality policy config: one ascending threshold per model after the first, known models; errors name the path', () => {
  const p = problems(
    yaml(`  - { name: a, classifier: quality, models: [small, huge], thresholds: [0.2, 0.3] }
  - { name: b, classifier: quality, models: [small, mid, big], thresholds: [0.5, 0.2] }
  - { name: c, classifier: quality, models: [small], thresholds: [] }`),
  );
  assert.ok(
    p.some((m) => m.startsWith('policies[0].thresholds: give one threshold per model after the first: 1 for 2')),
    p.join('\n'),
  );
  assert.ok(
    p.some((m) => m.startsWith('policies[0].models[1]: unknown model "huge"')),
    p.join('\n'),
  );
  assert.ok(
    p.some((m) => m.startsWith('policies[1].thresholds[1]: thresholds must be ascending')),
    p.join('\n'),
  );
  assert.ok(
    p.some((m) => m.startsWith('policies[2].models: name at least two models')),
    p.join('\n'),
  );
  assert.deepEqual(config.policies[0]!.routes, { weak: 'small', mid_1: 'mid', strong: 'big' });
});

test('the strong-need score picks the last model whose threshold it reaches', () => {
  const q = policies.get('q')!;
  const texts = [
    'hi',
    'What is the capital of France?',
    'A store sells pencils at 3 for $0.75 and pens at $1.20 each. Maria buys 12 pencils and 5 pens, pays with a $20 bill, and gets a 10% discount on the pens. How much change does she get?',
    'Prove that for every prime p > 3, p^2 - 1 is divisible by 24, and explain each step of the argument carefully.',
  ];
  for (const text of texts) {
    const c = q.classify(view(text));
    assert.ok(c.score! > 0 && c.score! < 1, 'a probability');
    const want = c.score! >= 0.2 ? 'strong' : c.score! >= 0.1 ? 'mid_1' : 'weak';
    assert.equal(c.class, want, `${text}: score ${c.score}`);
    assert.equal(q.modelFor(c.class), { weak: 'small', mid_1: 'mid', strong: 'big' }[want]);
    assert.equal(c.threshold, 0.2);
    assert.ok(c.confidence >= 0.5 && c.confidence <= 1);
  }
  const scores = texts.map((t) => q.classify(view(t)).score!);
  assert.ok(scores[3]! > scores[0]!, `a proof scores above a greeting (${scores.join(', ')})`);
  assert.equal(q.classify(view('')).class, 'empty', 'no text: the cheapest model (the default)');
});

test('a per-request threshold replaces the strong one; a middle model above it is passed over', () => {
  const q = policies.get('q')!;
  const v = view('Explain why the sky is blue.');
  const s = q.classify(v).score!;
  assert.equal(q.classify(v, { threshold: 0 }).class, 'strong', 'threshold 0: everything strong');
  assert.equal(q.classify(v, { threshold: 1 }).class, s >= 0.1 ? 'mid_1' : 'weak', 'threshold 1: never strong');
  assert.equal(q.classify(v, { threshold: s }).class, 'strong', 'a score at the threshold reaches it');
  // A threshold under the middle one: the middle model is never chosen.
  const low = Math.max(0, s - 0.001);
  assert.equal(q.classify(v, { threshold: low }).class, 'strong');
  const d = decide(
    { kind: 'policy', policy: 'q', threshold: 0 },
    new PromptFacts({ messages: [{ role: 'user', content: 'hello' }] }),
    policies,
  );
  assert.ok(!(d instanceof Promise));
  assert.deepEqual([d.model, d.threshold, typeof d.score], ['big', 0, 'number']);
});

test('the resolver reads router/<policy>@t, aliases to it and x-router-threshold; bad thresholds are 400s', () => {
  const r = new TargetResolver(config);
  assert.deepEqual(r.resolve({ model: 'router/q@0.35' }, undefined), { kind: 'policy', policy: 'q', threshold: 0.35 });
  assert.deepEqual(r.resolve({ model: 'cheap' }, undefined), { kind: 'policy', policy: 'q', threshold: 0.9 });
  assert.deepEqual(r.resolve({ model: 'router/q' }, undefined, '0.25'), {
    kind: 'policy',
    policy: 'q',
    threshold: 0.25,
  });
  assert.deepEqual(
    r.resolve({ model: 'router/q@0.3' }, undefined, '0.9'),
    { kind: 'policy', policy: 'q', threshold: 0.3 },
    'the model name wins',
  );
  assert.deepEqual(
    r.resolve({ model: 'small' }, undefined, '0.3'),
    { kind: 'manual', model: 'small' },
    'ignored by name',
  );
  const err = (fn: () => unknown) => {
    try {
      fn();
      return undefined;
    } catch (e) {
      return e as ApiError;
    }
  };
  for (const [body, header, code] of [
    [{ model: 'router/q@1.5' }, undefined, 'invalid_threshold'],
    [{ model: 'router/q@abc' }, undefined, 'invalid_threshold'],
    [{ model: 'router/q@' }, undefined, 'invalid_threshold'],
    [{ model: 'router/q' }, '-0.1', 'invalid_threshold'],
    [{ model: 'router/t@0.3' }, undefined, 'threshold_not_supported'],
    [{ model: 'router/t' }, '0.3', 'threshold_not_supported'],
  ] as const) {
    const e = err(() => r.resolve(body, undefined, header));
    assert.equal(e?.status, 400, JSON.stringify(body));
    assert.equal(e?.code, code, JSON.stringify(body));
  }
  assert.equal(err(() => r.resolve({ model: 'router/nope@0.3' }, undefined))?.status, 404);
});

test('the shipped strong-need model loads, scores deterministically, and refuses a model of another format', () => {
  const v = view('Summarize the causes of the French Revolution in three bullet points.');
  assert.equal(scorer.score(v), scorer.score(v));
  assert.equal(scorer.features(v).dense.length, DENSE_COUNT);
  const file = JSON.parse(readFileSync(DEFAULT_STRONG_NEED_FILE, 'utf8')) as StrongNeedModelFile;
  assert.ok(readFileSync(DEFAULT_STRONG_NEED_FILE).length <= 5 * 2 ** 20, 'model file within 5 MB');
  assert.throws(() => new StrongNeedScorer({ ...file, format: 'x' as never }, classifier), /routing-train/);
  assert.throws(
    () => new StrongNeedScorer({ ...file, dense_features: file.dense_features.slice(1) }, classifier),
    /dense features/,
  );
});

test("the short path (length only, where the blend weighs nothing else) gives the full computation's score", () => {
  const texts = [
    ...readPrompts().map((e) => e.text),
    'Which of these is a prime?\nA. 4\nB. 6\nC. 7\nD. 9\nAnswer:',
    'Pick one:\n(A) first\n(B) second',
  ];
  let choice = 0;
  for (const t of texts) {
    const v = view(t);
    const x = scorer.features(v);
    if (x.dense[DENSE_FEATURES.indexOf('choices')]! > 0) choice++;
    assert.equal(scorer.score(v), scorer.scoreFeatures(x), t);
  }
  assert.ok(choice >= 2, 'both kinds of prompt checked');
});

test('the one-pass token hashes are those of the vocabulary words the request contains', () => {
  const text = 'The Kelvin-scale reads 273.15 at 0C; COVID-19 vaccines (mRNA) work. Émile said: naïve!';
  const seen: number[] = [];
  forEachSemanticHash(text, (h) => seen.push(h));
  assert.deepEqual(seen, (text.toLowerCase().match(/[a-z]+|\d+/g) ?? []).map(semanticHash));
});

test('a later turn of a conversation scores as its last message does (the data had single turns only)', () => {
  const ask = 'Explain how a B-tree keeps its height balanced on insert.';
  const alone = scorer.score(view(ask));
  const inConversation = scorer.score(
    promptView([
      { role: 'system', content: 'You are a database tutor.' },
      { role: 'user', content: 'What is an index?' },
      { role: 'assistant', content: 'A structure that speeds up lookups...' },
      { role: 'user', content: ask },
    ]),
  );
  assert.ok(alone > 0.01 && alone < 0.99, String(alone));
  assert.ok(Math.abs(inConversation - alone) < 1e-6, `${inConversation} vs ${alone}`);
});

test('the shipped thresholds send the shares their comment says on the project prompt set (recalibrate after retraining)', () => {
  const shipped = loadRouterConfig('config/router.yaml', {});
  const p = shipped.policies.find((x) => x.name === 'quality_router');
  assert.ok(p && p.classifier === 'quality');
  const scores = readPrompts().map((e) => roundScore(scorer.score(view(e.text))));
  const share = (t: number) => scores.filter((s) => s >= t).length / scores.length;
  assert.ok(Math.abs(share(p.thresholds[0]!) - 0.5) < 0.02, `mid or above: ${share(p.thresholds[0]!)}`);
  assert.ok(Math.abs(share(p.thresholds[1]!) - 0.2) < 0.02, `strong: ${share(p.thresholds[1]!)}`);
  assert.equal(shipped.aliases.auto, 'router/quality_router');
});
