// The routing and resilience parts in process, with injected clocks, randomness and a fake upstream call:
// MinuteWindow, the balancer's strategies, the target resolver, the body reader and the attempts loop.
import { test, after } from 'node:test';
import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import type { IncomingMessage } from 'node:http';
import { mulberry32 } from '@llm-router/common/prng';
import { parseRouterConfig } from '../src/config/load.ts';
import { MinuteWindow } from '../src/upstream/minute-window.ts';
import { pickDeployment } from '../src/upstream/balancer.ts';
import { DeploymentRegistry, type Deployment } from '../src/upstream/deployments.ts';
import { TargetResolver } from '../src/routing/resolve-target.ts';
import { ApiError } from '../src/http/errors.ts';
import { BodyAbortedError, readJsonBody } from '../src/http/read-body.ts';
import { runAttempts, type AttemptsEnv } from '../src/upstream/attempts.ts';
import type { AttemptResult, callDeployment } from '../src/upstream/call-deployment.ts';
import { AbortEmitter } from '../src/upstream/abort-emitter.ts';

const config = parseRouterConfig(
  `
models:
  - name: m
    strategy: least_in_flight
    fallbacks: [big]
    deployments:
      - { id: a, api_base: "http://127.0.0.1:1/v1", model: a, price: { input_per_1m: 1, output_per_1m: 1 }, rpm: 2 }
      - { id: b, api_base: "http://127.0.0.1:1/v1", model: b, price: { input_per_1m: 3, output_per_1m: 3 }, weight: 3 }
  - name: big
    deployments: [ { id: c, api_base: "http://127.0.0.1:1/v1", model: c, price: { input_per_1m: 9, output_per_1m: 9 } } ]
policies:
  - { name: p, classifier: task, routes: {}, default: m }
aliases: { auto: router/p, small: m }
resilience: { retries: 2, backoff_ms: 10, max_retry_ms: 10000 }
`,
  'router.yaml',
  {},
);
const registry = new DeploymentRegistry(config);
after(() => registry.close());
const [a, b] = registry.deploymentsOf('m') as [Deployment, Deployment];

const T0 = 10_000_000;

test('MinuteWindow counts the last 60 seconds in one-second buckets', () => {
  const w = new MinuteWindow();
  w.add(1, 100, T0);
  w.add(2, 50, T0 + 30_000);
  assert.deepEqual(w.usage(T0 + 59_000), { requests: 3, tokens: 150 });
  assert.deepEqual(w.usage(T0 + 60_000), { requests: 2, tokens: 50 }, 'the first second left the window');
  assert.equal(w.msUntilOldestExpires(T0 + 45_000), 15_000, 'the request at T0 leaves the window at T0 + 60 s');
  assert.deepEqual(w.usage(T0 + 200_000), { requests: 0, tokens: 0 });
});

test('the balancer: strategies pick as documented; unavailable deployments are skipped with a reason', () => {
  const none = new Set<Deployment>();
  // weighted_random: b has weight 3, a weight 1.
  const rand = mulberry32(1);
  let toB = 0;
  for (let i = 0; i < 4000; i++) {
    const p = pickDeployment([a, b], 'weighted_random', 10, none, rand, T0);
    if (p.ok && p.deployment === b) toB++;
  }
  assert.ok(Math.abs(toB / 4000 - 0.75) < 0.03, `b got ${toB / 4000}`);
  // least_in_flight
  const lease = b.state.begin(1, T0);
  const least = pickDeployment([a, b], 'least_in_flight', 10, none, () => 0.99, T0);
  assert.ok(least.ok && least.deployment === a);
  lease.end();
  // lowest_cost, and exclusion
  const cheap = pickDeployment([a, b], 'lowest_cost', 10, none, () => 0, T0);
  assert.ok(cheap.ok && cheap.deployment === a);
  const excluded = pickDeployment([a, b], 'lowest_cost', 10, new Set([a]), () => 0, T0);
  assert.ok(excluded.ok && excluded.deployment === b);
  // a at its rpm (2), b cooling: rate limited vs cooling, with when to come back
  const now = T0 + 1_000_000;
  a.state.begin(1, now).end();
  a.state.begin(1, now).end();
  b.state.coolFor(5, 'test', now);
  const limited = pickDeployment([a], 'weighted_random', 10, none, () => 0, now);
  assert.deepEqual([limited.ok, !limited.ok && limited.reason, limited.rateLimitedSkips], [false, 'rate_limited', 1]);
  const both = pickDeployment([a, b], 'weighted_random', 10, none, () => 0, now);
  assert.ok(!both.ok && both.reason === 'cooling' && both.retryAfterMs === 5000);
  assert.deepEqual(
    pickDeployment([a, b], 'weighted_random', 10, new Set([a, b]), () => 0, now),
    { ok: false, reason: 'exhausted', retryAfterMs: 0, rateLimitedSkips: 0 },
  );
});

