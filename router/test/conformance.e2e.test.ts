// OpenAI API conformance, proved with the client libraries people use: the official openai SDK (6.x),
// LangChain (@langchain/openai) and the Vercel AI SDK (ai + @ai-sdk/openai), against the router in front of
// llm-sim (chat, completions, responses, embeddings) and a fixture upstream for the odd stream forms.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import OpenAI from 'openai';
import { ChatOpenAI, OpenAIEmbeddings } from '@langchain/openai';
import { createOpenAI } from '@ai-sdk/openai';
import { generateText, streamText } from 'ai';
import {
  ROUTER_MAIN,
  SIM_MAIN,
  metricValue,
  simConfigYaml,
  startService,
  tempDir,
  type RunningService,
} from '../../test-support/services.ts';
import { startFakeUpstream, streamChunks, type FakeUpstream } from '../../test-support/fake-upstream.ts';

const tmp = tempDir();
let sim: RunningService;
let router: RunningService;
let fixture: FakeUpstream;
let client: OpenAI;

const GEN = ['chat', 'completions', 'responses'];
before(async () => {
  const fast = { ttft_ms: { mean: 2 }, tokens_per_second: { mean: 2000 }, output_tokens: { mean: 12, stddev: 2 } };
  sim = await startService(SIM_MAIN, [
    '--config',
    tmp.write(
      'sim.yaml',
      simConfigYaml(
        [
          { id: 'gen', ...fast },
          { id: 'coder', ...fast },
          { id: 'embed', ...fast, embedding_dims: 64 },
          { id: 'broken', ...fast, error_rate: 1 },
        ],
        1,
      ),
    ),
  ]);
  fixture = await startFakeUpstream((req, res) => {
    // Every valid SSE line ending, with ratelimit headers on the way.
    const eol = req.name === 'cr' ? '\r' : '\r\n';
    res.writeHead(200, {
      'content-type': 'text/event-stream',
      'x-ratelimit-remaining-requests': '41',
      'x-ratelimit-limit-requests': '60',
    });
    for (const c of streamChunks('odd')) res.write(`data:${JSON.stringify(c)}${eol}${eol}`);
    res.end(`data: [DONE]${eol}${eol}`);
  });
  const dep = (m: string, extra = '', id = m) =>
    `[ { id: ${id}-d, api_base: "${sim.url}/v1", model: ${m}, price: { input_per_1m: 1, output_per_1m: 2 }${extra} } ]`;
  router = await startService(ROUTER_MAIN, [
    '--config',
    tmp.write(
      'router.yaml',
      `server: { cors: { allowed_origins: ["https://app.example"] } }
models:
  - { name: gen, endpoints: [${GEN}], capabilities: [tools, json_schema], deployments: ${dep('gen')} }
  - { name: coder, endpoints: [${GEN}], capabilities: [tools, json_schema], deployments: ${dep('coder')} }
  - { name: embed, endpoints: [embeddings], deployments: ${dep('embed')} }
  - { name: chat-only, deployments: ${dep('gen', '', 'chat-only')} }
  - { name: broken, deployments: ${dep('broken')} }
  - { name: limited, deployments: ${dep('gen', ', rpm: 1', 'limited')} }
  - { name: crlf, deployments: [ { id: crlf-d, api_base: "${fixture.url}/crlf/v1", model: x, price: { input_per_1m: 1, output_per_1m: 2 } } ] }
  - { name: cr, deployments: [ { id: cr-d, api_base: "${fixture.url}/cr/v1", model: x, price: { input_per_1m: 1, output_per_1m: 2 } } ] }
policies:
  - { name: task_router, classifier: task, routes: { Code Generation: coder }, default: gen }
resilience: { retries: 0 }
`,
    ),
  ]);
  client = new OpenAI({ baseURL: `${router.url}/v1`, apiKey: 'unused', maxRetries: 0, timeout: 15_000 });
});
after(async () => {
  await router?.stop();
  await sim?.stop();
  await fixture?.close();
  tmp.remove();
});

const metrics = async () => (await fetch(`${router.url}/metrics`)).text();
const count = async (labels: Record<string, string>) =>
  metricValue(await metrics(), 'llm_router_requests_total', labels);

