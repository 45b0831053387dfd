// Policies in process: class -> model, doubt -> the uncertain route.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseRouterConfig } from '../src/config/load.ts';
import { TaskClassifier } from '../src/classify/task-classifier.ts';
import { buildPolicies } from '../src/routing/policies.ts';
import { decide } from '../src/routing/decide.ts';
import { PromptFacts } from '../src/routing/prompt-facts.ts';

const classifier = TaskClassifier.load();
const config = (extra: string) =>
  parseRouterConfig(
    `
models:
  - name: small
    deployments: [ { id: s1, api_base: "http://127.0.0.1:1/v1", model: s, price: { input_per_1m: 1, output_per_1m: 2 } } ]
  - name: coder
    deployments: [ { id: c1, api_base: "http://127.0.0.1:1/v1", model: c, price: { input_per_1m: 2, output_per_1m: 4 } } ]
  - name: safe
    deployments: [ { id: g1, api_base: "http://127.0.0.1:1/v1", model: g, price: { input_per_1m: 5, output_per_1m: 15 } } ]
policies:
  - name: p
    classifier: task
    routes: { Code Generation: coder }
    default: small
${extra}
`,
    'router.yaml',
    {},
  );
const route = (extra: string, text: string) => {
  const d = decide(
    { kind: 'policy' as const, policy: 'p' },
    new PromptFacts({ messages: [{ role: 'user', content: text }] }),
    buildPolicies(config(extra), classifier),
  );
  assert.ok(!(d instanceof Promise), 'built-in classifiers decide synchronously');
  return d;
};

const CODE = 'Write a Python function that merges two sorted lists.';
const VAGUE = 'Tell me about it.';

test('without min_confidence every classification is acted on', () => {
  assert.equal(classifier.predict(VAGUE).confidence < 0.5, true, 'the vague prompt is one the model is unsure of');
  const d = route('', VAGUE);
  assert.notEqual(d.class, 'uncertain');
  assert.equal(d.predicted, undefined);
});

test('a classification under min_confidence is "uncertain" and goes to the uncertain model, keeping what was predicted', () => {
  const extra = '    min_confidence: 0.5\n    uncertain: safe';
  const vague = route(extra, VAGUE);
  assert.equal(vague.class, 'uncertain');
  assert.equal(vague.model, 'safe');
  assert.equal(vague.predicted, classifier.predict(VAGUE).label);
  assert.ok(vague.confidence < 0.5);
  const code = route(extra, CODE);
  assert.equal(code.class, 'Code Generation', 'a confident classification is routed as usual');
  assert.equal(code.model, 'coder');
});

test('the uncertain model defaults to the policy default; empty prompts stay "empty"', () => {
  const d = route('    min_confidence: 0.99', VAGUE);
  assert.equal(d.class, 'uncertain');
  assert.equal(d.model, 'small');
  assert.equal(route('    min_confidence: 0.99', '').class, 'empty');
});

test('an unknown uncertain model is a config error naming the path', () => {
  assert.throws(
    () => config('    min_confidence: 0.5\n    uncertain: nope'),
    /policies\[0\]\.uncertain: unknown model "nope"/,
  );
});
