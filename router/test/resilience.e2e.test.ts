// Balancing, limits, cooldowns, retries, fallbacks and timeouts against llm-sim injecting faults.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import {
  ROUTER_MAIN,
  SIM_MAIN,
  freePort,
  metricValue,
  routerYaml,
  simConfigYaml,
  startService,
  tempDir,
  waitFor,
  type RunningService,
} from '../../test-support/services.ts';

const tmp = tempDir();
let sim: RunningService;
const started: RunningService[] = [];
const fast = { ttft_ms: { mean: 5 }, tokens_per_second: { mean: 2000 }, output_tokens: { mean: 8 } };

before(async () => {
  sim = await startService(SIM_MAIN, [
    '--config',
    tmp.write(
      'sim.yaml',
      simConfigYaml(
        [
          { id: 'ok', ...fast },
          { id: 'slow', ...fast, ttft_ms: { mean: 120 } },
          { id: 'broken', ...fast, error_rate: 1 },
          { id: 'flaky5', ...fast, error_rate: 0.05 },
          { id: 'hang', ...fast, hang_probability: 1 },
          { id: 'stall', ...fast, stall_probability: 1 },
          { id: 'quota-a', ...fast, rpm: 10 },
          { id: 'quota-b', ...fast, rpm: 10 },
          { id: 'streamer', ttft_ms: { mean: 5 }, tokens_per_second: { mean: 20 }, output_tokens: { mean: 60 } },
        ],
        1,
      ),
    ),
  ]);
});
after(async () => {
  for (const s of started) await s.stop();
  await sim.stop();
  tmp.remove();
});

