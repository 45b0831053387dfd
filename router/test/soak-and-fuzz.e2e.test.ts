// Under mixed faults every request gets exactly one answer and the books balance; malformed input never
// produces a 5xx or a crash.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { metricValue, routerYaml, waitFor } from '../../test-support/services.ts';
import { simAndRouter } from '../../test-support/sim-and-router.ts';

const base = {
  ttft_ms: { mean: 10, stddev: 5 },
  tokens_per_second: { mean: 400 },
  output_tokens: { mean: 20, stddev: 10 },
};
const stack = simAndRouter({
  simModels: [
    { id: 'flaky', ...base, error_rate: 0.15, hang_probability: 0.05 },
    { id: 'limited', ...base, rpm: 60 },
    { id: 'ok', ...base },
  ],
  timeScale: 1,
  routerYaml: (simUrl) =>
    routerYaml(
      simUrl,
      {
        mixed: {
          strategy: 'least_in_flight',
          fallbacks: ['steady'],
          deployments: [{ model: 'flaky' }, { model: 'limited' }, { model: 'flaky' }],
        },
        steady: { deployments: [{ model: 'ok' }] },
      },
      `resilience: { retries: 2, backoff_ms: 5, first_byte_timeout_ms: 400, cooldown: { allowed_fails: 3, window_s: 5, duration_s: 1 } }
policies:
  - { name: p, classifier: task, routes: {}, default: mixed }
`,
    ),
});

const metrics = async () => (await fetch(`${stack.router.url}/metrics`, { signal: AbortSignal.timeout(5000) })).text();

test('soak with mixed faults: one answer per request, counters match, nothing left in flight, memory stable', async () => {
  const N = 400;
  const CONCURRENCY = 16;
  let seed = 12345;
  const rand = () => (seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 4294967296;
  const before = await metrics();
  const heapBefore = metricValue(before, 'llm_router_nodejs_heap_size_used_bytes');
  const outcomes = new Map<string, number>();
  let answered = 0;
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < N) {
        const i = next++;
        const stream = rand() < 0.5;
        // ~10% of clients give up early, after their request is on the wire: the router must count them once.
        const giveUpMs = rand() < 0.1 ? 5 + rand() * 100 : undefined;
        const body = JSON.stringify({
          model: i % 3 === 0 ? 'router/p' : 'mixed',
          stream,
          messages: [{ role: 'user', content: `request ${i}` }],
        });
        const outcome = await new Promise<string>((resolve) => {
          const req = httpRequest(
            {
              host: '127.0.0.1',
              port: stack.router.port,
              method: 'POST',
              path: '/v1/chat/completions',
              headers: { 'content-type': 'application/json' },
              timeout: 20_000,
            },
            (res) => {
              res.resume();
              res.on('end', () => resolve(String(res.statusCode)));
              res.on('error', () => resolve('client_gave_up'));
            },
          );
          req.on('error', () => resolve('client_gave_up'));
          req.on('timeout', () => req.destroy());
          req.on('finish', () => {
            if (giveUpMs !== undefined) setTimeout(() => req.destroy(), giveUpMs);
          });
          req.end(body);
        });
        answered++;
        outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
      }
    }),
  );
  assert.equal(answered, N);
  // The router counts each request once, including the ones whose client went away (499) — once it notices.
  const after = await waitFor(
    'router accounted for every request',
    async () => {
      const text = await metrics();
      return metricValue(text, 'llm_router_requests_total') - metricValue(before, 'llm_router_requests_total') === N
        ? text
        : undefined;
    },
    15_000,
    100,
  );
  // A client that gives up just as its answer is sent is counted with that answer's status, not 499.
  const routerCount = (status: string) =>
    metricValue(after, 'llm_router_requests_total', { status }) -
    metricValue(before, 'llm_router_requests_total', { status });
  const gaveUp = outcomes.get('client_gave_up') ?? 0;
  let answeredButGaveUp = 0;
  for (const [status, count] of outcomes) {
    if (status === 'client_gave_up') continue;
    assert.ok(routerCount(status) >= count, `status ${status}: router ${routerCount(status)} < client ${count}`);
    answeredButGaveUp += routerCount(status) - count;
  }
  assert.ok(gaveUp > 10, `clients really gave up (${gaveUp})`);
  assert.equal(routerCount('499') + answeredButGaveUp, gaveUp, 'every abandoned request is accounted for exactly once');
  assert.ok(
    (outcomes.get('200') ?? 0) >= N * 0.8,
    `most requests succeed despite faults: ${JSON.stringify([...outcomes])}`,
  );
  assert.ok(
    [...outcomes.keys()].every((s) => ['200', '429', '500', '503', '504', 'client_gave_up'].includes(s)),
    JSON.stringify([...outcomes]),
  );
  assert.equal(metricValue(after, 'llm_router_requests_in_flight'), 0);
  await waitFor(
    'deployment in-flight back to 0',
    async () => metricValue(await metrics(), 'llm_router_deployment_in_flight') === 0,
  );
  assert.ok(metricValue(after, 'llm_router_deployment_failures_total') > 0, 'faults really happened');
  assert.equal(stack.router.proc.exitCode, null, 'router still running');
  assert.doesNotMatch(stack.router.output(), /Unhandled|uncaught|FATAL/i);
  const heapAfter = metricValue(after, 'llm_router_nodejs_heap_size_used_bytes');
  assert.ok(heapAfter - heapBefore < 64 * 1024 * 1024, `heap grew ${(heapAfter - heapBefore) / 1e6} MB`);
});

