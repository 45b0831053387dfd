// Three router processes sharing one Redis (state.backend redis), in front of a counting fake upstream: one rpm
// limit enforced to the request across replicas, cooldowns honoured by every replica, Redis lost and found.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { completion, startFakeUpstream, type FakeUpstream } from '../../test-support/fake-upstream.ts';
import { startRedis, type TestRedis } from '../../test-support/redis.ts';
import {
  ROUTER_MAIN,
  metricValue,
  startService,
  tempDir,
  waitFor,
  type RunningService,
} from '../../test-support/services.ts';

const tmp = tempDir();
let redis: TestRedis;
let upstream: FakeUpstream;
const started: RunningService[] = [];

before(async () => {
  redis = await startRedis();
  upstream = await startFakeUpstream((req, res) => {
    if (req.name === 'bad') return void res.writeHead(500, { 'content-type': 'application/json' }).end('{}');
    res.writeHead(200, { 'content-type': 'application/json' }).end(completion(String(req.body.model)));
  });
});
after(async () => {
  await Promise.all(started.map((s) => s.stop()));
  await upstream.close();
  await redis.stop();
  tmp.remove();
});

let configs = 0;
/** Three replicas of one config; resolves once each has connected to Redis. */
async function startReplicas(deployments: Array<{ id: string; name: string; rpm?: number }>, cooldown = {}) {
  const prefix = `t${++configs}:`;
  const deps = deployments.map((d) => ({
    id: d.id,
    api_base: `${upstream.url}/${d.name}/v1`,
    model: 'x',
    price: { input_per_1m: 1, output_per_1m: 2 },
    ...(d.rpm ? { rpm: d.rpm } : {}),
  }));
  const yaml = `models:
  - name: m
    deployments: ${JSON.stringify(deps)}
resilience: ${JSON.stringify({ retries: 1, backoff_ms: 1, cooldown: { allowed_fails: 2, ...cooldown } })}
state: {backend: redis, url: "${redis.url}", key_prefix: "${prefix}", replicas: 3}
`;
  const file = tmp.write(`router-${configs}.yaml`, yaml);
  const replicas = await Promise.all([0, 1, 2].map(() => startService(ROUTER_MAIN, ['--config', file])));
  started.push(...replicas);
  for (const r of replicas)
    await waitFor('replica on shared state', async () => {
      const ready = (await (await fetch(`${r.url}/ready`)).json()) as { state: string };
      return ready.state === 'shared';
    });
  return { replicas, prefix };
}

