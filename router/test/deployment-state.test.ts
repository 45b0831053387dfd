// DeploymentState and its windows in process, with an injected clock.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DeploymentState, OutcomeWindow } from '../src/upstream/deployment-state.ts';
import { mulberry32 } from '@llm-router/common/prng';

const COOLDOWN = {
  allowed_fails: 5,
  failure_ratio: 0.5,
  min_requests: 20,
  window_s: 60,
  duration_s: 30,
  last_deployment_ratio: 0.9,
};
const config = {
  id: 'd',
  api_base: 'http://127.0.0.1:1/v1',
  model: 'm',
  price: { input_per_1m: 1, output_per_1m: 1 },
  rpm: 0,
  tpm: 0,
  timeout_ms: 1000,
  weight: 1,
  max_connections: 1,
  max_response_bytes: 1,
  max_event_bytes: 1,
  stream_include_usage: true,
  provider: 'openai' as const,
  anthropic_version: '2023-06-01',
  api_version: '2024-10-21',
};
const state = (overrides = {}) => new DeploymentState(config, { ...COOLDOWN, ...overrides });

/** Drives `n` attempts, `errorRate` of them failing (seeded), 10 ms apart; returns when it first cooled (or -1). */
function drive(s: DeploymentState, n: number, errorRate: number, lastHealthy: boolean, t0 = 1_000_000): number {
  const rand = mulberry32(42);
  for (let i = 0; i < n; i++) {
    const now = t0 + i * 10;
    if (s.health(now) === 'cooling') return i;
    if (rand() < errorRate) s.recordFailure('500', now, lastHealthy);
    else s.recordSuccess(now);
  }
  return -1;
}

test('a 5% error rate never cools a deployment, last one or not (it used to: 3 failures per minute at any rate)', () => {
  assert.equal(drive(state(), 20_000, 0.05, true), -1);
  assert.equal(drive(state(), 20_000, 0.05, false), -1);
});

test('a failure ratio at failure_ratio over the window cools a deployment that others can cover, once min_requests are seen', () => {
  const s = state({ allowed_fails: 1000 });
  const cooledAt = drive(s, 1000, 0.6, false);
  assert.ok(cooledAt >= 20 && cooledAt < 100, `cooled after ${cooledAt} attempts`);
  assert.equal(drive(state({ allowed_fails: 1000 }), 19, 1, false), -1, 'under min_requests the ratio does not act');
});

test('the last healthy deployment is not taken out on a ratio a client would rather see than a 503', () => {
  assert.equal(drive(state({ allowed_fails: 1000 }), 5000, 0.6, true), -1);
  // Nearly always failing (a dead upstream): it goes, so clients get a fast 503 instead of waiting on it.
  const dead = state();
  assert.equal(drive(dead, 100, 1, true), 5);
});

test('failures in a row cool any deployment; a success resets the run', () => {
  const s = state();
  const t = 5_000_000;
  for (let i = 0; i < 4; i++) s.recordFailure('500', t + i);
  s.recordSuccess(t + 10);
  for (let i = 0; i < 4; i++) s.recordFailure('500', t + 20 + i);
  assert.equal(s.health(t + 30), 'healthy', 'four in a row, twice, is not five');
  s.recordFailure('500', t + 31);
  assert.equal(s.health(t + 32), 'cooling');
  assert.equal(s.cooldownRemainingMs(t + 32), 30_000 - 1);
  assert.equal(s.health(t + 31 + 30_000), 'healthy', 'back after duration_s');
});

test('the outcome window forgets what is older than the window, at constant size', () => {
  const w = new OutcomeWindow(60_000);
  for (let i = 0; i < 100; i++) w.add(i % 2 === 0, 1_000_000 + i * 100);
  assert.deepEqual(w.totals(1_010_000), { requests: 100, failures: 50 });
  assert.deepEqual(w.totals(1_000_000 + 10_000 + 60_000), { requests: 0, failures: 0 });
  w.add(true, 2_000_000);
  assert.deepEqual(w.totals(2_000_000), { requests: 1, failures: 1 });
});

test('leases end once: in-flight never drifts', () => {
  const s = state();
  const a = s.begin(10, 1);
  const b = s.begin(10, 1);
  a.end();
  a.end();
  assert.equal(s.inFlight, 1);
  b.end();
  assert.equal(s.inFlight, 0);
});
