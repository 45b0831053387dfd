// What the upstream receives: the client's own bytes, with only the model value replaced where the deployment's
// model has another name (no second serialisation, numbers as written; a compressed body once decoded); a body the
// router changes otherwise (its extension field dropped, usage asked for on a stream) is serialised again.
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
policies:
  - { name: p, classifier: task, routes: {}, default: same }
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

test('a deployment model of another name, an alias, or a policy: only the model value changes, byte for byte', async () => {
  for (const [model, upstreamModel] of [
    ['renamed', 'upstream-name'],
    ['nick', 'same'],
    ['router/p', 'same'],
  ] as const) {
    const got = await sent(body(model));
    assert.equal(got.text, body(model).replace(`"model":"${model}"`, `"model":"${upstreamModel}"`), model);
  }
});

test("the router's own extension field is never sent upstream, even when the model is unchanged", async () => {
  const got = await sent(body('same', ', "nim-llm-router": {"routing_strategy": "manual"}'));
  assert.equal('nim-llm-router' in got.body, false);
  assert.equal(got.body.model, 'same');
  assert.equal(got.body.temperature, 1);
});

test('a stream asks the upstream for usage; a gzip body reaches it as the text the client compressed', async () => {
  const streamed = await sent(body('same', ', "stream": true'));
  assert.deepEqual(streamed.body.stream_options, { include_usage: true });
  const gz = await sent(gzipSync(body('same')), { 'content-encoding': 'gzip' });
  assert.equal(gz.text, body('same'), 'decoded, and then byte for byte like any body');
});
