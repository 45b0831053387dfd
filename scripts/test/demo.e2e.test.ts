// `make demo` end to end, shortened: its summary must match the router's metrics and Prometheus.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { REPO_ROOT } from '../../test-support/services.ts';

test('demo: load generator count = router count = Prometheus count; summary numbers are consistent', async () => {
  const proc = spawn(process.execPath, ['--import', 'tsx', 'scripts/demo.ts'], {
    cwd: REPO_ROOT,
    env: { ...process.env, DEMO_DURATION: '5s', DEMO_USERS: '10', DEMO_JSON: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const timer = setTimeout(() => proc.kill('SIGKILL'), 120_000);
  const code = await new Promise<number | null>((resolve) => proc.once('close', resolve));
  clearTimeout(timer);
  assert.equal(code, 0, out);
  const summary = JSON.parse(out.split('\n').find((l) => l.startsWith('{"sent"'))!) as {
    sent: number;
    failed: number;
    routerTotal: number;
    prometheusTotal: number | null;
    byPolicy: Record<string, number>;
    byModel: Record<string, number>;
    loadByModel: Record<string, number>;
    cost: number;
    baseline: number;
    savings: number;
    strongShare: number;
    judged: number;
    qualityRetained: number | null;
  };
  assert.ok(summary.sent > 20, `${summary.sent} requests`);
  assert.equal(summary.failed, 0);
  assert.equal(summary.routerTotal, summary.sent);
  assert.equal(summary.prometheusTotal, summary.routerTotal, 'Prometheus scraped the same count');
  assert.equal(
    Object.values(summary.byPolicy).reduce((a, b) => a + b, 0),
    summary.routerTotal,
  );
  assert.deepEqual(summary.byModel, summary.loadByModel, 'per-model counts agree between load generator and router');
  assert.ok(Object.keys(summary.byModel).length >= 3, 'the policies really routed to several models');
  assert.ok(summary.cost > 0 && summary.baseline > summary.cost);
  assert.ok(Math.abs(summary.savings - (1 - summary.cost / summary.baseline)) < 1e-9);
  assert.match(
    out,
    new RegExp(
      `Cost: +\\$${summary.cost.toFixed(4)} routed vs \\$${summary.baseline.toFixed(4)} baseline -> ${(summary.savings * 100).toFixed(1)}% saved`,
    ),
  );
  assert.match(out, /Router overhead: +p50 [\d.]+ ms +p99 [\d.]+ ms/);
  assert.ok(summary.byPolicy.quality_router! > 0, 'the quality router served part of the load');
  assert.match(
    out,
    new RegExp(
      `Strong-model calls: +quality_router sent \\d+ of ${summary.byPolicy.quality_router} \\(${(summary.strongShare * 100).toFixed(1)}%\\)`,
    ),
  );
  assert.match(out, /Check: .*: match/);
  // Quality beside savings: what shadow evaluation judged (a tenth of quality_router's cheaper answers, sampled).
  if (summary.judged > 0)
    assert.match(
      out,
      new RegExp(
        `Quality: +quality_router saved [\\d.]+% at ${(summary.qualityRetained! * 100).toFixed(1)}% quality retained \\(${summary.judged} answers judged`,
      ),
    );
  else assert.match(out, /Quality: +no answer judged yet/);
});