test('the target resolver: nim-llm-router > header > router/<policy> > alias > model name; clear errors', () => {
  const r = new TargetResolver(config);
  assert.deepEqual(r.resolve({ model: 'm', 'nim-llm-router': { policy: 'p' } }, 'nope'), {
    kind: 'policy',
    policy: 'p',
  });
  assert.deepEqual(
    r.resolve({ model: 'm', 'nim-llm-router': { routing_strategy: 'manual', model: 'big' } }, undefined),
    { kind: 'manual', model: 'big' },
  );
  assert.deepEqual(r.resolve({ model: 'm' }, 'p'), { kind: 'policy', policy: 'p' });
  assert.deepEqual(r.resolve({ model: 'router/p' }, undefined), { kind: 'policy', policy: 'p' });
  assert.deepEqual(r.resolve({ model: 'auto' }, undefined), { kind: 'policy', policy: 'p' });
  assert.deepEqual(r.resolve({ model: 'small' }, undefined), { kind: 'manual', model: 'm' });
  const status = (fn: () => unknown) => {
    try {
      fn();
      return 0;
    } catch (err) {
      return (err as ApiError).status;
    }
  };
  assert.equal(
    status(() => r.resolve({ model: 'router/nope' }, undefined)),
    404,
  );
  assert.equal(
    status(() => r.resolve({ model: 'constructor' }, undefined)),
    404,
  );
  assert.equal(
    status(() => r.resolve({}, undefined)),
    400,
  );
  assert.equal(
    status(() => r.resolve({ 'nim-llm-router': { routing_strategy: 'bogus' } }, undefined)),
    400,
  );
});

/** A request stream the body reader can read, fed by `chunks`. */
function fakeRequest(chunks: Array<string | Buffer | 'abort'>, headers: Record<string, string> = {}): IncomingMessage {
  const s = new PassThrough() as unknown as IncomingMessage & PassThrough;
  (s as { headers: Record<string, string> }).headers = headers;
  (s as { complete: boolean }).complete = false;
  setImmediate(() => {
    for (const c of chunks) {
      if (c === 'abort') return void s.destroy();
      s.write(c);
    }
    (s as { complete: boolean }).complete = true;
    s.end();
  });
  return s;
}

