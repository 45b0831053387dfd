// The official openai client against real llm-sim + router processes on loopback.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { connect } from 'node:net';
import { gzipSync } from 'node:zlib';
import OpenAI from 'openai';
import { metricValue, waitFor } from '../../test-support/services.ts';
import { simAndRouter } from '../../test-support/sim-and-router.ts';

let client: OpenAI;

const SIM_MODELS = ['small', 'medium', 'coder', 'reasoner', 'huge'].map((id) => ({
  id,
  ttft_ms: { mean: 50 },
  tokens_per_second: { mean: 200 },
  output_tokens: { mean: 20, stddev: 5 },
}));
SIM_MODELS.push({ id: 'broken', error_rate: 1 } as never, { id: 'tiny-window', context_window: 20 } as never);

function routerYaml(simUrl: string) {
  const prices: Record<string, [number, number]> = {
    small: [0.1, 0.2],
    medium: [1, 2],
    coder: [0.5, 1],
    reasoner: [2, 8],
    huge: [10, 30],
    broken: [1, 1],
    'tiny-window': [1, 1],
  };
  const models = Object.entries(prices)
    .map(
      ([name, [i, o]]) => `  - name: ${name}
    deployments:
      - { id: ${name}-d1, api_base: "${simUrl}/v1", api_key: "\${SIM_KEY}", model: ${name}, price: { input_per_1m: ${i}, output_per_1m: ${o} }, timeout_ms: 10000 }`,
    )
    .join('\n');
  return `server: { max_body_bytes: 20000 }
models:
${models}
policies:
  - name: task_router
    classifier: task
    routes: { Code Generation: coder, Math/Reasoning: reasoner, Summarization: medium }
    default: small
    baseline_model: huge
  - name: complexity_router
    classifier: complexity
    tiers: [ { name: simple, max_score: 0.15 }, { name: hard, max_score: 1 } ]
    routes: { simple: small, hard: reasoner }
    default: small
  - name: doubtful
    classifier: task
    routes: { Code Generation: coder }
    default: small
    min_confidence: 0.99
    uncertain: medium
aliases:
  auto: router/task_router
`;
}

const stack = simAndRouter({
  simModels: SIM_MODELS,
  routerYaml,
  routerEnv: { SIM_KEY: 'sk-test-secret-123' },
  onStarted: ({ router }) => {
    client = new OpenAI({ baseURL: `${router.url}/v1`, apiKey: 'unused', maxRetries: 0, timeout: 15_000 });
  },
});

const CODE = 'Write a Python function that merges two sorted arrays.';
const MATH = 'Solve for x: 4x + 12 = 36.';

async function metrics(): Promise<string> {
  return (await fetch(`${stack.router.url}/metrics`, { signal: AbortSignal.timeout(5000) })).text();
}
const counter = metricValue;

test('non-stream through task_router: classified, routed, headers and usage', async () => {
  const { data, response } = await client.chat.completions
    .create({ model: 'router/task_router', messages: [{ role: 'user', content: CODE }] })
    .withResponse();
  assert.equal(response.headers.get('x-router-policy'), 'task_router');
  assert.equal(response.headers.get('x-router-class'), 'Code Generation');
  assert.equal(response.headers.get('x-router-model'), 'coder');
  assert.match(response.headers.get('server-timing')!, /classify;dur=[\d.]+, upstream;dur=[\d.]+, total;dur=[\d.]+/);
  assert.equal(data.model, 'coder');
  assert.ok(data.choices[0]!.message.content!.length > 0);
  assert.ok(data.usage!.completion_tokens > 0);
});

