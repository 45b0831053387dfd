// The router against a misbehaving upstream (a scriptable fixture on loopback) and clients that leave:
// every case here failed before its fix (issue: hold under hostile conditions; OpenAI conformance bugs).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { ServerResponse } from 'node:http';
import {
  ROUTER_MAIN,
  metricValue,
  startService,
  tempDir,
  waitFor,
  type RunningService,
} from '../../test-support/services.ts';
import {
  completion,
  startFakeUpstream,
  streamChunks,
  type FakeUpstream,
  type UpstreamRequest,
} from '../../test-support/fake-upstream.ts';

const KEY = 'sk-router-secret-987654321';
const tmp = tempDir();
let up: FakeUpstream;
let router: RunningService;

const sse = (res: ServerResponse, eol = '\n', sep = ': ') => {
  res.writeHead(200, { 'content-type': 'text/event-stream' });
  return (o: unknown) => res.write(`data${sep}${typeof o === 'string' ? o : JSON.stringify(o)}${eol}${eol}`);
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** The CRLF fixture waits for the client to have its first content chunk: counted, not timed. */
const crlfGate = { open: () => {}, seen: Promise.resolve(), heldBack: false };
crlfGate.seen = new Promise<void>((resolve) => (crlfGate.open = resolve));

const BEHAVIOURS: Record<string, (req: UpstreamRequest, res: ServerResponse) => void | Promise<void>> = {
  ok: (req, res) => {
    if (req.body.stream) {
      const send = sse(res);
      for (const c of streamChunks('ok')) send(c);
      send('[DONE]');
      return void res.end();
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end(completion('ok'));
  },
  fail500: (_req, res) =>
    void res
      .writeHead(500, { 'content-type': 'application/json' })
      .end('{"error":{"message":"boom","type":"server_error"}}'),
  auth401: (_req, res) =>
    void res
      .writeHead(401, { 'content-type': 'application/json' })
      .end(
        `{"error":{"message":"Incorrect API key provided: ${KEY}. You can find your API key at ...","type":"invalid_request_error","code":"invalid_api_key"}}`,
      ),
  leaky400: (req, res) =>
    void res.writeHead(400, { 'content-type': 'application/json' }).end(
      JSON.stringify({
        error: {
          message: `Bad request; headers were authorization=${String(req.headers.authorization)} api_key=${KEY}`,
          type: 'invalid_request_error',
        },
      }),
    ),
  redirect: (_req, res) => void res.writeHead(302).end(),
  html: (_req, res) =>
    void res.writeHead(200, { 'content-type': 'text/html' }).end('<html><body>Gateway login</body></html>'),
  badjson: (_req, res) =>
    void res.writeHead(200, { 'content-type': 'application/json' }).end('{"id": "chatcmpl-1", "choices": [{"mess'),
  huge: (_req, res) =>
    void res
      .writeHead(200, { 'content-type': 'application/json' })
      .end(completion('huge', 'x'.repeat(2 * 1024 * 1024))),
  crlf: async (_req, res) => {
    const send = sse(res, '\r\n');
    const chunks = streamChunks('crlf');
    send(chunks[0]);
    send(chunks[1]);
    // The rest only once the client has the first content chunk (or after 5 s: then it was held back).
    crlfGate.heldBack = !(await Promise.race([crlfGate.seen.then(() => true), sleep(5000).then(() => false)]));
    for (const c of chunks.slice(2)) send(c);
    send('[DONE]');
    res.end();
  },
  nospace: (_req, res) => {
    const send = sse(res, '\n', ':');
    for (const c of streamChunks('nospace')) send(c);
    send('[DONE]');
    res.end();
  },
  midfail: async (_req, res) => {
    const send = sse(res);
    const chunks = streamChunks('midfail');
    send(chunks[0]);
    send(chunks[1]);
    await sleep(100);
    res.destroy();
  },
  nousage: (req, res) => {
    if (req.body.stream_options !== undefined) {
      return void res
        .writeHead(400, { 'content-type': 'application/json' })
        .end(
          '{"error":{"message":"Unrecognized request argument supplied: stream_options","type":"invalid_request_error"}}',
        );
    }
    BEHAVIOURS.ok!(req, res);
  },
  firehose: (_req, res) => {
    // Writes until the router stops reading it.
    const send = sse(res);
    const chunk = { choices: [{ index: 0, delta: { content: 'y'.repeat(16 * 1024) } }] };
    const pump = () => {
      while (!res.destroyed && send(chunk));
      if (!res.destroyed) res.once('drain', pump);
    };
    pump();
  },
};

const dep = (id: string, name: string, extra: Record<string, unknown> = {}) =>
  JSON.stringify({
    id,
    api_base: `${up.url}/${name}/v1`,
    api_key: KEY,
    model: name,
    price: { input_per_1m: 1, output_per_1m: 2 },
    timeout_ms: 10_000,
    ...extra,
  });

before(async () => {
  up = await startFakeUpstream((req, res) => BEHAVIOURS[req.name]!(req, res));
  const single = ['auth401', 'leaky400', 'redirect', 'html', 'badjson', 'crlf', 'nospace', 'midfail', 'nousage'];
  const yaml = `resilience: { retries: 1, backoff_ms: 1500, max_retry_ms: 10000 }
models:
  - name: flaky
    strategy: lowest_cost
    deployments:
      - ${dep('flaky-bad', 'fail500', { price: { input_per_1m: 0.1, output_per_1m: 0.1 } })}
      - ${dep('flaky-good', 'ok')}
  - name: huge
    deployments: [ ${dep('huge', 'huge', { max_response_bytes: 1048576 })} ]
  - name: firehose
    deployments: [ ${dep('firehose', 'firehose', { timeout_ms: 1500 })} ]
${single.map((n) => `  - name: ${n}\n    deployments: [ ${dep(n, n)} ]`).join('\n')}
aliases: { auto: flaky }
`;
  router = await startService(ROUTER_MAIN, ['--config', tmp.write('router.yaml', yaml)]);
});
after(async () => {
  await router?.stop();
  await up?.close();
  tmp.remove();
});

const chat = (model: string, extra: Record<string, unknown> = {}, signal?: AbortSignal) =>
  fetch(`${router.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model, messages: [{ role: 'user', content: 'hi' }], ...extra }),
    signal: signal ?? AbortSignal.timeout(15_000),
  });
const metrics = async () => (await fetch(`${router.url}/metrics`, { signal: AbortSignal.timeout(5000) })).text();
const inFlight = async () => {
  const d = (await (await fetch(`${router.url}/v1/deployments`, { signal: AbortSignal.timeout(5000) })).json()) as {
    data: Array<{ id: string; in_flight: number }>;
  };
  return Object.fromEntries(d.data.map((x) => [x.id, x.in_flight]));
};

for (const stream of [false, true]) {
  test(`a client that leaves during a retry's backoff: the retry is never sent, nothing leaks, counted once as 499 (stream: ${stream})`, async () => {
    const okBefore = up.count('ok');
    const before499 = metricValue(await metrics(), 'llm_router_requests_total', { model: 'flaky', status: '499' });
    const ac = new AbortController();
    const pending = chat('flaky', { stream }, ac.signal).catch((e: Error) => e);
    await waitFor('the first attempt failed', () => up.requests.some((r) => r.name === 'fail500'), 5000);
    await sleep(300); // inside the 1.5 s backoff
    ac.abort();
    assert.ok((await pending) instanceof Error);
    await sleep(2000); // past the backoff
    assert.equal(up.count('ok'), okBefore, 'no retry was sent after the client left');
    assert.deepEqual(await inFlight().then((f) => [f['flaky-bad'], f['flaky-good']]), [0, 0]);
    await waitFor(
      'counted as 499',
      async () =>
        metricValue(await metrics(), 'llm_router_requests_total', { model: 'flaky', status: '499' }) === before499 + 1,
      3000,
    );
  });
}

