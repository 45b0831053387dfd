// What a hostile or careless client sends, through a real router in front of a fake upstream: inference paths in
// another letter case or with a trailing slash (once 500s), token-id arrays (once hundreds of MB of validation
// errors), token arrays too long for every model's context window (refused before any upstream call), and a body
// trickled a byte at a time (cut at server.request_timeout_ms).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { gzipSync } from 'node:zlib';
import { completion, startFakeUpstream, type FakeUpstream } from '../../test-support/fake-upstream.ts';
import { ROUTER_MAIN, startService, tempDir, type RunningService } from '../../test-support/services.ts';

const tmp = tempDir();
let upstream: FakeUpstream;
let router: RunningService;

test.before(async () => {
  upstream = await startFakeUpstream((req, res) => {
    const body = req.path.endsWith('/embeddings')
      ? JSON.stringify({
          object: 'list',
          data: [{ object: 'embedding', index: 0, embedding: [1, 0] }],
          model: 'e',
          usage: { prompt_tokens: 3, total_tokens: 3 },
        })
      : completion(String(req.body.model));
    res.writeHead(200, { 'content-type': 'application/json' }).end(body);
  });
  const dep = (m: string) =>
    `[ { id: ${m}-d, api_base: "${upstream.url}/${m}/v1", model: ${m}, price: { input_per_1m: 1, output_per_1m: 1 } } ]`;
  router = await startService(ROUTER_MAIN, [
    '--config',
    tmp.write(
      'router.yaml',
      `server: { request_timeout_ms: 1500 }
models:
  - { name: m, context_window: 1000, endpoints: [chat, completions, responses], deployments: ${dep('m')} }
  - { name: e, endpoints: [embeddings], deployments: ${dep('e')} }
policies:
  - { name: p, classifier: task, routes: {}, default: m }
`,
    ),
  ]);
});
test.after(async () => {
  await router?.stop();
  await upstream?.close();
  tmp.remove();
});

const post = async (path: string, body: string, headers: Record<string, string> = {}) => {
  const res = await fetch(`${router.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body,
    signal: AbortSignal.timeout(15_000),
  });
  return { status: res.status, json: (await res.json()) as { error?: { code: string; param: string | null } } };
};

test('inference paths in another letter case or with a trailing slash are served, on both body readers', async () => {
  const chat = JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'hi' }] });
  const bodies: Record<string, string> = {
    chat: chat,
    completions: JSON.stringify({ model: 'm', prompt: 'hi' }),
    responses: JSON.stringify({ model: 'm', input: 'hi' }),
    embeddings: JSON.stringify({ model: 'e', input: 'hi' }),
  };
  const paths = [
    ['/V1/chat/completions', 'chat'],
    ['/v1/Chat/Completions/', 'chat'],
    ['/CHAT/COMPLETIONS', 'chat'],
    ['/v1/responses/', 'responses'],
    ['/V1/RESPONSES', 'responses'],
    ['/v1/completions/', 'completions'],
    ['/V1/EMBEDDINGS', 'embeddings'],
    ['/embeddings/', 'embeddings'],
  ] as const;
  for (const [path, kind] of paths) {
    const fast = await post(path, bodies[kind]!);
    assert.equal(fast.status, 200, `${path} (plain JSON): ${JSON.stringify(fast.json)}`);
    // A gzip body is decoded first.
    const slow = await fetch(`${router.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' },
      body: gzipSync(bodies[kind]!),
    });
    assert.equal(slow.status, 200, `${path} (gzip): ${await slow.text()}`);
  }
  const unknown = await post('/v1/chat/completions/extra', chat);
  assert.deepEqual([unknown.status, unknown.json.error?.code], [404, 'not_found']);
});

test('token-id inputs: every valid shape passes, a wrong one is a 400 naming the field, a million ids are handled', async () => {
  for (const input of [[1, 2, 3], [[1, 2], [3]], ['a', 'b'], 'text']) {
    const r = await post('/v1/embeddings', JSON.stringify({ model: 'e', input }));
    assert.equal(r.status, 200, JSON.stringify(input));
  }
  for (const input of [[1, 'a'], [[1], []], [1.5], [-1], [], [[1], 2], [{}], null]) {
    const r = await post('/v1/embeddings', JSON.stringify({ model: 'e', input }));
    assert.deepEqual([r.status, r.json.error?.param], [400, 'input'], JSON.stringify(input));
  }
  const million = `[${Array.from({ length: 1_000_000 }, (_, i) => i % 10).join(',')}]`;
  const upstreamBefore = upstream.count('m');
  // More tokens than any model of the chain takes: refused before the upstream is called.
  const tooLong = await post('/v1/completions', `{"model":"m","prompt":${million}}`);
  assert.deepEqual([tooLong.status, tooLong.json.error?.code], [400, 'context_length_exceeded']);
  assert.equal(upstream.count('m'), upstreamBefore, 'no upstream call');
  // Four at once through the validator, then the router still answers at once.
  const results = await Promise.all([0, 1, 2, 3].map(() => post('/v1/embeddings', `{"model":"e","input":${million}}`)));
  assert.deepEqual(
    results.map((r) => r.status),
    [200, 200, 200, 200],
  );
  const health = await fetch(`${router.url}/health`, { signal: AbortSignal.timeout(5_000) });
  assert.equal(health.status, 200);
  const bad = await post('/v1/embeddings', `{"model":"e","input":${million.replace(/5/g, '"x"')}}`);
  assert.deepEqual([bad.status, bad.json.error?.param], [400, 'input']);
});

test('a body trickled a byte at a time is cut at server.request_timeout_ms with an OpenAI-shaped 408', async () => {
  const socket = connect(router.port, '127.0.0.1');
  let answer = '';
  socket.on('data', (d) => (answer += d.toString()));
  const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
  await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
  socket.write(
    'POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 500\r\n\r\n{',
  );
  const started = Date.now();
  const drip = setInterval(() => socket.writable && socket.write(' '), 200);
  await Promise.race([closed, new Promise((r) => setTimeout(r, 10_000))]);
  clearInterval(drip);
  socket.destroy();
  assert.match(answer, /^HTTP\/1\.1 408 /, answer);
  assert.equal(JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4)).error.code, 'request_timeout');
  assert.ok(Date.now() - started < 8_000, "cut near the limit, not at Node's 300 s default");
  const health = await fetch(`${router.url}/health`);
  assert.equal(health.status, 200);
});