type Models = Parameters<typeof routerYaml>[1];
async function startRouter(
  models: Models,
  resilience: Record<string, unknown> = {},
  moreYaml = '',
): Promise<RunningService> {
  const extra = `resilience: ${JSON.stringify({ retries: 2, backoff_ms: 5, ...resilience })}\n${moreYaml}`;
  const r = await startService(ROUTER_MAIN, [
    '--config',
    tmp.write(`router-${started.length}.yaml`, routerYaml(sim.url, models, extra)),
  ]);
  started.push(r);
  return r;
}
async function chat(
  r: RunningService,
  model: string,
  opts: { stream?: boolean; content?: string; signal?: AbortSignal } = {},
) {
  const res = await fetch(`${r.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      model,
      stream: opts.stream ?? false,
      messages: [{ role: 'user', content: opts.content ?? 'hello' }],
    }),
    signal: opts.signal ?? AbortSignal.timeout(15_000),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, text };
}
const metrics = async (r: RunningService) =>
  (await fetch(`${r.url}/metrics`, { signal: AbortSignal.timeout(5000) })).text();
type DeploymentRow = { id: string; state: string; in_flight: number; rpm: { used: number } };
const deploymentRows = async (r: RunningService) =>
  (
    (await (await fetch(`${r.url}/v1/deployments`, { signal: AbortSignal.timeout(5000) })).json()) as {
      data: DeploymentRow[];
    }
  ).data;
async function inBatches<T>(n: number, concurrency: number, fn: (i: number) => Promise<T>): Promise<T[]> {
  const out: T[] = new Array(n);
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < n) {
        const i = next++;
        out[i] = await fn(i);
      }
    }),
  );
  return out;
}

test('local rpm limits: traffic spreads over two deployments and throughput reaches the sum of the quotas', async () => {
  const r = await startRouter({
    m: {
      deployments: [
        { model: 'ok', rpm: 15 },
        { model: 'ok', rpm: 15 },
      ],
    },
  });
  const results = await inBatches(45, 8, () => chat(r, 'm'));
  const ok = results.filter((x) => x.status === 200).length;
  assert.equal(ok, 30, 'exactly the sum of the two quotas succeeds');
  const limited = results.filter((x) => x.status === 429);
  assert.equal(limited.length, 15);
  assert.ok(Number(limited[0]!.headers.get('retry-after')) >= 1);
  assert.equal(JSON.parse(limited[0]!.text).error.code, 'rate_limit_exceeded');
  assert.deepEqual(
    (await deploymentRows(r)).map((d) => d.rpm.used),
    [15, 15],
  );
  assert.ok(metricValue(await metrics(r), 'llm_router_rate_limited_total', { model: 'm', source: 'local' }) >= 15);
});

test('upstream 429s honour retry-after: the limited deployment cools down and the other serves', async () => {
  const r = await startRouter({ m: { deployments: [{ model: 'quota-a' }, { model: 'quota-b' }] } });
  const results = await inBatches(30, 4, () => chat(r, 'm'));
  assert.equal(results.filter((x) => x.status === 200).length, 20, 'both upstream quotas (10 + 10) are used in full');
  const text = await metrics(r);
  assert.ok(metricValue(text, 'llm_router_rate_limited_total', { model: 'm', source: 'upstream' }) >= 2);
  assert.ok(metricValue(text, 'llm_router_deployment_cooldowns_total', { reason: 'retry_after' }) >= 2);
  assert.ok(results.filter((x) => x.status === 429).every((x) => Number(x.headers.get('retry-after')) >= 1));
});

test('strategies: lowest_cost, least_in_flight and latency_aware prefer the better deployment', async () => {
  const r = await startRouter({
    cheap: {
      strategy: 'lowest_cost',
      deployments: [
        { model: 'ok', price: { input_per_1m: 5, output_per_1m: 5 } },
        { model: 'ok', price: { input_per_1m: 1, output_per_1m: 1 } },
      ],
    },
    loaded: { strategy: 'least_in_flight', deployments: [{ model: 'slow' }, { model: 'ok' }] },
    latency: { strategy: 'latency_aware', deployments: [{ model: 'slow' }, { model: 'ok' }] },
  });
  await inBatches(20, 4, () => chat(r, 'cheap'));
  await inBatches(40, 8, () => chat(r, 'loaded'));
  await inBatches(40, 4, () => chat(r, 'latency'));
  const text = await metrics(r);
  const n = (model: string, i: number) =>
    metricValue(text, 'llm_router_upstream_duration_seconds_count', { deployment: `${model}-${i}` });
  assert.deepEqual([n('cheap', 0), n('cheap', 1)], [0, 20]);
  assert.ok(n('loaded', 1) > 2 * n('loaded', 0), `least_in_flight: fast ${n('loaded', 1)} vs slow ${n('loaded', 0)}`);
  assert.ok(n('latency', 1) > 2 * n('latency', 0), `latency_aware: fast ${n('latency', 1)} vs slow ${n('latency', 0)}`);
});

test('a deployment answering 500s cools down, traffic moves, no client sees an error, and it comes back', async () => {
  const r = await startRouter(
    { m: { deployments: [{ model: 'broken' }, { model: 'ok' }] } },
    { cooldown: { allowed_fails: 2, window_s: 30, duration_s: 1 } },
  );
  const results = await inBatches(20, 1, () => chat(r, 'm'));
  assert.deepEqual(
    results.map((x) => x.status),
    Array(20).fill(200),
  );
  const text = await metrics(r);
  const failures = metricValue(text, 'llm_router_deployment_failures_total', { deployment: 'm-0', reason: '500' });
  assert.ok(failures >= 2 && failures <= 4, `failures ${failures}: the cooldown stops the bleeding`);
  assert.ok(metricValue(text, 'llm_router_retries_total', { model: 'm', reason: '500' }) >= 2);
  assert.equal(metricValue(text, 'llm_router_deployment_state', { deployment: 'm-0', state: 'cooling' }), 1);
  await waitFor('m-0 healthy again', async () => (await deploymentRows(r))[0]!.state === 'healthy', 5000);
  assert.equal(
    metricValue(await metrics(r), 'llm_router_deployment_state', { deployment: 'm-0', state: 'healthy' }),
    1,
  );
});

test('refused connections: the deployment cools down, then serves again once its upstream is back', async () => {
  const port = await freePort();
  const r = await startRouter(
    {
      m: {
        strategy: 'least_in_flight',
        deployments: [{ model: 'ok', api_base: `http://127.0.0.1:${port}/v1` }, { model: 'ok' }],
      },
    },
    { cooldown: { allowed_fails: 1, window_s: 30, duration_s: 1 } },
  );
  // least_in_flight breaks ties at random, so a fixed number of requests may never try m-0 (1 in 64 for six):
  // keep sending until the refused deployment has been tried; every request must still succeed.
  const statuses: number[] = [];
  await waitFor(
    'm-0 to be tried and refused',
    async () => {
      statuses.push(...(await inBatches(6, 1, () => chat(r, 'm'))).map((x) => x.status));
      return (
        metricValue(await metrics(r), 'llm_router_deployment_failures_total', {
          deployment: 'm-0',
          reason: 'connection_error',
        }) >= 1
      );
    },
    10_000,
    10,
  );
  assert.deepEqual(statuses, Array(statuses.length).fill(200));
  // Bring an upstream up on exactly the port that refused.
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      SIM_MAIN,
      '--config',
      tmp.write('sim2.yaml', simConfigYaml([{ id: 'ok', ...fast }], 1)),
      '--port',
      String(port),
    ],
    { stdio: 'ignore' },
  );
  const exited = new Promise((resolve) => child.once('exit', resolve));
  try {
    await waitFor(
      'revived upstream',
      () =>
        fetch(`http://127.0.0.1:${port}/health`, { signal: AbortSignal.timeout(1000) })
          .then((x) => x.ok)
          .catch(() => false),
      20_000,
    );
    await waitFor(
      'm-0 serving again',
      async () => {
        await chat(r, 'm');
        return metricValue(await metrics(r), 'llm_router_upstream_duration_seconds_count', { deployment: 'm-0' }) > 0;
      },
      10_000,
      100,
    );
  } finally {
    child.kill('SIGTERM');
    await exited;
  }
});