test('stream through complexity_router: chunks arrive, usage only when asked', async () => {
  const hard =
    'Prove step by step why the algorithm is optimal, explain the trade-offs, in exactly 5 bullet points as JSON.';
  const { data: stream, response } = await client.chat.completions
    .create({ model: 'router/complexity_router', stream: true, messages: [{ role: 'user', content: hard }] })
    .withResponse();
  assert.equal(response.headers.get('x-router-class'), 'hard');
  assert.equal(response.headers.get('x-router-model'), 'reasoner');
  let text = '';
  let usageChunks = 0;
  for await (const chunk of stream) {
    text += chunk.choices[0]?.delta?.content ?? '';
    if (chunk.usage) usageChunks++;
  }
  assert.ok(text.length > 0);
  assert.equal(usageChunks, 0, 'the router asked upstream for usage but must not leak it to a client that did not ask');

  const withUsage = await client.chat.completions.create({
    model: 'router/complexity_router',
    stream: true,
    stream_options: { include_usage: true },
    messages: [{ role: 'user', content: 'hi' }],
  });
  let usage: { completion_tokens: number } | null | undefined;
  for await (const chunk of withUsage) if (chunk.usage) usage = chunk.usage;
  assert.ok(usage && usage.completion_tokens > 0);
});

test('manual routing by model name, stream and non-stream', async () => {
  const { data, response } = await client.chat.completions
    .create({ model: 'medium', messages: [{ role: 'user', content: CODE }] })
    .withResponse();
  assert.equal(response.headers.get('x-router-policy'), 'manual');
  assert.equal(data.model, 'medium');
  const stream = await client.chat.completions.create({
    model: 'huge',
    stream: true,
    messages: [{ role: 'user', content: 'hello' }],
  });
  let model = '';
  for await (const chunk of stream) model = chunk.model;
  assert.equal(model, 'huge');
});

test('alias, x-router-policy header and the nim-llm-router extension all select a policy', async () => {
  const viaAlias = await client.chat.completions
    .create({ model: 'auto', messages: [{ role: 'user', content: MATH }] })
    .withResponse();
  assert.equal(viaAlias.response.headers.get('x-router-model'), 'reasoner');

  const viaHeader = await client.chat.completions
    .create(
      { model: 'small', messages: [{ role: 'user', content: MATH }] },
      { headers: { 'x-router-policy': 'task_router' } },
    )
    .withResponse();
  assert.equal(viaHeader.response.headers.get('x-router-policy'), 'task_router');
  assert.equal(viaHeader.data.model, 'reasoner');

  const nim = await client.chat.completions
    .create({
      model: '',
      messages: [{ role: 'user', content: CODE }],
      'nim-llm-router': { policy: 'task_router', routing_strategy: 'triton', model: '' },
    } as never)
    .withResponse();
  assert.equal(nim.response.headers.get('x-router-model'), 'coder');
  const nimManual = await client.chat.completions
    .create({
      model: '',
      messages: [{ role: 'user', content: CODE }],
      'nim-llm-router': { policy: 'task_router', routing_strategy: 'manual', model: 'small' },
    } as never)
    .withResponse();
  assert.equal(nimManual.response.headers.get('x-router-policy'), 'manual');
  assert.equal(nimManual.data.model, 'small');
});

test('POST /v1/route returns the decision without calling a model', async () => {
  const before = counter(
    (await stack.sim.url) && (await (await fetch(`${stack.sim.url}/metrics`)).text()),
    'llm_sim_requests_total',
    {},
  );
  const res = await fetch(`${stack.router.url}/v1/route`, {
    method: 'POST',
    body: JSON.stringify({ model: 'router/task_router', messages: [{ role: 'user', content: CODE }] }),
    signal: AbortSignal.timeout(5000),
  });
  const d = (await res.json()) as Record<string, unknown>;
  assert.equal(d.policy, 'task_router');
  assert.equal(d.class, 'Code Generation');
  assert.equal(d.model, 'coder');
  assert.equal(d.baseline_model, 'huge');
  assert.deepEqual(
    (d.deployments as Array<{ id: string }>).map((x) => x.id),
    ['coder-d1'],
  );
  assert.ok((d.confidence as number) > 0 && (d.confidence as number) <= 1);
  const after = counter(await (await fetch(`${stack.sim.url}/metrics`)).text(), 'llm_sim_requests_total', {});
  assert.equal(after, before, 'no upstream call');
});

