import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError } from '@llm-router/yaml-config';
import { loadRouterConfig, parseRouterConfig } from '../src/config/load.ts';

const models = `
models:
  - name: small
    deployments:
      - { id: s1, api_base: "http://127.0.0.1:1/v1", model: s, price: { input_per_1m: 1, output_per_1m: 2 } }
  - name: big
    deployments:
      - { id: b1, api_base: "http://127.0.0.1:1/v1", model: b, price: { input_per_1m: 5, output_per_1m: 15 } }
`;

const problems = (yaml: string) => {
  try {
    parseRouterConfig(yaml, 'router.yaml', {});
    return [];
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    return err.problems;
  }
};

test('the shipped config/router.yaml is valid', () => {
  const cfg = loadRouterConfig('config/router.yaml', {});
  assert.ok(cfg.models.length >= 5);
  assert.deepEqual(
    cfg.policies.map((p) => p.name),
    ['task_router', 'complexity_router', 'quality_router'],
  );
});

test('config/providers.example.yaml is valid: one model per provider, keys from the environment', () => {
  const keys = ['OPENAI_API_KEY', 'AZURE_OPENAI_KEY', 'ANTHROPIC_API_KEY', 'GEMINI_API_KEY', 'AWS_ACCESS_KEY_ID'];
  const env = Object.fromEntries([...keys, 'AWS_SECRET_ACCESS_KEY'].map((k) => [k, `${k}-value`]));
  const cfg = loadRouterConfig('config/providers.example.yaml', env);
  assert.deepEqual(
    cfg.models.map((m) => m.deployments[0]!.provider),
    ['openai', 'azure', 'anthropic', 'gemini', 'bedrock'],
  );
  assert.throws(() => loadRouterConfig('config/providers.example.yaml', {}), /OPENAI_API_KEY/);
});

test('routes to unknown models and unknown classes are named with the path and the valid choices', () => {
  const p = problems(`${models}
policies:
  - name: t
    classifier: task
    routes: { Summarization: huge, Poetry: small }
    default: small
`);
  assert.ok(
    p.some((m) => m.startsWith('policies[0].routes.Summarization: unknown model "huge" (defined models: small, big)')),
    p.join('\n'),
  );
  assert.ok(
    p.some(
      (m) =>
        m.includes('policies[0].routes.Poetry: "Poetry" is not a class of the task classifier') &&
        m.includes('Code Generation'),
    ),
    p.join('\n'),
  );
});

test('complexity tiers must ascend and end at 1; aliases must point somewhere real', () => {
  const p = problems(`${models}
policies:
  - name: c
    classifier: complexity
    tiers: [ { name: low, max_score: 0.5 }, { name: high, max_score: 0.4 } ]
    routes: { low: small, high: big }
    default: small
aliases:
  auto: router/missing
`);
  assert.ok(
    p.some((m) => m.startsWith('policies[0].tiers[1].max_score: tiers must be in ascending max_score order')),
    p.join('\n'),
  );
  assert.ok(
    p.some((m) => m.startsWith('policies[0].tiers[1].max_score: the last tier must have max_score: 1')),
    p.join('\n'),
  );
  assert.ok(
    p.some((m) => m.startsWith('aliases.auto: alias target "router/missing"')),
    p.join('\n'),
  );
});

test('bad deployment fields and duplicate ids are reported with their paths', () => {
  const p = problems(`
models:
  - name: m
    deployments:
      - { id: d, api_base: "not a url", model: x, price: { input_per_1m: -1, output_per_1m: 1 } }
      - { id: d, api_base: "http://127.0.0.1:1", model: x, price: { input_per_1m: 1, output_per_1m: 1 }, rpmm: 5 }
`);
  assert.ok(
    p.some((m) => m.startsWith('models[0].deployments[0].api_base:')),
    p.join('\n'),
  );
  assert.ok(
    p.some((m) => m.startsWith('models[0].deployments[0].price.input_per_1m:') && m.includes('Fix: use a value >= 0')),
    p.join('\n'),
  );
  assert.ok(
    p.some((m) => m.includes('Fix: remove or rename "rpmm"')),
    p.join('\n'),
  );
});

test('api keys come from the environment and are required when referenced', () => {
  const yaml = `
models:
  - name: m
    deployments:
      - { id: d, api_base: "http://127.0.0.1:1", api_key: "\${PROVIDER_KEY}", model: x, price: { input_per_1m: 1, output_per_1m: 1 } }
`;
  assert.equal(
    parseRouterConfig(yaml, 'r.yaml', { PROVIDER_KEY: 'sk-123' }).models[0]!.deployments[0]!.api_key,
    'sk-123',
  );
  const p = problems(yaml);
  assert.ok(
    p.some((m) => m.includes('models[0].deployments[0].api_key: environment variable PROVIDER_KEY is not set')),
  );
});