test('the body reader: JSON, empty, BOM; 400 invalid, 413 declared or streamed, a client gone, a refused budget', async () => {
  assert.deepEqual(await readJsonBody(fakeRequest(['{"a":', '1}']), 100), { value: { a: 1 }, text: '{"a":1}' });
  assert.deepEqual(await readJsonBody(fakeRequest([]), 100), { value: {}, text: undefined });
  const bom = await readJsonBody(fakeRequest(['\ufeff{"b":', ' 2}']), 100);
  assert.deepEqual(bom.value, { b: 2 });
  assert.equal(bom.text, '{"b": 2}', 'the text it was parsed from, chunks joined, the BOM left out');
  await assert.rejects(
    readJsonBody(fakeRequest(['{"a":']), 100),
    (e: ApiError) => e.status === 400 && e.code === 'invalid_json',
  );
  await assert.rejects(
    readJsonBody(fakeRequest(['{}'], { 'content-length': '1000' }), 100),
    (e: ApiError) => e.status === 413,
  );
  await assert.rejects(
    readJsonBody(fakeRequest(['{"a":"', 'x'.repeat(200), '"}']), 100),
    (e: ApiError) => e.status === 413,
  );
  await assert.rejects(readJsonBody(fakeRequest(['{"a":', 'abort']), 100), BodyAbortedError);
  let held = 0;
  const busy = () => new ApiError(503, 'busy', 'server_error', 'server_busy');
  await assert.rejects(
    readJsonBody(fakeRequest(['{"a":', '1}']), 100, (n) => (held + n > 6 ? false : ((held += n), true)), busy),
    (e: ApiError) => e.code === 'server_busy',
  );
});

test('the body reader decodes what HTTP allows: gzip, deflate, br, UTF-16; refuses other charsets and encodings', async () => {
  const json = '{"q":"héllo 😀"}';
  const read = (body: Buffer, headers: Record<string, string>, limit = 1000) =>
    readJsonBody(fakeRequest([body], headers), limit);
  for (const [encoding, pack] of [
    ['gzip', gzipSync],
    ['deflate', deflateSync],
    ['br', brotliCompressSync],
  ] as const) {
    const got = await read(pack(json), { 'content-encoding': encoding });
    assert.deepEqual(got, { value: { q: 'héllo 😀' }, text: json }, encoding);
  }
  const utf16 = await read(Buffer.from(json, 'utf16le'), { 'content-type': 'application/json; charset=utf-16le' });
  assert.deepEqual(utf16.value, { q: 'héllo 😀' });
  const refused = (headers: Record<string, string>) => (e: ApiError) =>
    e.status === 415 &&
    e.code === 'unsupported_encoding' &&
    new RegExp(Object.values(headers)[0]!.split('=').at(-1)!, 'i').test(e.message);
  await assert.rejects(
    read(Buffer.from(json, 'latin1'), { 'content-type': 'application/json; charset=latin1' }),
    refused({ c: 'latin1' }),
  );
  await assert.rejects(read(Buffer.from(json), { 'content-encoding': 'bogus' }), refused({ c: 'bogus' }));
  // A small gzip that would expand past the limit is a 413, not a router holding the expansion.
  await assert.rejects(
    read(gzipSync(`{"a":"${'x'.repeat(5000)}"}`), { 'content-encoding': 'gzip' }),
    (e: ApiError) => e.status === 413,
  );
  await assert.rejects(
    read(Buffer.from('not gzip'), { 'content-encoding': 'gzip' }),
    (e: ApiError) => e.status === 400 && e.code === 'invalid_body',
  );
});

/** A scripted upstream call: each deployment answers from its own list of results, in order. */
function fakeCall(
  script: Record<string, Array<AttemptResult['kind'] | { status: number; body?: string }>>,
  calls: string[],
): typeof callDeployment {
  return async (dep): Promise<AttemptResult> => {
    calls.push(dep.config.id);
    const next = script[dep.config.id]!.shift() ?? 'body';
    if (next === 'body')
      return {
        kind: 'body',
        status: 200,
        text: '{}',
        json: {},
        upstreamSeconds: 0.01,
        passHeaders: {},
        release: () => {},
      };
    if (next === 'client_closed') return { kind: 'client_closed' };
    if (next === 'busy') return { kind: 'busy' };
    if (typeof next === 'object')
      return { kind: 'failed', failure: { type: 'status', status: next.status, body: next.body ?? '{}', headers: {} } };
    return { kind: 'failed', failure: { type: 'transport', reason: 'connection_error' } };
  };
}
const env = (call: typeof callDeployment, extra: Partial<AttemptsEnv> = {}): AttemptsEnv => ({
  deployments: new DeploymentRegistry(config),
  resilience: config.resilience,
  hooks: { rateLimitedLocally: () => {}, retry: () => {}, attemptFailed: () => {} },
  call,
  random: () => 0,
  ...extra,
});
const request = (extra = {}) => ({
  models: ['m', 'big'],
  decidedModel: 'm',
  stream: false,
  promptTokens: 5,
  path: () => '/v1/chat/completions',
  body: () => '{}',
  clientGone: new AbortEmitter(),
  ...extra,
});