test('a classification under min_confidence goes to the uncertain route, in headers, /v1/route and metrics', async () => {
  const res = await client.chat.completions
    .create({ model: 'router/doubtful', messages: [{ role: 'user', content: 'Tell me about it.' }] })
    .withResponse();
  assert.equal(res.response.headers.get('x-router-class'), 'uncertain');
  assert.equal(res.response.headers.get('x-router-model'), 'medium');
  assert.equal(res.data.model, 'medium');
  const d = (await (
    await fetch(`${stack.router.url}/v1/route`, {
      method: 'POST',
      body: JSON.stringify({ model: 'router/doubtful', messages: [{ role: 'user', content: 'Tell me about it.' }] }),
      signal: AbortSignal.timeout(5000),
    })
  ).json()) as Record<string, unknown>;
  assert.equal(d.class, 'uncertain');
  assert.equal(typeof d.predicted_class, 'string');
  assert.ok((d.confidence as number) < 0.99);
  assert.equal(
    counter(await metrics(), 'llm_router_requests_total', {
      policy: 'doubtful',
      class: 'uncertain',
      model: 'medium',
      status: '200',
    }),
    1,
  );
});

test('GET /v1/models lists models, router/<policy> entries and aliases', async () => {
  const ids = (await client.models.list()).data.map((m) => m.id);
  for (const id of ['small', 'huge', 'router/task_router', 'router/complexity_router', 'auto'])
    assert.ok(ids.includes(id), id);
});

test('bad input gets OpenAI-shaped errors with the right status', async () => {
  const raw = async (body: string, headers: Record<string, string> = {}) => {
    const res = await fetch(`${stack.router.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body,
      signal: AbortSignal.timeout(5000),
    });
    const json = (await res.json()) as {
      error: { message: string; type: string; param: string | null; code: string | null };
    };
    assert.deepEqual(Object.keys(json.error).sort(), ['code', 'message', 'param', 'type']);
    return { status: res.status, ...json.error };
  };
  assert.equal((await raw('{"model": "small", "messages": [')).code, 'invalid_json');
  assert.equal((await raw('[1,2]')).status, 400);
  assert.deepEqual(await raw('{"model":"small"}').then((e) => [e.status, e.param]), [400, 'messages']);
  assert.deepEqual(await raw('{"model":"small","messages":[]}').then((e) => [e.status, e.param]), [400, 'messages']);
  assert.deepEqual(
    await raw('{"model":"small","messages":[{"role":"wizard","content":"x"}]}').then((e) => [e.status, e.param]),
    [400, 'messages[0].role'],
  );
  assert.deepEqual(
    await raw('{"model":"small","messages":[{"role":"user","content":5}]}').then((e) => [e.status, e.param]),
    [400, 'messages[0].content'],
  );
  assert.deepEqual(
    await raw('{"model":"small","stream":"yes","messages":[{"role":"user","content":"x"}]}').then((e) => [
      e.status,
      e.param,
    ]),
    [400, 'stream'],
  );
  assert.deepEqual(
    await raw('{"model":7,"messages":[{"role":"user","content":"x"}]}').then((e) => [e.status, e.param]),
    [400, 'model'],
  );
  assert.deepEqual(
    await raw('{"model":"gpt-9","messages":[{"role":"user","content":"x"}]}').then((e) => [e.status, e.code]),
    [404, 'model_not_found'],
  );
  assert.deepEqual(
    await raw('{"model":"router/nope","messages":[{"role":"user","content":"x"}]}').then((e) => [e.status, e.code]),
    [404, 'policy_not_found'],
  );
  assert.deepEqual(
    await raw('{"model":"small","messages":[{"role":"user","content":"x"}]}', { 'x-router-policy': 'nope' }).then(
      (e) => [e.status, e.code],
    ),
    [404, 'policy_not_found'],
  );
  assert.deepEqual(
    await raw(JSON.stringify({ model: 'small', messages: [{ role: 'user', content: 'x'.repeat(30_000) }] })).then(
      (e) => [e.status, e.code],
    ),
    [413, 'request_too_large'],
  );
  assert.equal(
    (await raw('{"model":"small","messages":[{"role":"user","content":"x"}],"nim-llm-router":"task_router"}')).param,
    'nim-llm-router',
  );
});

test('plain JSON and encoded bodies (gzip, other charsets) are accepted and refused alike', async () => {
  const body = JSON.stringify({ model: 'small', messages: [{ role: 'user', content: 'hello' }] });
  const post = async (data: Buffer | string | ReadableStream, headers: Record<string, string> = {}) => {
    const res = await fetch(`${stack.router.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: data,
      signal: AbortSignal.timeout(5000),
      ...(data instanceof ReadableStream ? { duplex: 'half' } : {}),
    } as RequestInit);
    const json = (await res.json()) as { object?: string; error?: { code: string } };
    return [res.status, json.object ?? json.error?.code];
  };
  // Plain UTF-8 JSON.
  assert.deepEqual(await post(body), [200, 'chat.completion']);
  assert.deepEqual(await post(body, { 'content-type': 'application/json; charset=UTF-8' }), [200, 'chat.completion']);
  assert.deepEqual(await post(`\uFEFF${body}`), [200, 'chat.completion'], 'a UTF-8 byte-order mark is accepted');
  assert.deepEqual(await post('', {}), [400, 'missing_required_parameter'], 'an empty body reads as {}');
  // Compressed bodies are decoded; a charset JSON cannot be in is refused.
  assert.deepEqual(await post(gzipSync(body), { 'content-encoding': 'gzip' }), [200, 'chat.completion']);
  assert.deepEqual(await post(Buffer.from(body, 'latin1'), { 'content-type': 'application/json; charset=latin1' }), [
    415,
    'unsupported_encoding',
  ]);
  // The same errors either way.
  assert.deepEqual(await post('{"messages": ['), [400, 'invalid_json']);
  assert.deepEqual(await post(gzipSync('{"messages": ['), { 'content-encoding': 'gzip' }), [400, 'invalid_json']);
  // The size limit holds whether the length is declared or the body is chunked.
  const big = JSON.stringify({ model: 'small', messages: [{ role: 'user', content: 'x'.repeat(30_000) }] });
  assert.deepEqual(await post(big), [413, 'request_too_large']);
  const chunked = new ReadableStream({
    start(c) {
      for (let i = 0; i < 30; i++) c.enqueue(new TextEncoder().encode(big.slice(i * 1000, (i + 1) * 1000)));
      c.enqueue(new TextEncoder().encode(big.slice(30_000)));
      c.close();
    },
  });
  assert.deepEqual(await post(chunked), [413, 'request_too_large']);
});

