import { test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { metricValue, routerYaml } from '../../test-support/services.ts';
import { simAndRouter } from '../../test-support/sim-and-router.ts';

const KEY = 'sk-team-a-0123456789abcdef';
const stack = simAndRouter({
  simModels: [{ id: 'ok' }],
  timeScale: 0,
  routerYaml: (simUrl) =>
    routerYaml(
      simUrl,
      { m: { deployments: [{ model: 'ok' }] } },
      'auth:\n  api_keys:\n    - { name: team-a, key: "${TEAM_A_KEY}" }\n',
    ),
  routerEnv: { TEAM_A_KEY: KEY, LOG_LEVEL: 'info' },
});

test('missing or wrong keys get 401 in OpenAI shape; the right key works', async () => {
  const call = (apiKey: string) =>
    new OpenAI({ baseURL: `${stack.router.url}/v1`, apiKey, maxRetries: 0 }).chat.completions.create({
      model: 'm',
      messages: [{ role: 'user', content: 'hi' }],
    });
  await assert.rejects(
    call('sk-wrong-key-123456'),
    (e: unknown) => e instanceof OpenAI.AuthenticationError && e.code === 'invalid_api_key',
  );
  const bare = await fetch(`${stack.router.url}/v1/models`, { signal: AbortSignal.timeout(5000) });
  assert.equal(bare.status, 401);
  assert.equal(((await bare.json()) as { error: { code: string } }).error.code, 'missing_api_key');
  const ok = await call(KEY);
  assert.equal(ok.model, 'ok');
  const health = await fetch(`${stack.router.url}/health`, { signal: AbortSignal.timeout(5000) });
  assert.equal(health.status, 200, 'health and metrics stay open for probes and Prometheus');
});

test('keys never appear in logs or metrics; metrics show the key name', async () => {
  const text = await (await fetch(`${stack.router.url}/metrics`, { signal: AbortSignal.timeout(5000) })).text();
  assert.equal(metricValue(text, 'llm_router_client_requests_total', { client: 'team-a' }), 1);
  assert.equal(metricValue(text, 'llm_router_auth_failures_total', { reason: 'invalid_api_key' }), 1);
  assert.equal(metricValue(text, 'llm_router_auth_failures_total', { reason: 'missing_api_key' }), 1);
  assert.ok(!text.includes(KEY) && !text.includes('sk-wrong-key'));
  assert.ok(!stack.router.output().includes(KEY) && !stack.router.output().includes('sk-wrong-key'));
});
