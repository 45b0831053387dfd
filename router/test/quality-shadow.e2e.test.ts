// Feedback and shadow evaluation against llm-sim, through real processes: llm-sim's models have quality levels and
// its strongest judges; a policy that answers with a weaker model shows a lower quality retained than one that
// answers with a better model; feedback lands by policy, class and model; shadow calls are never client requests.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { metricValue, waitFor } from '../../test-support/services.ts';
import { simAndRouter } from '../../test-support/sim-and-router.ts';

const fast = { ttft_ms: { mean: 1 }, tokens_per_second: { mean: 5000 }, output_tokens: { mean: 8 } };
const stack = simAndRouter({
  simModels: [
    { id: 'weak', quality: 0.2, ...fast },
    { id: 'mid', quality: 0.75, ...fast },
    { id: 'ref', quality: 0.95, judge: true, ...fast },
  ],
  timeScale: 1,
  routerYaml: (simUrl) => {
    const dep = (m: string, price: number) =>
      `[ { id: ${m}-d, api_base: "${simUrl}/v1", model: ${m}, price: { input_per_1m: ${price}, output_per_1m: ${price} } } ]`;
    const shadow =
      '{ sample_rate: 1, reference_model: ref, judge_model: ref, max_per_minute: 1000, max_usd_per_hour: 100 }';
    return `models:
  - { name: weak, deployments: ${dep('weak', 1)} }
  - { name: mid, deployments: ${dep('mid', 3)} }
  - { name: ref, deployments: ${dep('ref', 10)} }
policies:
  - { name: cheap_router, classifier: task, routes: {}, default: weak, shadow: ${shadow} }
  - { name: better_router, classifier: task, routes: {}, default: mid, shadow: ${shadow} }
  - { name: unjudged, classifier: task, routes: {}, default: weak }
`;
  },
});

const chat = async (model: string, content: string, stream = false) => {
  const res = await fetch(`${stack.router.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model, stream, messages: [{ role: 'user', content }] }),
    signal: AbortSignal.timeout(10_000),
  });
  await res.text();
  assert.equal(res.status, 200);
  return res.headers.get('x-request-id')!;
};
const feedback = async (body: unknown) => {
  const res = await fetch(`${stack.router.url}/v1/feedback`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(5000),
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
};
const metrics = async () => (await fetch(`${stack.router.url}/metrics`)).text();

// Easy and hard prompts (llm-sim reads difficulty from length, technical words and digits).
const PROMPTS = Array.from({ length: 30 }, (_, i) =>
  i % 3 === 0
    ? `Thanks ${i}!`
    : `Prove step by step that algorithm ${i} runs in O(n log n) and derive the constant for n = ${i * 1000}. `.repeat(
        1 + (i % 4),
      ),
);

test('a worse router shows a lower quality retained; streamed answers are judged too; shadow calls are not requests', async () => {
  for (const [i, p] of PROMPTS.entries()) {
    await chat('router/cheap_router', p, i % 2 === 0);
    await chat('router/better_router', p, i % 2 === 1);
  }
  const judged = (text: string, policy: string) => metricValue(text, 'llm_router_shadow_verdicts_total', { policy });
  const text = await waitFor(
    'every sampled answer judged',
    async () => {
      const t = await metrics();
      return judged(t, 'cheap_router') === PROMPTS.length && judged(t, 'better_router') === PROMPTS.length && t;
    },
    30_000,
    100,
  );
  const retained = (policy: string) =>
    (metricValue(text, 'llm_router_shadow_verdicts_total', { policy, verdict: 'same' }) +
      metricValue(text, 'llm_router_shadow_verdicts_total', { policy, verdict: 'better' })) /
    PROMPTS.length;
  assert.ok(
    retained('better_router') > retained('cheap_router') + 0.15,
    `quality retained: better_router ${retained('better_router')}, cheap_router ${retained('cheap_router')}`,
  );
  assert.ok(metricValue(text, 'llm_router_shadow_verdicts_total', { policy: 'cheap_router', verdict: 'worse' }) > 0);
  assert.ok(metricValue(text, 'llm_router_shadow_cost_usd_total', { policy: 'cheap_router' }) > 0);
  // Every client request counted once; the reference and judge calls are not client requests.
  assert.equal(metricValue(text, 'llm_router_requests_total'), PROMPTS.length * 2);
  assert.equal(metricValue(text, 'llm_router_shadow_dropped_total'), 0);
});

test('feedback: a score lands by policy, class and model; a second is a 409, unknown ids 404, bad bodies 400', async () => {
  const id = await chat('router/unjudged', 'Write a haiku about routers');
  const ok = await feedback({ request_id: id, score: 'up' });
  assert.equal(ok.status, 200, JSON.stringify(ok.json));
  assert.deepEqual(ok.json, {
    object: 'feedback',
    request_id: id,
    score: 1,
    policy: 'unjudged',
    class: ok.json.class,
    model: 'weak',
  });
  const again = await feedback({ request_id: id, score: 0 });
  assert.equal(again.status, 409);
  assert.equal((again.json.error as { code: string }).code, 'feedback_already_recorded');
  const unknown = await feedback({ request_id: 'never-answered', score: 1 });
  assert.equal(unknown.status, 404);
  assert.equal((unknown.json.error as { code: string }).code, 'feedback_request_not_found');
  for (const bad of [{ request_id: id, score: 2 }, { score: 1 }, { request_id: id, score: 'meh' }, []]) {
    const r = await feedback(bad);
    assert.equal(r.status, 400, JSON.stringify(bad));
    assert.equal((r.json.error as { code: string }).code, 'invalid_feedback');
  }
  const text = await metrics();
  assert.equal(metricValue(text, 'llm_router_feedback_score_count', { policy: 'unjudged', model: 'weak' }), 1);
  assert.equal(metricValue(text, 'llm_router_feedback_score_sum', { policy: 'unjudged', model: 'weak' }), 1);
});