test('openai: chat, the stream helper, models.retrieve (also router/<policy>), with an x-request-id on every answer', async () => {
  const { data, response } = await client.chat.completions
    .create({
      model: 'router/task_router',
      messages: [{ role: 'user', content: 'Write a Python function that sorts a list.' }],
    })
    .withResponse();
  assert.equal(data.model, 'coder');
  assert.match(response.headers.get('x-request-id')!, /^[0-9a-f-]{36}$/);
  const stream = client.chat.completions.stream({
    model: 'gen',
    messages: [{ role: 'user', content: 'hi' }],
    stream_options: { include_usage: true },
  });
  let text = '';
  stream.on('content', (delta) => (text += delta));
  const final = await stream.finalChatCompletion();
  assert.ok(text.length > 0 && final.choices[0]!.message.content === text);
  assert.ok(final.usage!.completion_tokens > 0);
  assert.equal((await client.models.retrieve('gen')).id, 'gen');
  assert.equal((await client.models.retrieve('router/task_router')).id, 'router/task_router');
  const echoed = await client.chat.completions
    .create({ model: 'gen', messages: [{ role: 'user', content: 'hi' }] }, { headers: { 'x-request-id': 'trace-42' } })
    .withResponse();
  assert.equal(echoed.response.headers.get('x-request-id'), 'trace-42');
});

test('openai: responses (plain and streamed, through a policy), embeddings (base64 decoded by the SDK), legacy completions', async () => {
  const r = await client.responses.create({
    model: 'router/task_router',
    input: 'Write a SQL query that lists the top customers.',
  });
  assert.equal(r.model, 'coder', 'the Responses input was classified like chat');
  assert.ok(r.output_text.length > 0);
  assert.ok(r.usage!.output_tokens > 0);
  const events: string[] = [];
  let streamed = '';
  for await (const ev of await client.responses.create({
    model: 'gen',
    input: [{ role: 'user', content: [{ type: 'input_text', text: 'hello' }] }],
    stream: true,
  })) {
    events.push(ev.type);
    if (ev.type === 'response.output_text.delta') streamed += ev.delta;
  }
  assert.equal(events.at(-1), 'response.completed');
  assert.ok(streamed.length > 0);
  const e = await client.embeddings.create({ model: 'embed', input: ['a', 'b'] });
  assert.equal(e.data.length, 2);
  assert.equal(e.data[0]!.embedding.length, 64);
  const again = await client.embeddings.create({ model: 'embed', input: 'a', encoding_format: 'float' });
  assert.deepEqual(
    again.data[0]!.embedding.map((v) => v.toFixed(5)),
    e.data[0]!.embedding.map((v) => v.toFixed(5)),
    'deterministic vectors, float or base64',
  );
  const c = await client.completions.create({ model: 'gen', prompt: 'def add(a, b):', max_tokens: 5 });
  assert.ok(c.choices[0]!.text.length > 0);
  let legacyStream = '';
  for await (const chunk of await client.completions.create({ model: 'gen', prompt: 'x', stream: true }))
    legacyStream += chunk.choices[0]?.text ?? '';
  assert.ok(legacyStream.length > 0);
  const m = await metrics();
  for (const endpoint of ['responses', 'embeddings', 'completions'])
    assert.ok(metricValue(m, 'llm_router_requests_total', { endpoint, status: '200' }) >= 1, endpoint);
  assert.ok(metricValue(m, 'llm_router_tokens_total', { model: 'embed', type: 'prompt' }) > 0, 'embeddings are costed');
  assert.ok(
    metricValue(m, 'llm_router_time_to_first_token_seconds_count', { model: 'gen' }) >= 2,
    'streams of chat, responses and completions record TTFT',
  );
});

