// Multi-core mode (--workers N, node:cluster): one port, metrics aggregated across workers, rate limits
// shared out, crashed workers replaced, every worker stopped on shutdown.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { Agent, request } from 'undici';
import { childPids } from '../../test-support/proc-stats.ts';
import { metricValue, routerYaml, waitFor } from '../../test-support/services.ts';
import { simAndRouter } from '../../test-support/sim-and-router.ts';

const stack = simAndRouter({
  simModels: [{ id: 'fast', ttft_ms: { mean: 2 }, tokens_per_second: { mean: 2000 }, output_tokens: { mean: 5 } }],
  timeScale: 1,
  routerYaml: (simUrl) =>
    routerYaml(simUrl, {
      open: { deployments: [{ model: 'fast' }] },
      limited: { deployments: [{ model: 'fast', rpm: 30 }] },
    }),
  routerArgs: ['--workers', '2'],
});

const cmdline = (pid: number) => {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  } catch {
    return ''; // exited since it was listed
  }
};
/** The router workers of the primary `pid`. */
const workersOf = (pid: number) => childPids(pid).filter((p) => cmdline(p).includes('router/src/main.ts'));

const metrics = async () => {
  const agent = new Agent();
  try {
    return await (
      await request(`${stack.router.url}/metrics`, { dispatcher: agent, signal: AbortSignal.timeout(5_000) })
    ).body.text();
  } finally {
    void agent.close();
  }
};

// A fresh connection per request (the primary hands connections to workers round-robin), and no pooled
// socket to a killed worker left behind.
const chat = async (model: string) => {
  const agent = new Agent({ pipelining: 0 });
  try {
    const res = await request(`${stack.router.url}/v1/chat/completions`, {
      method: 'POST',
      dispatcher: agent,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model, messages: [{ role: 'user', content: 'hello' }] }),
      signal: AbortSignal.timeout(10_000),
    });
    return { status: res.statusCode, json: () => res.body.json() as Promise<unknown> };
  } finally {
    void agent.close();
  }
};

test('every scrape shows the requests of all workers, whichever worker answers it', async () => {
  assert.equal(workersOf(stack.router.proc.pid!).length, 2, 'two worker processes');
  const results = await Promise.all(
    Array.from({ length: 200 }, () =>
      chat('open').then(async (r) => ({
        status: r.status,
        usage: ((await r.json()) as { usage: { completion_tokens: number } }).usage,
      })),
    ),
  );
  assert.ok(results.every((r) => r.status === 200));
  const completionTokens = results.reduce((s, r) => s + r.usage.completion_tokens, 0);
  for (let i = 0; i < 6; i++) {
    // New connections land on alternating workers; each must report the cluster-wide totals.
    const text = await metrics();
    assert.equal(metricValue(text, 'llm_router_requests_total', { model: 'open', status: '200' }), 200);
    assert.equal(metricValue(text, 'llm_router_tokens_total', { model: 'open', type: 'completion' }), completionTokens);
    assert.equal(metricValue(text, 'llm_router_workers'), 2);
    assert.equal(metricValue(text, 'llm_router_request_duration_seconds_count', { model: 'open' }), 200);
  }
  const promtool = spawnSync('promtool', ['check', 'metrics'], { input: await metrics(), encoding: 'utf8' });
  assert.equal(promtool.status, 0, promtool.stdout + promtool.stderr);
});

test('a deployment rpm limit holds across workers: each enforces its share', async () => {
  const statuses = await Promise.all(Array.from({ length: 60 }, () => chat('limited').then((r) => r.status)));
  const ok = statuses.filter((s) => s === 200).length;
  assert.ok(ok > 0 && ok <= 30, `at most rpm=30 requests pass in a minute across 2 workers, got ${ok}`);
  assert.equal(ok + statuses.filter((s) => s === 429).length, 60, 'the rest are fast 429s');
});

test('a crashed worker is replaced, traffic keeps flowing, and aggregated counters never go back', async () => {
  const countedBefore = metricValue(await metrics(), 'llm_router_requests_total');
  assert.ok(countedBefore > 0);
  const [victim] = workersOf(stack.router.proc.pid!);
  process.kill(victim!, 'SIGKILL');
  await waitFor(
    'a replacement worker',
    () => {
      const now = workersOf(stack.router.proc.pid!);
      return now.length === 2 && !now.includes(victim!);
    },
    15_000,
    100,
  );
  const statuses = await Promise.all(Array.from({ length: 20 }, () => chat('open').then((r) => r.status)));
  assert.deepEqual(new Set(statuses), new Set([200]));
  await waitFor(
    'both workers to report',
    async () => metricValue(await metrics(), 'llm_router_workers') === 2,
    10_000,
    100,
  );
  // What the dead worker had counted (as of the last scrape) stays in the sum: no reset for Prometheus.
  const countedAfter = metricValue(await metrics(), 'llm_router_requests_total');
  assert.ok(countedAfter >= countedBefore + 20, `requests_total went from ${countedBefore} to ${countedAfter}`);
});

test('stopping the primary stops every worker', async () => {
  const workers = workersOf(stack.router.proc.pid!);
  await stack.router.stop();
  await waitFor(
    'workers to exit',
    () =>
      workers.every((p) => {
        try {
          process.kill(p, 0);
          return false;
        } catch {
          return true;
        }
      }),
    10_000,
    100,
  );
});