test('a client that hangs up while sending its body is counted once, as 499', async () => {
  const before = metricValue(await metrics(), 'llm_router_requests_total', { status: '499' });
  const socket = connect(stack.router.port, '127.0.0.1');
  await new Promise((r) => socket.once('connect', r));
  socket.write(
    'POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 1000\r\n\r\n{"model":"small",',
  );
  await new Promise((r) => setTimeout(r, 100));
  socket.destroy();
  await waitFor(
    'the abandoned request to be counted',
    async () => metricValue(await metrics(), 'llm_router_requests_total', { status: '499' }) === before + 1,
    5_000,
  );
  // And nothing else is counted for it later.
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(metricValue(await metrics(), 'llm_router_requests_total', { status: '499' }), before + 1);
  assert.equal(metricValue(await metrics(), 'llm_router_requests_in_flight'), 0);
});

test('upstream errors pass through with the upstream status and OpenAI shape, without leaking the key', async () => {
  await assert.rejects(
    client.chat.completions.create({ model: 'broken', messages: [{ role: 'user', content: 'hi' }] }),
    (err: unknown) => {
      assert.ok(err instanceof OpenAI.APIError);
      assert.equal(err.status, 500);
      assert.equal((err.error as { type: string }).type, 'server_error');
      return true;
    },
  );
  await assert.rejects(
    client.chat.completions.create({
      model: 'tiny-window',
      messages: [{ role: 'user', content: 'word '.repeat(100) }],
    }),
    (err: unknown) => {
      assert.ok(err instanceof OpenAI.APIError);
      assert.equal(err.status, 400);
      assert.equal(err.code, 'context_length_exceeded');
      return true;
    },
  );
  assert.ok(!stack.router.output().includes('sk-test-secret-123'), 'the upstream key never appears in logs');
  assert.ok(!(await metrics()).includes('sk-test-secret-123'));
});

