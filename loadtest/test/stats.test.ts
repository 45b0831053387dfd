// The load generator's aggregates, in process.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { failureKey, ROLLING_WINDOW_S, RunStats } from '../src/stats.ts';

const sample = (latencySeconds: number, ok = true) => ({
  model: 'm',
  policy: 'p',
  ok,
  latencySeconds,
  promptTokens: 1,
  completionTokens: 1,
  costUsd: 0,
  ...(ok ? {} : { error: 'failed' }),
});

test('failure messages group by shape but keep the address that failed', () => {
  assert.equal(failureKey('connect ECONNREFUSED 127.0.0.1:4000'), 'connect ECONNREFUSED 127.0.0.1:4000');
  assert.equal(failureKey('429 rate limited, retry after 3.5s'), 'N rate limited, retry after Ns');
  assert.equal(
    failureKey('fetch http://router:4000/v1 failed after 12 ms'),
    'fetch http://router:4000/vN failed after N ms',
  );
  assert.equal(failureKey('connect ECONNREFUSED [::1]:8000'), 'connect ECONNREFUSED [::1]:8000');
});

test('timeline percentiles are over a rolling window, so p95 and p99 of a few requests a second separate', () => {
  const stats = new RunStats();
  // Each second 4 fast requests and, in one second, a slow one.
  for (let s = 0; s < ROLLING_WINDOW_S; s++) {
    for (let i = 0; i < 4; i++) stats.record(sample(0.1));
    if (s === 3) stats.record(sample(2));
    stats.tick(s + 1, 1);
  }
  const last = stats.timeline.at(-1)!;
  assert.ok(last.p99_ms! > 1000, `the slow request is still in the window: ${last.p99_ms}`);
  assert.ok(last.p95_ms! < 200, `p95 is the fast ones: ${last.p95_ms}`);
  // Once the window has moved past it, the slow request leaves.
  for (let s = 0; s < ROLLING_WINDOW_S; s++) {
    stats.record(sample(0.1));
    stats.tick(ROLLING_WINDOW_S + s + 1, 1);
  }
  assert.ok(stats.timeline.at(-1)!.p99_ms! < 200);
});

test("Locust's columns: avg, min, max, and current rates from the last whole second", () => {
  const stats = new RunStats();
  for (const l of [0.1, 0.2, 0.6]) stats.record(sample(l));
  stats.record(sample(0.3, false));
  stats.tick(1, 1);
  const t = stats.total.toJSON();
  assert.equal(t.avg_ms, 300);
  assert.equal(t.min_ms, 100);
  assert.equal(t.max_ms, 600);
  assert.equal(t.current_rps, 4);
  assert.equal(t.current_failures_per_s, 1);
  stats.tick(2, 1);
  assert.equal(stats.total.toJSON().current_rps, 0, 'a quiet second reads 0');
  assert.equal(stats.byModel.get('m')!.toJSON().requests, 4);
});
