// Every provider's failures mean the same to the router as OpenAI's: a refused key is the router's credentials
// failing (502 upstream_auth_failed naming the deployment, counted as reason "auth", the key in no answer or
// metric or log), throttling is a 429 with retry-after for the client, and an overloaded deployment (Anthropic's 529,
// 503 elsewhere; both a 503 to the router) is retried on the next one and cooled down. llm-sim answers each in its API's own shape.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  ROUTER_MAIN,
  SIM_MAIN,
  metricValue,
  startService,
  tempDir,
  type RunningService,
} from '../../test-support/services.ts';

const SECRET = 'sk-wrong-secret-7f3a';
const PROVIDERS = ['openai', 'azure', 'anthropic', 'gemini', 'bedrock'] as const;
const tmp = tempDir();
let sim: RunningService;
let router: RunningService;

before(async () => {
  const model = (id: string) =>
    JSON.stringify({ id, ttft_ms: { mean: 1 }, tokens_per_second: { mean: 5000 }, output_tokens: { mean: 3 }, rpm: 1 });
  sim = await startService(SIM_MAIN, [
    '--config',
    tmp.write(
      'sim.yaml',
      `seed: 1\ntime_scale: 1\napi_key: right-key\nmodels:\n  - ${model('m')}\n` +
        `  - { id: busy, overload_rate: 1 }\n  - { id: spare, ttft_ms: { mean: 1 }, output_tokens: { mean: 3 } }\n`,
    ),
  ]);
  const base = (p: string) =>
    p === 'gemini' ? `${sim.url}/v1beta` : p === 'openai' || p === 'anthropic' ? `${sim.url}/v1` : sim.url;
  const dep = (p: string, key: string) =>
    `{ id: ${p}-${key === SECRET ? 'bad' : 'ok'}, provider: ${p}, api_base: "${base(p)}", api_key: "${key}", model: m, price: { input_per_1m: 1, output_per_1m: 1 } }`;
  const models = PROVIDERS.flatMap((p) => [
    `  - { name: ${p}-bad, deployments: [ ${dep(p, SECRET)} ] }`,
    `  - { name: ${p}-ok, deployments: [ ${dep(p, 'right-key')} ] }`,
  ]);
  router = await startService(ROUTER_MAIN, [
    '--config',
    tmp.write('router.yaml', `resilience: { retries: 0 }\nmodels:\n${models.join('\n')}\n`),
  ]);
});
after(async () => {
  await router?.stop();
  await sim?.stop();
  tmp.remove();
});

const chat = async (model: string) => {
  const res = await fetch(`${router.url}/v1/chat/completions`, {
    method: 'POST',
    body: JSON.stringify({ model, messages: [{ role: 'user', content: 'hi' }] }),
  });
  return { status: res.status, headers: res.headers, text: await res.text() };
};

test('a refused key is upstream_auth_failed for every provider, and the key is never shown', async () => {
  for (const p of PROVIDERS) {
    const r = await chat(`${p}-bad`);
    assert.equal(r.status, 502, `${p}: ${r.text}`);
    const err = JSON.parse(r.text).error as { code: string; message: string };
    assert.equal(err.code, 'upstream_auth_failed', p);
    assert.match(err.message, new RegExp(`deployment '${p}-bad'`));
    assert.doesNotMatch(r.text, new RegExp(SECRET));
  }
  const m = await (await fetch(`${router.url}/metrics`)).text();
  for (const p of PROVIDERS)
    assert.equal(
      metricValue(m, 'llm_router_deployment_failures_total', { deployment: `${p}-bad`, reason: 'auth' }),
      1,
      p,
    );
  assert.doesNotMatch(m, new RegExp(SECRET));
  assert.doesNotMatch(router.output(), new RegExp(SECRET), 'nor in the logs');
});

test('throttling is a 429 with retry-after for the client, whatever the provider', async () => {
  // llm-sim allows one request a minute for the model: the first of each provider passes (the shared minute
  // window is per simulated model, so only the first provider's first request does), then 429s.
  const statuses: Array<[string, number, string | null]> = [];
  for (const p of PROVIDERS)
    for (let i = 0; i < 2; i++) {
      const r = await chat(`${p}-ok`);
      statuses.push([p, r.status, r.headers.get('retry-after')]);
    }
  const throttled = statuses.filter(([, s]) => s === 429);
  assert.ok(throttled.length >= PROVIDERS.length, JSON.stringify(statuses));
  for (const p of PROVIDERS)
    assert.ok(
      throttled.some(([q]) => q === p),
      `${p} throttled: ${JSON.stringify(statuses)}`,
    );
  for (const [p, , retryAfter] of throttled) assert.ok(Number(retryAfter) >= 1, `${p}: retry-after ${retryAfter}`);
});

test('an overloaded deployment is retried on the next one and cooled down, whatever the provider', async () => {
  // Its own router: two failures in a row cool a deployment down. lowest_cost tries the cheap, overloaded one first.
  const base = (p: string) =>
    p === 'gemini' ? `${sim.url}/v1beta` : p === 'openai' || p === 'anthropic' ? `${sim.url}/v1` : sim.url;
  const dep = (p: string, model: 'busy' | 'spare', price: number) =>
    `{ id: ${p}-${model}, provider: ${p}, api_base: "${base(p)}", api_key: right-key, model: ${model}, price: { input_per_1m: ${price}, output_per_1m: ${price} } }`;
  const models = PROVIDERS.map(
    (p) => `  - { name: ${p}, strategy: lowest_cost, deployments: [ ${dep(p, 'busy', 1)}, ${dep(p, 'spare', 2)} ] }`,
  );
  const second = await startService(ROUTER_MAIN, [
    '--config',
    tmp.write(
      'overload.yaml',
      `resilience: { retries: 1, backoff_ms: 0, cooldown: { allowed_fails: 2, duration_s: 60 } }\nmodels:\n${models.join('\n')}\n`,
    ),
  ]);
  try {
    for (const p of PROVIDERS)
      for (let i = 0; i < 4; i++) {
        const res = await fetch(`${second.url}/v1/chat/completions`, {
          method: 'POST',
          body: JSON.stringify({ model: p, messages: [{ role: 'user', content: 'hi' }] }),
        });
        assert.equal(res.status, 200, `${p} #${i}: ${await res.clone().text()}`);
        assert.equal(((await res.json()) as { model: string }).model, 'spare');
      }
    const m = await (await fetch(`${second.url}/metrics`)).text();
    for (const p of PROVIDERS) {
      // Anthropic's 529 is booked (and shown to clients) as the 503 OpenAI's clients know.
      const reason = '503';
      const busy = { model: p, deployment: `${p}-busy` };
      assert.equal(metricValue(m, 'llm_router_deployment_failures_total', { ...busy, reason }), 2, `${p}: ${reason}s`);
      assert.equal(metricValue(m, 'llm_router_deployment_cooldowns_total', busy), 1, `${p}: cooled down once`);
      assert.equal(metricValue(m, 'llm_router_requests_total', { model: p, status: '200' }), 4, p);
    }
  } finally {
    await second.stop();
  }
});
