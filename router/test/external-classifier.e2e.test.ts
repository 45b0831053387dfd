// The KServe v2 (Triton) external classifier against a v2-protocol server on loopback: success with scores,
// labels and NVIDIA's complexity dimensions; a timeout, a malformed answer and a server that is down each fall
// back to the built-in classifier and are counted.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  ROUTER_MAIN,
  SIM_MAIN,
  freePort,
  metricValue,
  simConfigYaml,
  startService,
  tempDir,
  type RunningService,
} from '../../test-support/services.ts';
import { startKServeServer, type KServeServer } from '../../test-support/kserve-v2-server.ts';

const tmp = tempDir();
let sim: RunningService;
let router: RunningService;
let kserve: KServeServer;

before(async () => {
  kserve = await startKServeServer();
  const down = `http://127.0.0.1:${await freePort()}`;
  sim = await startService(SIM_MAIN, [
    '--config',
    tmp.write(
      'sim.yaml',
      simConfigYaml(
        ['small', 'coder', 'chat', 'big'].map((id) => ({ id, ttft_ms: { mean: 1 }, output_tokens: { mean: 3 } })),
        1,
      ),
    ),
  ]);
  const model = (m: string, price: number) =>
    `  - { name: ${m}, deployments: [ { id: ${m}-d, api_base: "${sim.url}/v1", model: ${m}, price: { input_per_1m: ${price}, output_per_1m: ${price} } } ] }`;
  const taskPolicy = (name: string, classifier: string) => `  - name: ${name}
    classifier: ${classifier}
    routes: { Code Generation: coder, Chatbot: chat }
    default: small`;
  const kv2 = (url: string, m: string, extra = '') =>
    `{ kind: kserve_v2, url: "${url}", model: ${m}, timeout_ms: 300${extra} }`;
  router = await startService(ROUTER_MAIN, [
    '--config',
    tmp.write(
      'router.yaml',
      `models:
${model('small', 1)}
${model('coder', 2)}
${model('chat', 3)}
${model('big', 9)}
policies:
${taskPolicy('scores', kv2(kserve.url, 'task-scores'))}
${taskPolicy('labels', kv2(kserve.url, 'task-label'))}
${taskPolicy('slow', kv2(kserve.url, 'slow'))}
${taskPolicy('malformed', kv2(kserve.url, 'malformed'))}
${taskPolicy('down', kv2(down, 'task-scores'))}
  - name: cx
    classifier: ${kv2(kserve.url, 'complexity-dims', ', classes: complexity')}
    tiers: [ { name: simple, max_score: 0.2 }, { name: hard, max_score: 1 } ]
    routes: { simple: small, hard: big }
    default: small
`,
    ),
  ]);
});
after(async () => {
  await router?.stop();
  await sim?.stop();
  await kserve?.close();
  tmp.remove();
});

const route = async (policy: string, content: string) => {
  const res = await fetch(`${router.url}/v1/route`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: `router/${policy}`, messages: [{ role: 'user', content }] }),
    signal: AbortSignal.timeout(10_000),
  });
  assert.equal(res.status, 200);
  return (await res.json()) as { class: string; model: string; classifier: string; confidence: number };
};
const fallbacks = async (policy: string, reason: string) =>
  metricValue(await (await fetch(`${router.url}/metrics`)).text(), 'llm_router_external_classifier_fallbacks_total', {
    policy,
    reason,
  });

test("scores per class (the blueprint's Triton task router): argmax routes, its probability is the confidence", async () => {
  const before = kserve.infers;
  const d = await route('scores', 'please write python for me');
  assert.deepEqual([d.classifier, d.class, d.model, d.confidence], ['kserve_v2', 'Code Generation', 'coder', 0.91]);
  assert.equal((await route('scores', 'hello friend')).class, 'Chatbot');
  assert.equal(kserve.infers, before + 2, 'asked the inference server');
});

test('a BYTES label with its probability, through a real chat completion', async () => {
  const res = await fetch(`${router.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'router/labels', messages: [{ role: 'user', content: 'a SQL query please' }] }),
    signal: AbortSignal.timeout(10_000),
  });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('x-router-class'), 'Code Generation');
  assert.equal(res.headers.get('x-router-model'), 'coder');
  const m = await (await fetch(`${router.url}/metrics`)).text();
  assert.ok(metricValue(m, 'llm_router_classification_duration_seconds_count', { classifier: 'kserve_v2' }) >= 1);
});

test("NVIDIA's six complexity dimensions map to the policy's tiers with the same weights", async () => {
  assert.equal((await route('cx', 'Prove the theorem and derive the bound')).model, 'big');
  assert.equal((await route('cx', 'hi there')).model, 'small');
});

test('a timeout, a malformed answer and a server that is down each fall back to the built-in classifier, counted', async () => {
  for (const [policy, reason] of [
    ['slow', 'timeout'],
    ['malformed', 'malformed'],
    ['down', 'unavailable'],
  ] as const) {
    const before = await fallbacks(policy, reason);
    const t0 = Date.now();
    const d = await route(policy, 'Write a Python function that reverses a list.');
    assert.equal(d.classifier, 'task', `${policy}: the built-in classifier answered`);
    assert.equal(d.class, 'Code Generation');
    assert.ok(Date.now() - t0 < 1500, `${policy}: bounded by timeout_ms (took ${Date.now() - t0} ms)`);
    assert.equal(await fallbacks(policy, reason), before + 1, `${policy}: counted as ${reason}`);
  }
  assert.match(router.output(), /external classifier: cannot reach/, 'the unreachable server was reported at start');
});