const ask = (r: RunningService) =>
  fetch(`${r.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'hi' }] }),
  }).then(async (res) => ({ status: res.status, retryAfter: res.headers.get('retry-after'), body: await res.text() }));

/** n requests round-robin over the replicas, `concurrency` at a time. */
async function spread(replicas: RunningService[], n: number, concurrency = 9, onEach?: (done: number) => void) {
  const results: Array<Awaited<ReturnType<typeof ask>>> = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < n) {
        const i = next++;
        results.push(await ask(replicas[i % replicas.length]!));
        onEach?.(results.length);
      }
    }),
  );
  return results;
}

const scrape = async (r: RunningService) => (await fetch(`${r.url}/metrics`)).text();

test('three replicas, two deployments of rpm 30: exactly 60 of 150 requests served, the rest a fast 429', async () => {
  const before = upstream.requests.length;
  const { replicas } = await startReplicas([
    { id: 'd0', name: 'q0', rpm: 30 },
    { id: 'd1', name: 'q1', rpm: 30 },
  ]);
  const results = await spread(replicas, 150);
  const ok = results.filter((r) => r.status === 200).length;
  const limited = results.filter((r) => r.status === 429);
  assert.equal(ok, 60, JSON.stringify(results.filter((r) => r.status !== 200 && r.status !== 429).slice(0, 3)));
  assert.equal(limited.length, 90);
  // Refused by the router itself: the upstream saw exactly the 60 it answered.
  assert.equal(upstream.requests.length - before, 60);
  assert.equal(upstream.count('q0'), 30);
  assert.equal(upstream.count('q1'), 30);
  for (const r of limited) {
    assert.ok(Number(r.retryAfter) >= 1 && Number(r.retryAfter) <= 60, `retry-after ${r.retryAfter}`);
    assert.equal(JSON.parse(r.body).error.code, 'rate_limit_exceeded');
  }
});

test('at high rates replicas spend leases of the shared window: never above the limit, and close to it', async () => {
  const before = upstream.requests.length;
  const { replicas, prefix } = await startReplicas([{ id: 'busy', name: 'busy', rpm: 1_000 }]);
  const results = await spread(replicas, 1_200, 30);
  const ok = results.filter((r) => r.status === 200).length;
  assert.ok(ok <= 1_000, `${ok} served: over the limit`);
  assert.ok(ok >= 950, `${ok} served: leases held back too much`);
  assert.equal(upstream.requests.length - before, ok);
  assert.equal(results.filter((r) => r.status !== 200 && r.status !== 429).length, 0);
  // Leases given back (after a second) leave the window's count at what was served.
  const client = new Redis(redis.url);
  try {
    await waitFor(
      'unspent leases returned',
      async () => Number(await client.hget(`${prefix}window:busy`, 'R')) === ok,
      5_000,
      100,
    );
  } finally {
    client.disconnect();
  }
});

test('a cooldown started by one replica is honoured by the others within a second', async () => {
  const { replicas } = await startReplicas([
    { id: 'good', name: 'good' },
    { id: 'bad', name: 'bad' },
  ]);
  const [a, b, c] = replicas as [RunningService, RunningService, RunningService];
  await waitFor('replica A cools "bad" down', async () => {
    await ask(a);
    return metricValue(await scrape(a), 'llm_router_deployment_cooldowns_total', { deployment: 'bad' }) >= 1;
  });
  const t0 = Date.now();
  for (const r of [b, c])
    await waitFor(
      'peer sees the cooldown',
      async () =>
        metricValue(await scrape(r), 'llm_router_deployment_state', { deployment: 'bad', state: 'cooling' }) === 1,
      1_000,
      20,
    );
  assert.ok(Date.now() - t0 <= 1_000);
  const badCalls = upstream.count('bad');
  const results = await spread([b, c], 20, 4);
  assert.ok(results.every((r) => r.status === 200));
  assert.equal(upstream.count('bad'), badCalls, 'no replica sent to the cooling deployment');
});

test('Redis killed mid-run: every request answered on local limits, the metric says so; back: shared again', async () => {
  const { replicas, prefix } = await startReplicas([
    { id: 'big0', name: 'big0', rpm: 100_000 },
    { id: 'big1', name: 'big1', rpm: 100_000 },
  ]);
  let killed: Promise<void> | undefined;
  const results = await spread(replicas, 90, 6, (done) => {
    if (done === 30) killed = redis.kill();
  });
  await killed;
  assert.equal(results.length, 90);
  assert.deepEqual(
    results.filter((r) => r.status !== 200),
    [],
  );
  let local = 0;
  for (const r of replicas) {
    const text = await waitFor('replica reports Redis lost', async () => {
      const t = await scrape(r);
      return metricValue(t, 'llm_router_shared_state_connected') === 0 && t;
    });
    local += metricValue(text, 'llm_router_shared_state_local_decisions_total');
  }
  assert.ok(local > 0, 'requests after the kill were decided on local limits');
  for (const r of replicas) assert.match(r.output(), /Redis unreachable/);

  await redis.start();
  for (const r of replicas)
    await waitFor(
      'replica back on shared state',
      async () => metricValue(await scrape(r), 'llm_router_shared_state_connected') === 1,
      10_000,
    );
  assert.ok((await spread(replicas, 9, 3)).every((r) => r.status === 200));
  const client = new Redis(redis.url);
  try {
    const counted = async () => {
      let n = 0;
      for (const id of ['big0', 'big1'])
        for (const [k, v] of Object.entries(await client.hgetall(`${prefix}window:${id}`)))
          if (k.startsWith('r:')) n += Number(v);
      return n;
    };
    // Redis came back empty: each replica re-seeded it with all it admitted in the minute, then counted the 9.
    assert.equal(await counted(), 99, 'every request of the minute is in the window again');
  } finally {
    client.disconnect();
  }
});

/** Requests served over every phase of an outage, for a deployment of rpm 60 on three replicas. */
async function servedAcrossOutage(outage: { down(): Promise<void>; up(): Promise<void> }) {
  const before = upstream.requests.length;
  const { replicas } = await startReplicas([{ id: `o${configs + 1}`, name: 'outage', rpm: 60 }]);
  const phase = async (n: number) => (await spread(replicas, n, 6)).filter((r) => r.status === 200).length;
  const beforeOutage = await phase(24);
  await outage.down();
  const during = await phase(60);
  await outage.up();
  for (const r of replicas)
    await waitFor(
      'replica back on shared state',
      async () => metricValue(await scrape(r), 'llm_router_shared_state_connected') === 1,
      15_000,
    );
  const after = await phase(60);
  assert.equal(upstream.requests.length - before, beforeOutage + during + after, 'the upstream saw what was served');
  return { beforeOutage, during, after };
}

test('Redis paused mid-window: what replicas admitted on local limits is added back, the minute stays at its rpm', async () => {
  const served = await servedAcrossOutage({
    down: async () => redis.pause(),
    up: async () => redis.resume(),
  });
  assert.equal(served.beforeOutage, 24);
  assert.ok(served.during > 0, 'requests went on during the outage');
  const total = served.beforeOutage + served.during + served.after;
  assert.ok(total <= 63, `${JSON.stringify(served)}: ${total} served in the minute, over rpm 60 x 1.05`);
});

test('Redis restarted empty mid-window: replicas re-seed it with what they admitted, the minute stays at its rpm', async () => {
  const served = await servedAcrossOutage({ down: () => redis.kill(), up: () => redis.start() });
  assert.equal(served.beforeOutage, 24);
  const total = served.beforeOutage + served.during + served.after;
  assert.ok(total <= 63, `${JSON.stringify(served)}: ${total} served in the minute, over rpm 60 x 1.05`);
});