// An upstream that never answers (hang), or answers its headers and then goes silent (stall): the attempt fails at
// its limit, the failure is counted by that reason, and the request is retried on the other deployment.
for (const { what, model, limit, reason } of [
  {
    what: 'a hanging deployment times out',
    model: 'hang',
    limit: 'first_byte_timeout_ms',
    reason: 'first_byte_timeout',
  },
  {
    what: 'an answer that goes silent after its headers fails',
    model: 'stall',
    limit: 'stream_idle_timeout_ms',
    reason: 'stream_idle_timeout',
  },
])
  test(`${what} at ${limit} and the request is retried elsewhere`, async () => {
    const r = await startRouter(
      { m: { strategy: 'least_in_flight', deployments: [{ model }, { model: 'ok' }] } },
      { [limit]: 300 },
    );
    const t0 = Date.now();
    const results = await inBatches(4, 2, () => chat(r, 'm'));
    assert.deepEqual(
      results.map((x) => x.status),
      [200, 200, 200, 200],
    );
    assert.ok(Date.now() - t0 < 5000);
    assert.ok(
      metricValue(await metrics(r), 'llm_router_deployment_failures_total', { deployment: 'm-0', reason }) >= 1,
    );
  });

test('a stream that goes silent halfway ends with an error event at stream_idle_timeout_ms, not at the total timeout', async () => {
  const r = await startRouter({ m: { deployments: [{ model: 'stall' }] } }, { stream_idle_timeout_ms: 300 });
  const t0 = Date.now();
  const res = await chat(r, 'm', { stream: true });
  const took = Date.now() - t0;
  assert.equal(res.status, 200);
  assert.ok(res.text.includes('"delta"'), 'the first half came through');
  const events = res.text.split('\n\n').filter((e) => e.startsWith('data: {'));
  const last = JSON.parse(events.at(-1)!.slice(6)) as { error?: { message: string } };
  assert.match(last.error?.message ?? '', /idle|silent|stream/i);
  assert.ok(took >= 300 && took < 5000, `ended after ${took} ms`);
  const text = await metrics(r);
  assert.equal(
    metricValue(text, 'llm_router_deployment_failures_total', { deployment: 'm-0', reason: 'stream_idle_timeout' }),
    1,
  );
  assert.equal(metricValue(text, 'llm_router_deployment_in_flight'), 0);
});

test('a 5% upstream error rate on a single deployment stays ~5% for clients: no cooldown turns it into an outage', async () => {
  // Default cooldown settings: before, 3 failures a minute took the only deployment out for 30 s (96% 503s in a soak).
  const r = await startRouter({ m: { deployments: [{ model: 'flaky5' }] } }, { retries: 0 });
  const results = await inBatches(600, 16, () => chat(r, 'm'));
  const failed = results.filter((x) => x.status !== 200);
  assert.equal(results.filter((x) => x.status === 503).length, 0, 'never cooled');
  assert.ok(failed.length / results.length < 0.12, `${failed.length} of ${results.length} failed`);
  assert.equal((await deploymentRows(r))[0]!.state, 'healthy');
});

