// `stack up` without Docker: our services as processes (three router replicas on one Redis), Prometheus and
// Redis from Debian's packages, Grafana reported as unavailable; `stack down` stops exactly what it started.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT, printedUrlStatuses, runToEnd, tempDir, waitFor } from '../../test-support/services.ts';
import type { StackState } from '../src/state.ts';

const STACK = join(REPO_ROOT, 'stack/src/main.ts');
const tmp = tempDir('stack-native-');
const stack = (...args: string[]) =>
  runToEnd(STACK, [...args, '--state-dir', tmp.dir], 180_000, { ROUTER_REPLICAS: '3' });
after(async () => {
  await stack('down');
  tmp.remove();
});

test('native up, ROUTER_REPLICAS=3: replicas share Redis, Prometheus scrapes each, the load generator spreads over them; down stops everything', async () => {
  const up = await stack('up', '--backend', 'native', '--free-ports');
  assert.equal(up.code, 0, up.stdout + up.stderr);
  assert.match(up.stdout, /Grafana +not started: Grafana is not installed/);
  assert.doesNotMatch(up.stdout, /admin \/ secret/, 'no credentials for a Grafana that is not running');
  assert.match(up.stdout, /Redis \(shared limits\) +redis:\/\/127\.0\.0\.1:\d+/);
  assert.match(up.stdout, /Alertmanager +http:\/\/127\.0\.0\.1:\d+\/api\/v2\/alerts +\(API only/);
  assert.match(up.stdout, /Dashboard +http:\/\/127\.0\.0\.1:\d+\/consoles\/llm-router-overview\.html/);
  assert.match(up.stdout, /Alerts +http:\/\/127\.0\.0\.1:\d+\/classic\/alerts/);
  // Every address printed answers 200: services, the dashboard, graphs, alerts, targets, runbooks.
  const printed = await printedUrlStatuses(up.stdout);
  assert.ok(printed.length >= 12, `${printed.length} addresses printed`);
  assert.deepEqual(
    printed.filter((p) => p.status !== 200),
    [],
  );
  const state = JSON.parse(readFileSync(join(tmp.dir, 'stack.json'), 'utf8')) as StackState;
  const url = (name: string) => state.services.find((s) => s.name === name)!.url!;
  assert.deepEqual(
    state.services.map((s) => s.name),
    ['llm-sim', 'redis', 'router', 'router-2', 'router-3', 'loadtest', 'alertmanager', 'prometheus'],
  );
  const replicas = ['router', 'router-2', 'router-3'].map(url);
  for (const r of replicas) {
    const ready = (await (await fetch(`${r}/ready`, { signal: AbortSignal.timeout(5000) })).json()) as {
      state: string;
    };
    assert.equal(ready.state, 'shared', `${r} shares rate limits and cooldowns through Redis`);
  }
  assert.match(up.stdout, /Router replica 3 +http:\/\/127\.0\.0\.1:\d+\/v1/);

  const res = await fetch(`${url('router')}/v1/chat/completions`, {
    method: 'POST',
    body: JSON.stringify({
      model: 'auto',
      messages: [{ role: 'user', content: 'Write a haiku about routers' }],
      max_tokens: 5,
    }),
    signal: AbortSignal.timeout(30_000),
  });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('x-router-policy'), 'quality_router', 'auto is the shipped alias');
  const ui = await fetch(`${url('loadtest')}/api/state`, { signal: AbortSignal.timeout(5000) });
  assert.equal(ui.status, 200);
  // The load generator's target is every replica.
  assert.equal(((await ui.json()) as { defaults: { host: string } }).defaults.host, replicas.join(','));
  await waitFor(
    'Prometheus scraping the three routers, llm-sim and loadtest',
    async () => {
      const r = (await (
        await fetch(`${url('prometheus')}/api/v1/query?query=up%3D%3D1`, { signal: AbortSignal.timeout(5000) })
      ).json()) as { data: { result: Array<{ metric: { job: string } }> } };
      return r.data.result.filter((m) => m.metric.job === 'llm-router').length === 3 && r.data.result.length === 5;
    },
    20_000,
    500,
  );

  const again = await stack('up', '--backend', 'native', '--free-ports');
  assert.equal(again.code, 1);
  assert.match(again.stderr, /a stack is already up/);
  // Prometheus sends its alerts to the stack's Alertmanager.
  await waitFor(
    'Prometheus discovered the Alertmanager',
    async () => {
      const r = (await (await fetch(`${url('prometheus')}/api/v1/alertmanagers`)).json()) as {
        data: { activeAlertmanagers: Array<{ url: string }> };
      };
      return r.data.activeAlertmanagers.some((a) => a.url.startsWith(url('alertmanager')));
    },
    20_000,
    500,
  );
  const status = await stack('status');
  assert.match(status.stdout, /router +running \(pid \d+\)/);

  const down = await stack('down');
  assert.equal(down.code, 0);
  assert.match(down.stdout, /Stopped prometheus, alertmanager, loadtest, router-3, router-2, router, redis, llm-sim/);
  await waitFor(
    'every process gone',
    () =>
      state.services.every((s) => {
        try {
          process.kill(s.pid!, 0);
          return false;
        } catch {
          return true;
        }
      }),
    10_000,
  );
  await assert.rejects(fetch(`${url('router')}/health`, { signal: AbortSignal.timeout(2000) }));
  assert.match((await stack('down')).stdout, /Nothing to stop/);
});