test('metrics: counts, tokens, cost vs baseline, overhead; promtool check metrics passes', async () => {
  const before = await metrics();
  const n = 3;
  for (let i = 0; i < n; i++)
    await client.chat.completions.create({ model: 'auto', messages: [{ role: 'user', content: CODE }] });
  const text = await metrics();
  const delta = (name: string, labels: Record<string, string>) =>
    counter(text, name, labels) - counter(before, name, labels);
  assert.equal(
    delta('llm_router_requests_total', {
      policy: 'task_router',
      class: 'Code Generation',
      model: 'coder',
      status: '200',
    }),
    n,
  );
  const completion = delta('llm_router_tokens_total', { model: 'coder', type: 'completion' });
  const prompt = delta('llm_router_tokens_total', { model: 'coder', type: 'prompt' });
  assert.ok(completion > 0 && prompt > 0);
  const cost = delta('llm_router_cost_usd_total', { policy: 'task_router', model: 'coder' });
  assert.ok(Math.abs(cost - (prompt * 0.5 + completion * 1) / 1e6) < 1e-12, `cost ${cost}`);
  const baseline = delta('llm_router_baseline_cost_usd_total', { policy: 'task_router' });
  assert.ok(Math.abs(baseline - (prompt * 10 + completion * 30) / 1e6) < 1e-12, `baseline ${baseline}`);
  assert.ok(counter(text, 'llm_router_overhead_seconds_count', { policy: 'task_router' }) >= n);
  assert.match(text, /llm_router_requests_in_flight 0/);
  assert.match(
    text,
    /llm_router_requests_total\{endpoint="chat",policy="none",class="none",model="none",status="400"\}/,
  );

  const promtool = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
  assert.equal(promtool.error, undefined, 'promtool must be installed (make install-system-deps)');
  assert.equal(promtool.status, 0, promtool.stdout + promtool.stderr);
});

test('metrics: counters whose labels come from config start at 0; streams record inter-token latency and lengths', async () => {
  const first = await metrics();
  // Every configured deployment and model has its failure, cooldown, retry and rate-limit series from the start.
  for (const name of ['small', 'medium', 'coder', 'reasoner', 'huge', 'broken', 'tiny-window']) {
    for (const series of [
      `llm_router_deployment_failures_total{model="${name}",deployment="${name}-d1",reason="429"}`,
      `llm_router_deployment_cooldowns_total{model="${name}",deployment="${name}-d1",reason="retry_after"}`,
      `llm_router_retries_total{model="${name}",reason="500"}`,
      `llm_router_rate_limited_total{model="${name}",source="local"}`,
    ])
      assert.ok(first.includes(`${series} `), `${series} missing`);
  }
  const itl = (text: string, suffix: string) =>
    counter(text, `llm_router_inter_token_latency_seconds_${suffix}`, { model: 'medium' });
  const lengths = (text: string) => counter(text, 'llm_router_request_completion_tokens_count', { model: 'medium' });
  const stream = await client.chat.completions.create({
    model: 'medium',
    stream: true,
    stream_options: { include_usage: true },
    messages: [{ role: 'user', content: 'Tell me a story.' }],
  });
  let completionTokens = 0;
  for await (const chunk of stream) completionTokens = chunk.usage?.completion_tokens ?? completionTokens;
  assert.ok(completionTokens > 1);
  const after = await metrics();
  assert.equal(itl(after, 'count') - itl(first, 'count'), 1);
  // The sim streams 200 tokens/s at time_scale 0.01: ~0.05 ms per token after the first, plus delivery.
  const perToken = itl(after, 'sum') - itl(first, 'sum');
  assert.ok(perToken > 0 && perToken < 0.01, `inter-token latency ${perToken}s`);
  assert.equal(lengths(after) - lengths(first), 1);
  assert.ok(counter(after, 'llm_router_request_prompt_tokens_count', { model: 'medium' }) >= 1);
});
