import { test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { flushedRouterOutput, metricValue, routerYaml } from '../../test-support/services.ts';
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
  const log = await flushedRouterOutput(stack.router, { authorization: `Bearer ${KEY}` });
  assert.ok(!log.includes(KEY) && !log.includes('sk-wrong-key'));
});

test('probes answer without a key as clients write their paths: GET and HEAD, any case, one trailing slash', async () => {
  const probe = (method: string, path: string) =>
    fetch(`${stack.router.url}${path}`, { method, signal: AbortSignal.timeout(5000) });
  for (const path of ['/health', '/HEALTH', '/health/', '/health?x=1', '/ready', '/Ready/', '/metrics', '/metrics/']) {
    const get = await probe('GET', path);
    assert.equal(get.status, 200, `GET ${path}`);
    const body = await get.text();
    const head = await probe('HEAD', path);
    assert.equal(head.status, 200, `HEAD ${path}`);
    assert.equal(head.headers.get('content-type'), get.headers.get('content-type'), `HEAD ${path}`);
    assert.equal(await head.text(), '', `HEAD ${path} has no body`);
    if (!path.toLowerCase().startsWith('/metrics'))
      assert.equal(Number(head.headers.get('content-length')), Buffer.byteLength(body), `HEAD ${path}`);
  }
  for (const [method, path] of [
    ['POST', '/health'],
    ['GET', '/healthz'],
    ['GET', '/metrics//'],
  ] as const) {
    const res = await probe(method, path);
    assert.equal(res.status, 404, `${method} ${path}`);
    assert.equal(((await res.json()) as { error: { code: string } }).error.code, 'not_found');
  }
});