test('an upstream 401 is a 502 naming the deployment; the provider key never reaches the client', async () => {
  const res = await chat('auth401');
  const text = await res.text();
  assert.equal(res.status, 502);
  assert.equal((JSON.parse(text) as { error: { code: string } }).error.code, 'upstream_auth_failed');
  assert.match(text, /deployment 'auth401'/);
  assert.ok(!text.includes(KEY) && !text.includes('sk-'), text);
  assert.ok(!router.output().includes(KEY), 'nor the router log');
});

test('secrets in a passed-through upstream error are scrubbed', async () => {
  const res = await chat('leaky400');
  const text = await res.text();
  assert.equal(res.status, 400);
  assert.ok(!text.includes(KEY) && !text.includes('987654321'), text);
  assert.match(text, /\[redacted\]/);
});

test('a redirect, an HTML 200 and a truncated JSON 200 are upstream failures (502), not successes', async () => {
  for (const model of ['redirect', 'html', 'badjson']) {
    const res = await chat(model);
    const body = (await res.json()) as { error: { code: string; message: string } };
    assert.equal(res.status, 502, model);
    assert.equal(body.error.code, 'bad_upstream_response', `${model}: ${body.error.message}`);
  }
  const m = await metrics();
  for (const model of ['redirect', 'html', 'badjson'])
    assert.equal(
      metricValue(m, 'llm_router_deployment_failures_total', { deployment: model, reason: 'bad_response' }),
      1,
      model,
    );
});

