// What the upstream receives: the client's own bytes when the model it names is the deployment's and nothing
// else changes (no second serialisation, numbers as written); otherwise the body with the deployment's model,
// the router's extension field dropped, and on streams usage asked for.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import { ROUTER_MAIN, startService, tempDir, type RunningService } from '../../test-support/services.ts';
import { completion, startFakeUpstream, streamChunks, type FakeUpstream } from '../../test-support/fake-upstream.ts';

const tmp = tempDir();
let up: FakeUpstream;
let router: RunningService;

before(async () => {
  up = await startFakeUpstream((req, res) => {
    if (!req.body.stream) {
      res.writeHead(200, { 'content-type': 'application/json' });
      return void res.end(completion(String(req.body.model)));
    }
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    for (const c of streamChunks(String(req.body.model))) res.write(`data: ${JSON.stringify(c)}\n\n`);
    res.end('data: [DONE]\n\n');
  });
  const dep = (id: string, model: string) =>
    `[ { id: ${id}, api_base: "${up.url}/${id}/v1", model: ${model}, price: { input_per_1m: 1, output_per_1m: 2 } } ]`;
  router = await startService(ROUTER_MAIN, [
    '--config',
    tmp.write(
      'router.yaml',
      `models:
  - { name: same, deployments: ${dep('same-d', 'same')} }
  - { name: renamed, deployments: ${dep('renamed-d', 'upstream-name')} }
aliases: { nick: same }
`,
    ),
  ]);
});
after(async () => {
  await router?.stop();
  await up?.close();
  tmp.remove();
});

/** Sends `text` as the body as is; returns what the upstream received for it. */
async function sent(text: string | Buffer, headers: Record<string, string> = {}) {
  const before = up.requests.length;
  const res = await fetch(`${router.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof text === 'string' ? text : new Uint8Array(text),
    signal: AbortSignal.timeout(10_000),
  });
  const answer = await res.text();
  assert.equal(res.status, 200, answer);
  assert.equal(up.requests.length, before + 1, 'one upstream call');
  return up.requests.at(-1)!;
}

// Spacing, key order, escapes, a number past 2^53 and a float written as 1.0: what a re-serialisation changes.
const body = (model: string, extra = '') =>
  `{ "messages" : [ {"role":"user","content":"h\\u00e9llo \\"there\\" 😀"} ],\n  "model":"${model}", "seed": 12345678901234567890, "temperature": 1.0, "logit_bias": {"50256": -100}${extra} }`;

test('the model named is the deployment model: the upstream gets the exact bytes the client sent', async () => {
  const text = body('same');
  const got = await sent(text);
  assert.equal(got.text, text);
});

test('a deployment model of another name, or an alias: the model is replaced and every other field kept', async () => {
  for (const [model, upstreamModel] of [
    ['renamed', 'upstream-name'],
    ['nick', 'same'],
  ] as const) {
    const got = await sent(body(model));
    const { model: _, ...rest } = JSON.parse(body(model)) as Record<string, unknown>;
    assert.deepEqual(got.body, { ...rest, model: upstreamModel }, model);
    assert.notEqual(got.text, body(model));
  }
});

test("the router's own extension field is never sent upstream, even when the model is unchanged", async () => {
  const got = await sent(body('same', ', "nim-llm-router": {"routing_strategy": "manual"}'));
  assert.equal('nim-llm-router' in got.body, false);
  assert.equal(got.body.model, 'same');
  assert.equal(got.body.temperature, 1);
});

test('a stream asks the upstream for usage; a gzip body (read by the express route) is re-serialised', async () => {
  const streamed = await sent(body('same', ', "stream": true'));
  assert.deepEqual(streamed.body.stream_options, { include_usage: true });
  const gz = await sent(gzipSync(body('same')), { 'content-encoding': 'gzip' });
  assert.deepEqual(gz.body, JSON.parse(body('same')));
  assert.notEqual(gz.text, body('same'), 'parsed and serialised again on that route');
});