test('openai: each error class, in OpenAI shape', async () => {
  await assert.rejects(
    client.chat.completions.create({ model: 'nope', messages: [{ role: 'user', content: 'x' }] }),
    OpenAI.NotFoundError,
  );
  await assert.rejects(client.chat.completions.create({ model: 'gen', messages: [] }), OpenAI.BadRequestError);
  await assert.rejects(
    client.embeddings.create({ model: 'gen', input: 'x' }),
    (err: unknown) => err instanceof OpenAI.BadRequestError && /does not serve \/v1\/embeddings/.test(err.message),
  );
  await assert.rejects(client.embeddings.create({ model: 'router/task_router', input: 'x' }), OpenAI.BadRequestError);
  // A chat-only model serves Responses by translation (responses-via-chat.e2e.test.ts); one serving neither does not.
  await assert.rejects(client.responses.create({ model: 'embed', input: 'x' }), OpenAI.BadRequestError);
  await assert.rejects(
    client.chat.completions.create({ model: 'broken', messages: [{ role: 'user', content: 'x' }] }),
    OpenAI.InternalServerError,
  );
  await client.chat.completions.create({ model: 'limited', messages: [{ role: 'user', content: 'x' }] });
  await assert.rejects(
    client.chat.completions.create({ model: 'limited', messages: [{ role: 'user', content: 'x' }] }),
    OpenAI.RateLimitError,
  );
  await assert.rejects(
    new OpenAI({ baseURL: `${router.url}/v1`, apiKey: 'x', maxRetries: 0, timeout: 1 }).chat.completions.create({
      model: 'gen',
      messages: [{ role: 'user', content: 'x' }],
    }),
    OpenAI.APIConnectionTimeoutError,
  );
});

test('openai: streams from an upstream with CRLF or CR line endings and "data:" with no space arrive whole; its rate-limit headers pass through', async () => {
  for (const model of ['crlf', 'cr']) {
    const { data: stream, response } = await client.chat.completions
      .create({ model, messages: [{ role: 'user', content: 'x' }], stream: true })
      .withResponse();
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? '';
    assert.equal(text, 'Hello', model);
    assert.equal(response.headers.get('x-ratelimit-remaining-requests'), '41');
  }
  assert.ok(
    metricValue(await metrics(), 'llm_router_tokens_total', { model: 'cr', type: 'completion' }) === 2,
    'usage read from the CR stream',
  );
});

test('LangChain: invoke, stream, tools, embeddings', async () => {
  const configuration = { baseURL: `${router.url}/v1` };
  const chat = new ChatOpenAI({ model: 'router/task_router', apiKey: 'unused', configuration, maxRetries: 0 });
  const msg = await chat.invoke('Write a Go function that reverses a string.');
  assert.ok(String(msg.content).length > 0);
  assert.equal(msg.response_metadata.model_name, 'coder');
  let streamed = '';
  for await (const chunk of await chat.stream('hello there')) streamed += String(chunk.content);
  assert.ok(streamed.length > 0);
  const withTools = chat.bindTools([
    {
      type: 'function',
      function: {
        name: 'get_weather',
        description: 'weather',
        parameters: { type: 'object', properties: { city: { type: 'string' } } },
      },
    },
  ]);
  assert.ok((await withTools.invoke('weather in Paris?')).content !== undefined);
  const embeddings = new OpenAIEmbeddings({ model: 'embed', apiKey: 'unused', configuration });
  const [a, b] = await embeddings.embedDocuments(['one', 'two']);
  assert.equal(a!.length, 64);
  assert.notDeepEqual(a, b);
  assert.deepEqual(await embeddings.embedQuery('one'), a);
});

test('Vercel AI SDK: generateText and streamText over the Responses API (its default) and over Chat', async () => {
  const openai = createOpenAI({ baseURL: `${router.url}/v1`, apiKey: 'unused' });
  const before = await count({ endpoint: 'responses' });
  const r = await generateText({ model: openai('gen'), prompt: 'Say hi' });
  assert.ok(r.text.length > 0);
  assert.ok((r.usage.outputTokens ?? 0) > 0);
  let streamed = '';
  const s = streamText({ model: openai('router/task_router'), prompt: 'Write a haiku about routers' });
  for await (const delta of s.textStream) streamed += delta;
  assert.ok(streamed.length > 0);
  assert.equal(await count({ endpoint: 'responses' }), before + 2, 'both went through /v1/responses');
  const chatText = await generateText({ model: openai.chat('gen'), prompt: 'Say hi' });
  assert.ok(chatText.text.length > 0);
  let chatStreamed = '';
  for await (const delta of streamText({ model: openai.chat('gen'), prompt: 'Say hi' }).textStream)
    chatStreamed += delta;
  assert.ok(chatStreamed.length > 0);
});