test('attempts: a failed deployment is retried on another; every failure is returned', async () => {
  const calls: string[] = [];
  const e = env(fakeCall({ a: [{ status: 500 }], b: ['body'], c: [] }, calls));
  const out = await runAttempts(request(), e);
  assert.equal(out.kind, 'served');
  assert.ok(
    out.kind === 'served' && out.dep.config.id === 'b' && out.failures.length === 1 && out.fallbackReason === undefined,
  );
  assert.deepEqual(calls, ['a', 'b']);
  await e.deployments.close();
});

test('attempts: the router out of answer budget ends the attempts at once, with no deployment blamed', async () => {
  const calls: string[] = [];
  const failed: string[] = [];
  const e = env(fakeCall({ a: ['busy'], b: ['body'], c: [] }, calls), {
    hooks: { rateLimitedLocally: () => {}, retry: () => {}, attemptFailed: (f) => failed.push(f.dep.config.id) },
  });
  assert.equal((await runAttempts(request(), e)).kind, 'busy');
  assert.deepEqual([calls, failed], [['a'], []]);
  assert.equal(e.deployments.deploymentsOf('m')[0]!.state.health(), 'healthy');
  await e.deployments.close();
});

test('attempts: context_length_exceeded moves to the next model at once; other 4xx are refusals; all failing is exhausted with every failure', async () => {
  const calls: string[] = [];
  const ctx = JSON.stringify({ error: { message: 'too long', code: 'context_length_exceeded' } });
  const e1 = env(fakeCall({ a: [{ status: 400, body: ctx }], b: [{ status: 400, body: ctx }], c: ['body'] }, calls));
  const o1 = await runAttempts(request(), e1);
  assert.ok(o1.kind === 'served' && o1.dep.config.id === 'c' && o1.fallbackReason === 'context_window');
  assert.equal(calls.filter((x) => x !== 'c').length, 1, 'one deployment of the small model, not every retry');
  const e2 = env(fakeCall({ a: [{ status: 422 }], b: [], c: [] }, []));
  const o2 = await runAttempts(request(), e2);
  assert.ok(o2.kind === 'refused' && o2.refusal.dep.config.id === 'a');
  const e3 = env(
    fakeCall({ a: ['failed', 'failed', 'failed'], b: ['failed', 'failed', 'failed'], c: ['failed', 'failed'] }, []),
  );
  const o3 = await runAttempts(request(), e3);
  assert.ok(
    o3.kind === 'exhausted' && o3.failures.length === 3,
    `${o3.kind} ${(o3 as { failures: unknown[] }).failures?.length}`,
  );
  for (const e of [e1, e2, e3]) await e.deployments.close();
});

test('attempts: a client gone during the backoff ends it before the retry is sent', async () => {
  const calls: string[] = [];
  const clientGone = new AbortEmitter();
  const e = env(fakeCall({ a: ['failed'], b: ['body'], c: [] }, calls), { random: () => 0 });
  const pending = runAttempts(request({ clientGone }), { ...e, resilience: { ...config.resilience, backoff_ms: 200 } });
  setTimeout(() => clientGone.abort(), 20);
  assert.equal((await pending).kind, 'client_closed');
  assert.deepEqual(calls, ['a'], 'the retry was never sent');
  await e.deployments.close();
});