test('a stream request answered 200 with HTML is a failed attempt: the client gets a 502, not an HTML "stream"', async () => {
  const res = await chat('html', { stream: true });
  const body = (await res.json()) as { error: { code: string; message: string } };
  assert.equal(res.status, 502);
  assert.equal(body.error.code, 'bad_upstream_response');
  assert.match(body.error.message, /not an event stream \(text\/html\)/);
  assert.equal(
    metricValue(await metrics(), 'llm_router_deployment_failures_total', {
      deployment: 'html',
      reason: 'bad_response',
    }),
    2,
  );
});

test('an answer over max_response_bytes fails the attempt instead of being held in memory', async () => {
  const res = await chat('huge');
  assert.equal(res.status, 502);
  assert.match(((await res.json()) as { error: { message: string } }).error.message, /max_response_bytes \(1048576\)/);
});

test('"constructor", "__proto__" and "toString" are unknown models (404), not a 500', async () => {
  for (const model of ['constructor', '__proto__', 'toString', 'hasOwnProperty']) {
    const res = await chat(model);
    assert.equal(res.status, 404, model);
    assert.equal(((await res.json()) as { error: { code: string } }).error.code, 'model_not_found');
  }
});

/** Reads an SSE response, noting when each data event arrived (ms after the request). */
async function readStream(res: Response, t0: number, onEvent: (data: string) => void = () => {}) {
  const events: Array<{ at: number; data: string }> = [];
  const decoder = new TextDecoder();
  let buf = '';
  for await (const chunk of res.body!) {
    buf += decoder.decode(chunk, { stream: true });
    let i: number;
    while ((i = buf.search(/\r\n\r\n|\n\n|\r\r/)) >= 0) {
      const ev = buf.slice(0, i);
      buf = buf.slice(i).replace(/^(\r\n\r\n|\n\n|\r\r)/, '');
      const data = ev
        .split(/\r\n|\r|\n/)
        .filter((l) => l.startsWith('data:'))
        .map((l) => l.slice(5).replace(/^ /, ''))
        .join('\n');
      if (data) {
        events.push({ at: Date.now() - t0, data });
        onEvent(data);
      }
    }
  }
  return events;
}

test('a CRLF stream is streamed: the first token arrives at once, the added usage chunk is not leaked, tokens are counted', async () => {
  const before = metricValue(await metrics(), 'llm_router_tokens_total', { model: 'crlf', type: 'completion' });
  const t0 = Date.now();
  const res = await chat('crlf', { stream: true });
  const events = await readStream(res, t0, (data) => data.includes('"Hel"') && crlfGate.open());
  assert.ok(events.some((e) => e.data.includes('"Hel"')));
  assert.equal(
    crlfGate.heldBack,
    false,
    'the first content chunk reached the client before the upstream sent the rest',
  );
  assert.ok(!events.some((e) => e.data.includes('"usage"')), 'the client did not ask for usage');
  assert.equal(events.at(-1)!.data, '[DONE]');
  assert.equal(
    metricValue(await metrics(), 'llm_router_tokens_total', { model: 'crlf', type: 'completion' }) - before,
    2,
  );
  assert.ok(metricValue(await metrics(), 'llm_router_time_to_first_token_seconds_count', { model: 'crlf' }) >= 1);
});