test('CORS: allowed origins get headers and preflights; others get none', async () => {
  const pre = await fetch(`${router.url}/v1/chat/completions`, {
    method: 'OPTIONS',
    headers: {
      origin: 'https://app.example',
      'access-control-request-method': 'POST',
      'access-control-request-headers': 'authorization, content-type',
    },
  });
  assert.equal(pre.status, 204);
  assert.equal(pre.headers.get('access-control-allow-origin'), 'https://app.example');
  assert.match(pre.headers.get('access-control-allow-headers')!, /authorization/);
  const res = await fetch(`${router.url}/v1/models`, { headers: { origin: 'https://app.example' } });
  assert.equal(res.headers.get('access-control-allow-origin'), 'https://app.example');
  assert.match(res.headers.get('access-control-expose-headers')!, /x-request-id/);
  const other = await fetch(`${router.url}/v1/models`, { headers: { origin: 'https://evil.example' } });
  assert.equal(other.headers.get('access-control-allow-origin'), null);
});

test("every answer carries one x-request-id (the client's own when given): answers, streams, errors, probes, every route, preflights", async () => {
  const hi = [{ role: 'user', content: 'hi' }];
  const post = (body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${router.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
    });
  const answers: Array<[string, Response]> = [
    ['chat', await post({ model: 'gen', messages: hi })],
    ['stream', await post({ model: 'gen', messages: hi, stream: true })],
    ['chat with a text/plain body', await post({ model: 'gen', messages: hi }, { 'content-type': 'text/plain' })],
    ['invalid body', await post({ model: 'gen', messages: [] })],
    ['unknown model', await post({ model: 'nope', messages: hi })],
    ['upstream failure', await post({ model: 'broken', messages: hi })],
    ['unknown route', await fetch(`${router.url}/v1/nope`)],
    ['/v1/models', await fetch(`${router.url}/v1/models`)],
    ['/health', await fetch(`${router.url}/health`)],
    ['/ready', await fetch(`${router.url}/ready`)],
    ['/metrics', await fetch(`${router.url}/metrics`)],
    [
      'preflight',
      await fetch(`${router.url}/v1/chat/completions`, {
        method: 'OPTIONS',
        headers: { origin: 'https://app.example', 'access-control-request-method': 'POST' },
      }),
    ],
    ['CORS answer', await post({ model: 'gen', messages: hi }, { origin: 'https://app.example' })],
  ];
  const ids = new Set<string>();
  for (const [what, res] of answers) {
    await res.arrayBuffer();
    // fetch joins repeated headers with ", ": one UUID means one header.
    const id = res.headers.get('x-request-id') ?? '';
    assert.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/, `${what}: ${id}`);
    ids.add(id);
  }
  assert.equal(ids.size, answers.length, 'a new id per request');
  const [chat, stream, viaExpress] = answers.map(([, res]) => res);
  for (const res of [chat!, stream!, viaExpress!]) {
    assert.equal(res.headers.get('x-router-model'), 'gen');
    assert.match(res.headers.get('server-timing')!, /^classify;dur=[\d.]+, upstream/);
  }
  assert.equal(chat!.headers.get('content-type'), 'application/json');
  assert.equal(stream!.headers.get('content-type'), 'text/event-stream');
  assert.equal(answers[12]![1].headers.get('access-control-allow-origin'), 'https://app.example');
  // The client's id on an error, with the routing headers of the request that failed.
  const failed = await post({ model: 'broken', messages: hi }, { 'x-request-id': 'trace-err-7' });
  assert.equal(failed.status, 500);
  assert.equal(failed.headers.get('x-request-id'), 'trace-err-7');
  assert.equal(failed.headers.get('x-router-model'), 'broken');
  assert.deepEqual(Object.keys(((await failed.json()) as { error: object }).error), [
    'message',
    'type',
    'param',
    'code',
  ]);
});

test('headers over the limit: a 431 in OpenAI shape, not an empty body', async () => {
  const raw = await new Promise<string>((resolve, reject) => {
    const s = connect(router.port, '127.0.0.1', () =>
      s.write(`GET /v1/models HTTP/1.1\r\nhost: x\r\nx-big: ${'a'.repeat(20_000)}\r\n\r\n`),
    );
    let out = '';
    s.on('data', (d) => (out += d.toString()))
      .on('end', () => resolve(out))
      .on('error', reject);
  });
  assert.match(raw, /^HTTP\/1\.1 431 /);
  const body = JSON.parse(raw.slice(raw.indexOf('\r\n\r\n') + 4)) as { error: { code: string } };
  assert.equal(body.error.code, 'headers_too_large');
});
