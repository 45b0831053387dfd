// The quality router against llm-sim, through real processes: the strong-need score in headers, /v1/route and
// metrics; per-request thresholds; a conversation that keeps its model across turns; /v1/route naming the model
// that really serves an image request.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { metricValue } from '../../test-support/services.ts';
import { simAndRouter } from '../../test-support/sim-and-router.ts';

const fast = { ttft_ms: { mean: 1 }, tokens_per_second: { mean: 5000 }, output_tokens: { mean: 3 } };
const stack = simAndRouter({
  simModels: ['small', 'big', 'eyes'].map((id) => ({ id, ...fast })),
  timeScale: 1,
  routerYaml: (simUrl) => {
    const dep = (m: string, price: number) =>
      `[ { id: ${m}-d, api_base: "${simUrl}/v1", model: ${m}, price: { input_per_1m: ${price}, output_per_1m: ${price} } } ]`;
    return `models:
  - { name: small, capabilities: [tools], deployments: ${dep('small', 1)} }
  - { name: big, capabilities: [tools], deployments: ${dep('big', 20)} }
  - { name: eyes, capabilities: [vision], deployments: ${dep('eyes', 5)} }
policies:
  - { name: q, classifier: quality, models: [small, big], thresholds: [0.5] }
aliases: { spend: router/q@0 }
`;
  },
});

const post = async (path: string, body: unknown, headers: Record<string, string> = {}) => {
  const res = await fetch(`${stack.router.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(10_000),
  });
  return { status: res.status, headers: res.headers, json: (await res.json()) as Record<string, unknown> };
};
const user = (content: unknown) => ({ role: 'user', content });
const Q = 'What is the capital of France?';

test('x-router-score and /v1/route report the same score; the threshold decides the model', async () => {
  const chat = await post('/v1/chat/completions', { model: 'router/q', messages: [user(Q)] });
  assert.equal(chat.status, 200);
  const score = Number(chat.headers.get('x-router-score'));
  assert.ok(score > 0 && score < 0.5, `a plain question scores under 0.5: ${score}`);
  assert.equal(chat.headers.get('x-router-model'), 'small');
  assert.equal(chat.headers.get('x-router-class'), 'weak');
  const route = await post('/v1/route', { model: 'router/q', messages: [user(Q)] });
  assert.equal(route.status, 200);
  assert.deepEqual([route.json.score, route.json.threshold, route.json.model], [score, 0.5, 'small']);
  // The knob per request: in the model name, through an alias, or in a header.
  for (const [body, headers] of [
    [{ model: `router/q@${score}`, messages: [user(Q)] }, {}],
    [{ model: 'spend', messages: [user(Q)] }, {}],
    [{ model: 'router/q', messages: [user(Q)] }, { 'x-router-threshold': '0.01' }],
  ] as const) {
    const r = await post('/v1/chat/completions', body, headers);
    assert.equal(r.status, 200);
    assert.deepEqual([r.headers.get('x-router-model'), r.headers.get('x-router-class')], ['big', 'strong']);
  }
  const bad = await post('/v1/chat/completions', { model: 'router/q@2', messages: [user(Q)] });
  assert.equal(bad.status, 400);
  assert.deepEqual((bad.json.error as Record<string, unknown>).code, 'invalid_threshold');
});

test('/v1/route names the model that really serves: an image request goes to the vision model', async () => {
  const image = { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } };
  const body = { model: 'router/q', messages: [user([image])] };
  const route = await post('/v1/route', body);
  assert.equal(route.status, 200);
  assert.deepEqual(
    [route.json.model, route.json.decided_model, route.json.fallback_reason],
    ['eyes', 'small', 'capability_vision'],
  );
  assert.deepEqual(
    (route.json.deployments as Array<{ id: string }>).map((d) => d.id),
    ['eyes-d'],
  );
  const chat = await post('/v1/chat/completions', body);
  assert.equal(chat.status, 200);
  assert.equal(chat.headers.get('x-router-model'), route.json.model);
});

test('a conversation keeps its model: a short follow-up is not dropped to the cheap model', async () => {
  const opening = [user('Prove that the square root of 2 is irrational.')];
  const first = await post('/v1/chat/completions', { model: 'router/q@0', messages: opening });
  assert.equal(first.headers.get('x-router-model'), 'big');
  assert.equal(first.headers.get('x-router-session'), null, 'a first turn has no session outcome');
  const followUp = [...opening, { role: 'assistant', content: 'Suppose it were rational...' }, user('shorter')];
  // Decided alone, the follow-up goes to the cheap model...
  const alone = await post('/v1/route', { model: 'router/q', messages: [user('shorter')] });
  assert.equal(alone.json.model, 'small');
  // ...in its conversation it stays on the strong one, and says so.
  const second = await post('/v1/chat/completions', { model: 'router/q', messages: followUp });
  assert.deepEqual([second.headers.get('x-router-model'), second.headers.get('x-router-session')], ['big', 'held']);
  const asked = await post('/v1/route', { model: 'router/q', messages: followUp });
  assert.deepEqual([asked.json.model, asked.json.session], ['big', 'held']);
  // An explicit session id works the same way across unrelated-looking requests.
  await post('/v1/chat/completions', { model: 'router/q@0', messages: [user('hi')] }, { 'x-session-id': 's-1' });
  const byId = await post(
    '/v1/chat/completions',
    { model: 'router/q', messages: [user('ok')] },
    { 'x-session-id': 's-1' },
  );
  assert.equal(byId.headers.get('x-router-model'), 'big');
});

test('metrics: the score histogram and session outcomes by policy; promtool check metrics passes', async () => {
  const text = await (await fetch(`${stack.router.url}/metrics`)).text();
  assert.ok(metricValue(text, 'llm_router_strong_need_score_count', { policy: 'q' }) >= 5);
  assert.ok(metricValue(text, 'llm_router_session_decisions_total', { policy: 'q', outcome: 'held' }) >= 2);
  assert.equal(metricValue(text, 'llm_router_session_decisions_total', { policy: 'q', outcome: 'up' }), 0);
  assert.ok(
    metricValue(text, 'llm_router_requests_total', {
      policy: 'q',
      class: 'strong',
      model: 'big',
      endpoint: 'chat',
      status: '200',
    }) >= 3,
  );
  const promtool = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
  assert.equal(promtool.error, undefined, 'promtool must be installed (make install-system-deps)');
  assert.equal(promtool.status, 0, promtool.stdout + promtool.stderr);
});