test('"data:" with no space: usage read, not leaked', async () => {
  const before = metricValue(await metrics(), 'llm_router_tokens_total', { model: 'nospace', type: 'prompt' });
  const events = await readStream(await chat('nospace', { stream: true }), Date.now());
  assert.ok(!events.some((e) => e.data.includes('"usage"')));
  assert.equal(
    metricValue(await metrics(), 'llm_router_tokens_total', { model: 'nospace', type: 'prompt' }) - before,
    5,
  );
});

test('a stream whose upstream dies half-way ends with an OpenAI-style error event', async () => {
  const events = await readStream(await chat('midfail', { stream: true }), Date.now());
  assert.ok(
    events.some((e) => e.data.includes('"Hel"')),
    'the tokens before the failure were delivered',
  );
  const last = JSON.parse(events.at(-1)!.data) as { error?: { type: string; message: string } };
  assert.equal(last.error?.type, 'upstream_error', events.at(-1)!.data);
});

test('a provider that rejects stream_options: the router asks again without it, and stops adding it', async () => {
  const events = await readStream(await chat('nousage', { stream: true }), Date.now());
  assert.equal(events.at(-1)!.data, '[DONE]');
  assert.ok(events.some((e) => e.data.includes('"Hel"')));
  const sent = up.requests.filter((r) => r.name === 'nousage');
  assert.deepEqual(
    sent.map((r) => r.body.stream_options !== undefined),
    [true, false],
  );
  await readStream(await chat('nousage', { stream: true }), Date.now());
  assert.equal(
    up.requests.filter((r) => r.name === 'nousage').at(-1)!.body.stream_options,
    undefined,
    'not added any more',
  );
});

test('a client that stops reading a stream does not hold the deployment past its timeout', async () => {
  const res = await chat('firehose', { stream: true });
  assert.equal(res.status, 200);
  const reader = res.body!.getReader();
  await reader.read(); // one chunk, then never again
  await waitFor(
    'the deployment slot is released after timeout_ms (1.5 s)',
    async () => (await inFlight()).firehose === 0,
    8000,
    200,
  );
  await waitFor('the upstream stream is closed', () => up.open() === 0, 5000);
  await reader.cancel().catch(() => {});
  // Each backpressure wait removes its listeners (one 'close' listener per wait used to pile up).
  assert.doesNotMatch(router.output(), /MaxListenersExceeded/);
});

test('a JSON body nested 4,200 levels deep is a 400, not a 500', async () => {
  const deep = '['.repeat(4200) + ']'.repeat(4200);
  const body = `{"model":"flaky","messages":[{"role":"user","content":"hi"}],"metadata":${deep}}`;
  const res = await fetch(`${router.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body,
    signal: AbortSignal.timeout(5000),
  });
  assert.equal(res.status, 400);
  assert.equal(((await res.json()) as { error: { code: string } }).error.code, 'json_too_deep');
});

test('GET /v1/models/{id} answers for listed ids, including router/<policy>-style ids, and 404s the rest', async () => {
  const res = await fetch(`${router.url}/v1/models/flaky`, { signal: AbortSignal.timeout(5000) });
  assert.equal(res.status, 200);
  assert.deepEqual(((await res.json()) as { id: string; object: string }).id, 'flaky');
  const alias = await fetch(`${router.url}/v1/models/auto`, { signal: AbortSignal.timeout(5000) });
  assert.equal(alias.status, 200);
  const missing = await fetch(`${router.url}/v1/models/nope`, { signal: AbortSignal.timeout(5000) });
  assert.equal(missing.status, 404);
  assert.equal(((await missing.json()) as { error: { code: string } }).error.code, 'model_not_found');
});