test('when every deployment is cooling down the answer is a fast 503 with retry-after', async () => {
  const r = await startRouter(
    { m: { deployments: [{ model: 'broken' }, { model: 'broken' }] } },
    { cooldown: { allowed_fails: 1, window_s: 30, duration_s: 30 } },
  );
  const firstTry = await chat(r, 'm');
  assert.equal(firstTry.status, 500, 'the upstream error passes through once both deployments failed');
  const simCalls = async () =>
    metricValue(await (await fetch(`${sim.url}/metrics`)).text(), 'llm_sim_requests_total', { model: 'broken' });
  const before = await simCalls();
  const res = await chat(r, 'm');
  // Fast because nothing is tried: counted, not timed.
  assert.equal(await simCalls(), before, 'no upstream call was made');
  assert.equal(res.status, 503);
  assert.equal(JSON.parse(res.text).error.code, 'deployments_unavailable');
  assert.ok(Number(res.headers.get('retry-after')) >= 1);
});

test('model fallbacks on errors and a context-window fallback for long prompts', async () => {
  const r = await startRouter(
    {
      primary: { fallbacks: ['backup'], deployments: [{ model: 'broken' }] },
      backup: { deployments: [{ model: 'ok' }] },
      small_window: { context_window: 50, fallbacks: ['backup'], deployments: [{ model: 'ok' }] },
      lonely: { deployments: [{ model: 'broken' }] },
    },
    {},
    'policies:\n  - { name: p, classifier: task, routes: {}, default: lonely, fallbacks: [backup] }\n',
  );
  const viaPolicy = await chat(r, 'router/p');
  assert.equal(viaPolicy.status, 200, 'the policy fallback serves when the model has none of its own');
  assert.equal(viaPolicy.headers.get('x-router-model'), 'backup');
  assert.equal(viaPolicy.headers.get('x-router-fallback-from'), 'lonely');
  const a = await chat(r, 'primary');
  assert.equal(a.status, 200);
  assert.equal(a.headers.get('x-router-model'), 'backup');
  assert.equal(a.headers.get('x-router-fallback-from'), 'primary');
  const long = await chat(r, 'small_window', { content: 'word '.repeat(200) });
  assert.equal(long.status, 200);
  assert.equal(long.headers.get('x-router-model'), 'backup');
  assert.equal((await chat(r, 'small_window')).headers.get('x-router-model'), 'small_window', 'short prompts stay');
  const text = await metrics(r);
  assert.equal(metricValue(text, 'llm_router_fallbacks_total', { from: 'primary', to: 'backup', reason: 'error' }), 1);
  assert.equal(
    metricValue(text, 'llm_router_fallbacks_total', { from: 'small_window', to: 'backup', reason: 'context_window' }),
    1,
  );
});

test('a client that disconnects mid-stream aborts the upstream call; nothing stays in flight', async () => {
  const r = await startRouter({ m: { deployments: [{ model: 'streamer' }] } });
  const ac = new AbortController();
  const res = await fetch(`${r.url}/v1/chat/completions`, {
    method: 'POST',
    body: JSON.stringify({ model: 'm', stream: true, messages: [{ role: 'user', content: 'hi' }] }),
    signal: ac.signal,
  });
  const reader = res.body!.getReader();
  await reader.read();
  assert.equal((await deploymentRows(r))[0]!.in_flight, 1);
  ac.abort();
  await waitFor('router in-flight back to 0', async () => {
    const text = await metrics(r);
    return (
      metricValue(text, 'llm_router_requests_in_flight') === 0 &&
      metricValue(text, 'llm_router_deployment_in_flight') === 0
    );
  });
  await waitFor(
    'upstream call aborted',
    async () =>
      metricValue(await (await fetch(`${sim.url}/metrics`)).text(), 'llm_sim_requests_in_flight', {
        model: 'streamer',
      }) === 0,
  );
  assert.equal(metricValue(await metrics(r), 'llm_router_requests_total', { status: '499' }), 1);
});
