// An Anthropic deployment behind the OpenAI chat endpoint, end to end: llm-sim speaks Anthropic's Messages API
// (version header required, its own answer, stream and error shapes); the router translates both ways, and the
// official openai SDK reads the result as any OpenAI answer — plain and streamed, with usage, cost and TTFT.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { metricValue } from '../../test-support/services.ts';
import { streamChat } from '../../test-support/chat-stream.ts';
import { simAndRouter } from '../../test-support/sim-and-router.ts';

const fast = { ttft_ms: { mean: 1 }, tokens_per_second: { mean: 5000 }, output_tokens: { mean: 12, stddev: 0 } };
const stack = simAndRouter({
  simModels: [
    { id: 'claude-sim', ...fast },
    { id: 'gpt-sim', ...fast },
  ],
  timeScale: 1,
  routerYaml: (simUrl) => `models:
  - name: claude
    deployments:
      - { id: claude-1, provider: anthropic, api_base: "${simUrl}/v1", api_key: sk-ant-test, model: claude-sim,
          price: { input_per_1m: 3, output_per_1m: 15 } }
  - name: gpt
    deployments: [ { id: gpt-1, api_base: "${simUrl}/v1", model: gpt-sim, price: { input_per_1m: 1, output_per_1m: 2 } } ]
policies:
  - { name: p, classifier: task, routes: {}, default: claude }
`,
});

const client = () => new OpenAI({ baseURL: `${stack.router.url}/v1`, apiKey: 'unused' });
const metrics = async () => (await fetch(`${stack.router.url}/metrics`)).text();

test('plain: the openai SDK gets a chat completion from an Anthropic deployment, with usage and cost', async () => {
  const before = await metrics();
  const r = await client().chat.completions.create({
    model: 'router/p',
    max_tokens: 50,
    messages: [
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'Say hello.' },
    ],
  });
  assert.equal(r.object, 'chat.completion');
  assert.equal(r.model, 'claude-sim');
  assert.match(r.id, /^msg_sim_/);
  assert.ok((r.choices[0]!.message.content ?? '').length > 0);
  assert.equal(r.choices[0]!.finish_reason, 'stop');
  assert.equal(r.usage!.completion_tokens, 12);
  assert.ok(r.usage!.prompt_tokens > 0);
  const after = await metrics();
  const delta = (name: string, labels: Record<string, string>) =>
    metricValue(after, name, labels) - metricValue(before, name, labels);
  assert.equal(delta('llm_router_requests_total', { model: 'claude', status: '200' }), 1);
  assert.equal(delta('llm_router_tokens_total', { model: 'claude', type: 'completion' }), 12);
  const expected = (r.usage!.prompt_tokens * 3 + 12 * 15) / 1e6;
  assert.ok(Math.abs(delta('llm_router_cost_usd_total', { model: 'claude' }) - expected) < 1e-12);
});

test('streamed: OpenAI chunks, the usage chunk only when asked for, and time to first token', async () => {
  const before = await metrics();
  const { text, finish, usage } = await streamChat(client(), 'claude', 'Count to three.');
  assert.ok(text.length > 0);
  assert.equal(finish, 'stop');
  assert.equal(usage?.completion_tokens, 12);
  const after = await metrics();
  assert.equal(
    metricValue(after, 'llm_router_time_to_first_token_seconds_count', { model: 'claude' }) -
      metricValue(before, 'llm_router_time_to_first_token_seconds_count', { model: 'claude' }),
    1,
  );

  // Without include_usage the client gets no usage chunk, yet the router still costs the stream.
  const res = await fetch(`${stack.router.url}/v1/chat/completions`, {
    method: 'POST',
    body: JSON.stringify({ model: 'claude', stream: true, messages: [{ role: 'user', content: 'Hi' }] }),
  });
  const body = await res.text();
  assert.equal(res.headers.get('content-type'), 'text/event-stream');
  assert.doesNotMatch(body, /"usage"/);
  assert.match(body, /data: \[DONE\]\n\n$/);
  assert.equal(
    metricValue(await metrics(), 'llm_router_tokens_total', { model: 'claude', type: 'completion' }) -
      metricValue(after, 'llm_router_tokens_total', { model: 'claude', type: 'completion' }),
    12,
  );
});

