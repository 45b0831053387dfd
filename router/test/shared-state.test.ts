// RedisSharedState against a real redis-server: the window script, cooldowns between two "replicas" (two
// instances in this process, each with its own deployments), and local limits while Redis is gone.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { parseRouterConfig } from '../src/config/load.ts';
import { DeploymentRegistry } from '../src/upstream/deployments.ts';
import { loadRedisClient, RedisSharedState } from '../src/state/redis-state.ts';
import { RELEASE, RESERVE } from '../src/state/redis-scripts.ts';
import { startRedis, type TestRedis } from '../../test-support/redis.ts';
import { waitFor } from '../../test-support/services.ts';

let redis: TestRedis;
const open: Array<{ close(): Promise<void> }> = [];

before(async () => {
  redis = await startRedis();
  await loadRedisClient();
});
after(async () => {
  for (const o of open) await o.close();
  await redis.stop();
});

let prefixes = 0;
/** One replica: its own deployments (rpm 5, tpm 1000 on "a"; "b" unlimited) sharing one Redis key prefix. */
function replica(prefix: string, replicas = 2) {
  const config = parseRouterConfig(`
models:
  - name: m
    deployments:
      - {id: a, api_base: "http://127.0.0.1:9/v1", model: x, price: {input_per_1m: 1, output_per_1m: 1}, rpm: 5, tpm: 1000}
      - {id: b, api_base: "http://127.0.0.1:9/v1", model: x, price: {input_per_1m: 1, output_per_1m: 1}}
state: {backend: redis, url: "${redis.url}", key_prefix: "${prefix}", replicas: ${replicas}, timeout_ms: 200}
`);
  // A cooldown started here is told to the other replicas (the router's shared-state sink does the same).
  const deployments: DeploymentRegistry = new DeploymentRegistry(config, {
    cooldownStarted: (d, s, why) => state.publishCooldown(d, s, why),
    completionTokensRead: (d, tokens) => state.addTokens(d, tokens),
  });
  let localDecisions = 0;
  const told: string[] = []; // the store lost and found, as the log sink would write it
  const state: RedisSharedState = new RedisSharedState({ ...config.state, url: redis.url }, deployments, 1, {
    localDecision: () => localDecisions++,
    sharedStateLost: (_, share) => told.push(`lost, local share 1/${share}`),
    sharedStateConnected: () => told.push('connected'),
    sharedStateFailed: (what) => told.push(`${what} failed`),
    peerCooldown: (d) => told.push(`peer cooldown ${d.config.id}`),
  });
  open.push(state, deployments);
  const [a, b] = deployments.deploymentsOf('m') as [
    ReturnType<DeploymentRegistry['all']>[number],
    ReturnType<DeploymentRegistry['all']>[number],
  ];
  return { state, a, b, told, localDecisions: () => localDecisions };
}

const fresh = () => `t${++prefixes}:`;

test('the shared window counts requests from every replica and refuses past rpm, with when to retry', async () => {
  const prefix = fresh();
  const one = replica(prefix);
  const two = replica(prefix);
  await waitFor('both connected', () => one.state.connected && two.state.connected);
  const answers = [];
  for (let i = 0; i < 8; i++) answers.push(await (i % 2 ? two : one).state.reserve(i % 2 ? two.a : one.a, 10));
  assert.deepEqual(
    answers.map((r) => r.ok),
    [true, true, true, true, true, false, false, false],
  );
  const refused = answers[5]!;
  assert.ok(!refused.ok && refused.reason === 'rpm_limit');
  assert.ok(!refused.ok && refused.retryAfterMs > 0 && refused.retryAfterMs <= 60_000, JSON.stringify(refused));
  // The replica that was refused shows the shared count, not only its own 2 or 3.
  assert.equal(two.a.state.usage().requests, 5);
});

test('tokens: prompt tokens at reservation and completion tokens in batches count against tpm', async () => {
  const prefix = fresh();
  const one = replica(prefix);
  await waitFor('connected', () => one.state.connected);
  assert.equal((await one.state.reserve(one.a, 400)).ok, true);
  one.state.addTokens(one.a, 500); // flushed within 250 ms
  const client = new Redis(redis.url);
  try {
    await waitFor('completion tokens flushed', async () => {
      const h = await client.hgetall(`${prefix}window:a`);
      const tokens = Object.entries(h).filter(([k]) => k.startsWith('t:'));
      return tokens.reduce((s, [, v]) => s + Number(v), 0) === 900;
    });
  } finally {
    client.disconnect();
  }
  const next = await one.state.reserve(one.a, 200); // 900 + 200 > 1000
  assert.ok(!next.ok && next.reason === 'tpm_limit', JSON.stringify(next));
  assert.equal((await one.state.reserve(one.a, 50)).ok, true);
});