/** Raw HTTP so malformed headers and bodies reach the server exactly as written. */
function rawPost(path: string, headers: Record<string, string>, body: Buffer): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: '127.0.0.1',
        port: stack.router.port,
        method: 'POST',
        path,
        headers: { ...headers, 'content-length': String(body.length) },
        timeout: 10_000,
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode!));
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end(body);
  });
}

test('fuzz: 600 malformed bodies and headers never cause a 5xx, a hang or a crash', async () => {
  let seed = 99;
  const rand = () => (seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 4294967296;
  const pick = <T>(xs: T[]) => xs[Math.floor(rand() * xs.length)]!;
  const values = (): unknown =>
    pick<() => unknown>([
      () => null,
      () => true,
      () => -1,
      () => 1e308,
      () => 0.5,
      () => '',
      () => 'x'.repeat(Math.floor(rand() * 3000)),
      () => '\u0000\ud800💥',
      () => [],
      () => [1, 'a', null],
      () => ({}),
      () => ({ role: 'user' }),
      () => ({ role: 'user', content: [{ type: 'text' }] }),
      () => ({ role: 'user', content: [{ type: 'text', text: 5 }] }),
      () => ({ role: pick(['user', 'system', 'tool', 'x']), content: 'hi' }),
      () => JSON.parse('{"__proto__": {"polluted": true}}'),
      () => 'router/p',
      () => 'mixed',
      () => 'router/../../etc',
    ])();
  const fields = [
    'model',
    'messages',
    'stream',
    'stream_options',
    'max_tokens',
    'temperature',
    'n',
    'nim-llm-router',
    'tools',
    'constructor',
  ];
  const statuses = new Map<number, number>();
  for (let i = 0; i < 600; i++) {
    const kind = rand();
    let body: Buffer;
    if (kind < 0.15) {
      body = Buffer.from(
        JSON.stringify({ model: 'mixed', messages: [{ role: 'user', content: 'hi' }] }).slice(
          0,
          Math.floor(rand() * 60),
        ),
      );
    } else if (kind < 0.25) {
      body = Buffer.from(Array.from({ length: 1 + Math.floor(rand() * 200) }, () => Math.floor(rand() * 256)));
    } else if (kind < 0.35) {
      // Deep nesting, in messages or in a field passed through untouched (4,200 levels overflowed JSON.stringify).
      const depth = pick([200, 2000, 4200, 10_000]);
      const open = pick(['[', '{"a":']);
      const deep = `${open.repeat(depth)}1${(open === '[' ? ']' : '}').repeat(depth)}`;
      body = Buffer.from(
        rand() < 0.5
          ? `{"model":"mixed","messages":${deep}}`
          : `{"model":"mixed","messages":[{"role":"user","content":"hi"}],"metadata":${deep}}`,
      );
    } else {
      const obj: Record<string, unknown> = {
        model: pick(['mixed', 'router/p', 'nope', 7]),
        messages: [{ role: 'user', content: 'hi' }],
      };
      for (let k = 0; k < 1 + Math.floor(rand() * 4); k++) {
        const f = pick(fields);
        if (rand() < 0.2) delete obj[f];
        else obj[f] = f === 'messages' && rand() < 0.5 ? [values(), values()] : values();
      }
      obj.stream = obj.stream === true ? false : obj.stream; // keep fuzz responses short
      body = Buffer.from(JSON.stringify(obj));
    }
    const headers: Record<string, string> = {
      'content-type': pick([
        'application/json',
        'text/plain',
        'application/json; charset=latin1',
        'application/json; charset=utf-16',
        'multipart/form-data',
        '',
      ]),
    };
    if (rand() < 0.1) headers['content-encoding'] = pick(['gzip', 'br', 'bogus']);
    if (rand() < 0.1)
      headers['x-router-policy'] = pick(['', 'p', 'nope', '💥'.normalize()].map((v) => encodeURIComponent(v)));
    if (rand() < 0.05) headers.authorization = 'Bearer whatever';
    const status = await rawPost(pick(['/v1/chat/completions', '/v1/route', '/chat/completions']), headers, body);
    statuses.set(status, (statuses.get(status) ?? 0) + 1);
    // A valid request can still meet the flaky upstream; only the router's own 500 would be a bug.
    assert.ok(
      status < 500 ||
        [502, 503, 504].includes(status) ||
        (status === 500 && (await metrics()).includes('status="500"')),
      `case ${i}: status ${status}`,
    );
  }
  const text = await metrics();
  const routerOwn500 = metricValue(text, 'llm_router_requests_total', { policy: 'none', status: '500' });
  assert.equal(routerOwn500, 0, 'no internal error before routing');
  assert.ok((statuses.get(400) ?? 0) > 200, `mostly rejected as bad input: ${JSON.stringify([...statuses])}`);
  assert.equal(stack.router.proc.exitCode, null);
  assert.doesNotMatch(stack.router.output(), /Unhandled|uncaught|internal router error/i);
});