test("llm-sim speaks Anthropic's API itself: its version header, answer, stream and error shapes", async () => {
  const post = (body: unknown, headers: Record<string, string> = { 'anthropic-version': '2023-06-01' }) =>
    fetch(`${stack.sim.url}/v1/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': 'k', ...headers },
      body: JSON.stringify(body),
    });
  const ok = await post({ model: 'claude-sim', max_tokens: 5, messages: [{ role: 'user', content: 'hi' }] });
  const msg = (await ok.json()) as { type: string; content: Array<{ type: string }>; stop_reason: string };
  assert.deepEqual(
    [ok.status, msg.type, msg.content[0]!.type, msg.stop_reason],
    [200, 'message', 'text', 'max_tokens'],
  );
  const noVersion = await post({ model: 'claude-sim', max_tokens: 5, messages: [{ role: 'user', content: 'hi' }] }, {});
  assert.equal(noVersion.status, 400);
  assert.deepEqual(
    ((await noVersion.json()) as { type: string; error: { type: string } }).error.type,
    'invalid_request_error',
  );
  const noMax = await post({ model: 'claude-sim', messages: [{ role: 'user', content: 'hi' }] });
  assert.equal(noMax.status, 400);
  const overloaded = await post(
    { model: 'claude-sim', max_tokens: 5, messages: [{ role: 'user', content: 'hi' }] },
    { 'anthropic-version': '2023-06-01', 'x-sim-fault': 'overloaded' },
  );
  assert.equal(overloaded.status, 529);
  assert.deepEqual(await overloaded.json(), {
    type: 'error',
    error: { type: 'overloaded_error', message: 'Overloaded' },
  });
  const streamed = await (
    await post({ model: 'claude-sim', max_tokens: 50, stream: true, messages: [{ role: 'user', content: 'hi' }] })
  ).text();
  const types = [...streamed.matchAll(/^event: (\w+)$/gm)].map((m) => m[1]);
  assert.deepEqual(
    [types[0], types[1], types[2], types.at(-3), types.at(-2), types.at(-1)],
    ['message_start', 'content_block_start', 'ping', 'content_block_stop', 'message_delta', 'message_stop'],
  );
});

test('an Anthropic deployment for a model that lists other endpoints is a config error naming the fix', async () => {
  const { parseRouterConfig } = await import('../src/config/load.ts');
  assert.throws(
    () =>
      parseRouterConfig(`models:
  - name: c
    endpoints: [chat, embeddings]
    deployments: [ { id: c1, provider: anthropic, api_base: "http://127.0.0.1:9/v1", model: x, price: { input_per_1m: 1, output_per_1m: 1 } } ]
`),
    /models\[0\]\.endpoints\[1\]: deployment "c1" speaks Anthropic's Messages API, which serves chat only/,
  );
});

test("Anthropic's Messages API in front: the official @anthropic-ai/sdk, unmodified, plain and streamed, routed by policy", async () => {
  const { default: Anthropic } = await import('@anthropic-ai/sdk');
  const anthropic = new Anthropic({ baseURL: stack.router.url, apiKey: 'unused' });
  const before = await metrics();
  const msg = await anthropic.messages.create({
    model: 'router/p',
    max_tokens: 64,
    system: 'Be brief.',
    messages: [{ role: 'user', content: 'Say hello.' }],
  });
  assert.equal(msg.type, 'message');
  assert.equal(msg.role, 'assistant');
  assert.equal(msg.content[0]!.type, 'text');
  assert.ok((msg.content[0] as { text: string }).text.length > 0);
  assert.equal(msg.stop_reason, 'end_turn');
  assert.equal(msg.usage.output_tokens, 12);
  assert.ok(msg.usage.input_tokens > 0);
  // An Anthropic deployment gets the request as it came and the client its answer untouched (llm-sim's own Message,
  // cache fields included, which no translation from chat would write) — and it still counts in the metrics.
  assert.match(msg.id, /^msg_sim_/);
  assert.equal(msg.usage.cache_creation_input_tokens, 0);
  const raw = await fetch(`${stack.router.url}/v1/messages`, {
    method: 'POST',
    body: JSON.stringify({
      model: 'claude',
      max_tokens: 20,
      stream: true,
      messages: [{ role: 'user', content: 'hi' }],
    }),
  });
  const rawText = await raw.text();
  assert.match(rawText, /^event: message_start\n/);
  assert.match(rawText, /event: ping\n/, "Anthropic's own stream, ping included");

  const stream = anthropic.messages.stream({
    model: 'claude',
    max_tokens: 64,
    messages: [{ role: 'user', content: 'Count to three.' }],
  });
  let text = '';
  stream.on('text', (t) => (text += t));
  const final = await stream.finalMessage();
  assert.ok(text.length > 0);
  assert.equal((final.content[0] as { text: string }).text, text);
  assert.equal(final.usage.output_tokens, 12);
  assert.equal(final.stop_reason, 'end_turn');

  // An OpenAI-compatible model serves the Messages API by translation, plain and streamed.
  const viaChat = await anthropic.messages.create({
    model: 'gpt',
    max_tokens: 30,
    messages: [{ role: 'user', content: 'hi' }],
  });
  assert.equal(viaChat.type, 'message');
  assert.equal(viaChat.usage.output_tokens, 12);
  assert.equal((viaChat.content[0] as { type: string }).type, 'text');
  const viaChatStream = await anthropic.messages
    .stream({ model: 'gpt', max_tokens: 30, messages: [{ role: 'user', content: 'hi' }] })
    .finalMessage();
  assert.equal(viaChatStream.usage.output_tokens, 12);
  assert.equal(viaChatStream.stop_reason, 'end_turn');
  const counted = await anthropic.messages.countTokens({
    model: 'claude',
    messages: [{ role: 'user', content: 'hi' }],
  });
  assert.ok(counted.input_tokens > 0);
  // Counted as Messages requests, routed by the same policies.
  const after = await metrics();
  assert.equal(
    metricValue(after, 'llm_router_requests_total', { endpoint: 'messages' }) -
      metricValue(before, 'llm_router_requests_total', { endpoint: 'messages' }),
    5,
  );
  assert.equal(
    metricValue(after, 'llm_router_tokens_total', { model: 'claude', type: 'completion' }) -
      metricValue(before, 'llm_router_tokens_total', { model: 'claude', type: 'completion' }),
    36,
    'the raw answers and streams are still read for usage',
  );
  assert.equal(
    metricValue(after, 'llm_router_requests_total', { endpoint: 'messages', policy: 'p' }) -
      metricValue(before, 'llm_router_requests_total', { endpoint: 'messages', policy: 'p' }),
    1,
  );

  // Errors in Anthropic's shape, read by its SDK.
  await assert.rejects(
    anthropic.messages.create({ model: 'no-such-model', max_tokens: 5, messages: [{ role: 'user', content: 'x' }] }),
    (err: InstanceType<typeof Anthropic.NotFoundError>) =>
      err instanceof Anthropic.NotFoundError && err.status === 404 && /does not exist/.test(err.message),
  );
  const bad = await fetch(`${stack.router.url}/v1/messages`, {
    method: 'POST',
    body: JSON.stringify({ model: 'claude', messages: [{ role: 'user', content: 'x' }] }),
  });
  assert.equal(bad.status, 400);
  assert.deepEqual(((await bad.json()) as { error: { type: string } }).error.type, 'invalid_request_error');
});