test('a cooldown started by one replica reaches the others within a second, and replicas started later', async () => {
  const prefix = fresh();
  const one = replica(prefix);
  const two = replica(prefix);
  await waitFor('both connected', () => one.state.connected && two.state.connected);
  // The subscription is made on connect; give it a moment to be in place by round-tripping a no-op cooldown.
  await waitFor('subscribed', async () => {
    one.state.publishCooldown(one.b, 0.05, 'probe');
    await new Promise((r) => setTimeout(r, 20));
    return two.b.state.health() === 'cooling';
  });
  one.a.state.coolFor(30, 'error');
  const t0 = Date.now();
  await waitFor('peer cooling', () => two.a.state.health() === 'cooling', 1_000, 5);
  assert.ok(Date.now() - t0 < 1_000);
  assert.ok(two.a.state.cooldownRemainingMs() > 28_000);
  assert.ok(two.told.includes('peer cooldown a'), 'a peer cooldown is told as an event');
  const late = replica(prefix);
  await waitFor('late replica sees the cooldown', () => late.a.state.health() === 'cooling', 2_000);
});

test('Redis gone: requests go on at once on local limits (limit / replicas); Redis back: shared again', async () => {
  const prefix = fresh();
  const one = replica(prefix, 5); // local share while down: rpm 5 / 5 = 1
  await waitFor('connected', () => one.state.connected);
  await redis.kill();
  await waitFor('disconnected', () => !one.state.connected, 5_000);
  const r = await one.state.reserve(one.a, 1);
  assert.deepEqual(r, { ok: true, shared: false });
  assert.equal(one.localDecisions(), 1);
  assert.equal(one.a.state.unavailableReason(1), null);
  one.a.state.begin(1).end(); // one local request: the local share of 1 is used
  assert.equal(one.a.state.unavailableReason(1), 'rpm_limit');
  assert.equal(one.b.state.unavailableReason(1), null, 'unlimited deployments stay unlimited');
  await redis.start();
  await waitFor('reconnected', () => one.state.connected, 10_000);
  assert.equal(one.a.state.unavailableReason(1), null, 'the whole limit again, counted in Redis');
  const back = await one.state.reserve(one.a, 1);
  assert.deepEqual(back, { ok: true, shared: true });
  assert.deepEqual(
    one.told.filter((t) => !t.endsWith('failed')),
    ['connected', 'lost, local share 1/5', 'connected'],
    'each change told once, as events',
  );
});

test('the window slides: seconds leave it after a minute, totals follow, retry-after points at the oldest', async () => {
  const client = new Redis(redis.url);
  const key = `${fresh()}window:x`;
  // rpm 5, no tpm; the clock is given (ms) instead of Redis's own.
  const reserve = async (atMs: number, tokens = 0) =>
    (await client.eval(RESERVE, 1, key, 5, 0, tokens, 1, atMs)) as [number, number, number, number, string];
  try {
    const t0 = 1_000_000_000_000;
    for (const at of [0, 0, 10_000, 20_000, 30_000]) assert.equal((await reserve(t0 + at))[0], 1);
    const full = await reserve(t0 + 40_000);
    assert.deepEqual(full.slice(0, 2), [0, 5]);
    assert.equal(full[4], 'rpm_limit');
    assert.equal(full[3], 20_000, 'the two requests of second 0 leave at 60 s');
    // At 60 s the first second has left: two places free, the totals say 3 before this request.
    const later = await reserve(t0 + 60_000);
    assert.deepEqual(later.slice(0, 2), [1, 4]);
    assert.equal((await reserve(t0 + 60_500))[0], 1);
    assert.equal((await reserve(t0 + 60_900))[0], 0);
    // Long idle: everything has left, the hash does not keep old seconds.
    assert.deepEqual((await reserve(t0 + 500_000)).slice(0, 2), [1, 1]);
    const fields = Object.keys(await client.hgetall(key)).filter((f) => f.startsWith('r:'));
    assert.deepEqual(fields, [`r:${(t0 + 500_000) / 1000}`]);
  } finally {
    client.disconnect();
  }
});

test('leases: far from the limit a batch is counted at once, within the last 1% one at a time; unspent ones return', async () => {
  const client = new Redis(redis.url);
  const key = `${fresh()}window:x`;
  const at = 2_000_000_000_000;
  const reserve = async (rpm: number, wanted: number, tpm = 0) =>
    (await client.eval(RESERVE, 1, key, rpm, tpm, 0, wanted, at)) as [number, number, number, number, string, number];
  try {
    assert.deepEqual((await reserve(100_000, 50)).slice(0, 2), [50, 50]);
    // rpm 1000 with 50 used: 950 left, a hundredth of it is 9.
    assert.deepEqual((await reserve(1_000, 50)).slice(0, 2), [9, 59]);
    // 150 left of rpm 209: under 200 left, one at a time.
    assert.deepEqual((await reserve(209, 50)).slice(0, 2), [1, 60]);
    assert.deepEqual((await reserve(100_000, 50, 1_000_000)).slice(0, 2), [1, 61], 'a tpm limit: never a batch');
    const [, , , , , second] = await reserve(100_000, 1);
    assert.equal(second, at / 1000);
    assert.equal(await client.eval(RELEASE, 1, key, 40, second), 40);
    assert.equal(Number(await client.hget(key, 'R')), 22);
    // Only what was counted in that second can come back.
    assert.equal(await client.eval(RELEASE, 1, key, 1_000, second), 22);
    assert.equal(await client.eval(RELEASE, 1, key, 5, second - 1), 0);
  } finally {
    client.disconnect();
  }
});
