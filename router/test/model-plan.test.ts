// Model plans in process: ModelPlanner remembers the config's part of a plan and answers exactly as planModels.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseRouterConfig } from '../src/config/load.ts';
import { TaskClassifier } from '../src/classify/task-classifier.ts';
import { ENDPOINT_SPECS } from '../src/http/endpoints.ts';
import { ApiError } from '../src/http/errors.ts';
import type { Capability } from '../src/routing/capabilities.ts';
import { ModelPlanner, planModels } from '../src/routing/model-plan.ts';
import { buildPolicies } from '../src/routing/policies.ts';

const config = parseRouterConfig(
  `
models:
  - name: small
    context_window: 100
    capabilities: [tools]
    fallbacks: [mid]
    deployments: [ { id: s1, api_base: "http://127.0.0.1:1/v1", model: s, price: { input_per_1m: 1, output_per_1m: 2 } } ]
  - name: mid
    context_window: 1000
    capabilities: [tools, vision]
    deployments: [ { id: m1, api_base: "http://127.0.0.1:1/v1", model: m, price: { input_per_1m: 2, output_per_1m: 4 } } ]
  - name: big
    capabilities: [tools]
    deployments: [ { id: b1, api_base: "http://127.0.0.1:1/v1", model: b, price: { input_per_1m: 5, output_per_1m: 15 } } ]
policies:
  - name: p
    classifier: task
    routes: {}
    default: small
    fallbacks: [big]
`,
  'router.yaml',
  {},
);
const models = new Map(config.models.map((m) => [m.name, m]));
const policy = buildPolicies(config, TaskClassifier.load()).get('p');
const endpoint = ENDPOINT_SPECS.chat;

/** planModels' answer, or the error it throws, as comparable data. */
const outcome = (f: () => unknown) => {
  try {
    return f();
  } catch (err) {
    assert.ok(err instanceof ApiError);
    return { status: err.status, code: err.code, message: err.message };
  }
};

test('a remembered plan is the same answer as planning afresh, for prompts that fit and ones that do not', () => {
  const planner = new ModelPlanner(endpoint, models);
  const cases: Array<[string, Capability[], number]> = [
    ['small', [], 10],
    ['small', [], 100],
    ['small', [], 101], // past small's window: mid is first, and the skip says why
    ['small', [], 1001], // past mid's too: big (no window) is left
    ['small', [], 10], // back under: the remembered plan again
    ['small', ['vision'], 10], // small lacks vision: mid first, skipped for the capability
    ['small', ['vision'], 5000], // mid is the only vision model and too small
    ['big', [], 5000],
    ['big', ['vision'], 10], // big lacks vision; mid, through the policy's capable fallbacks
  ];
  for (const [decidedModel, needs, promptTokens] of cases) {
    const expected = outcome(() => planModels({ decidedModel, policy, endpoint, needs, promptTokens, models }));
    for (let i = 0; i < 2; i++)
      assert.deepEqual(
        outcome(() => planner.plan(decidedModel, policy, needs, promptTokens)),
        expected,
        `${decidedModel} ${needs.join()} ${promptTokens} tokens (call ${i + 1})`,
      );
  }
});

test('a plan is remembered: the same object while the prompt fits, a new one past a window', () => {
  const planner = new ModelPlanner(endpoint, models);
  const first = planner.plan('small', policy, [], 10);
  assert.deepEqual(first, { models: ['small', 'mid', 'big'] });
  assert.equal(planner.plan('small', policy, [], 100), first, 'remembered, not planned again');
  const long = planner.plan('small', policy, [], 500);
  assert.deepEqual(long, { models: ['mid', 'big'], firstSkip: 'context_window' });
  assert.notEqual(planner.plan('small', policy, ['vision'], 10), first, 'other needs, another plan');
  assert.notEqual(planner.plan('small', undefined, [], 10), first, 'routed by name (no policy), another plan');
  assert.deepEqual(planner.plan('small', undefined, [], 10), { models: ['small', 'mid'] });
});
