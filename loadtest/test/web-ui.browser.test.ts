// Drives the load generator's web UI in headless Debian chromium (playwright-core, no browser download).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';
import {
  LOADTEST_MAIN,
  ROUTER_MAIN,
  SIM_MAIN,
  metricValue,
  routerYaml,
  simConfigYaml,
  startService,
  tempDir,
  waitFor,
  type RunningService,
} from '../../test-support/services.ts';

const CHROMIUM = '/usr/bin/chromium';
const tmp = tempDir();
let sim: RunningService;
let router: RunningService;
let ui: RunningService;
let browser: Browser;

before(async () => {
  assert.ok(existsSync(CHROMIUM), 'Debian chromium is required: make install-system-deps');
  sim = await startService(SIM_MAIN, [
    '--config',
    tmp.write(
      'sim.yaml',
      simConfigYaml(
        [{ id: 'm', ttft_ms: { mean: 20 }, tokens_per_second: { mean: 500 }, output_tokens: { mean: 20 } }],
        1,
      ),
    ),
  ]);
  const config = tmp.write(
    'router.yaml',
    routerYaml(
      sim.url,
      { m: { deployments: [{ model: 'm' }] } },
      'policies:\n  - { name: task_router, classifier: task, routes: {}, default: m }\n',
    ),
  );
  router = await startService(ROUTER_MAIN, ['--config', config]);
  ui = await startService(LOADTEST_MAIN, ['--router-config', config, '--host', router.url]);
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
});
after(async () => {
  await browser?.close();
  for (const s of [ui, router, sim]) await s?.stop();
  tmp.remove();
});

test('start a run from the UI (until stopped), reload and find it, edit its users, read the tables and charts, stop it', async () => {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const pageErrors: string[] = [];
  const notFound: string[] = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
  page.on('response', (r) => r.status() === 404 && notFound.push(r.url()));
  await page.goto(ui.url);
  await waitFor('defaults loaded', async () => (await page.inputValue('input[name=host]')) === router.url);
  // Before any run: empty states say what to do, not blank boxes.
  assert.ok(await page.isVisible('#charts-empty:text("Start a test")'));
  await page.click('nav a[data-tab=failures]');
  assert.ok(await page.isVisible('#failures-empty:text("No run yet")'));
  await page.click('nav a[data-tab=charts]');

  await page.fill('input[name=users]', '3');
  await page.fill('input[name=spawn_rate]', '3');
  await page.fill('input[name=duration_s]', ''); // until stopped, as Locust runs
  await page.fill('textarea[name=targets]', 'router/task_router=1,m=1');
  await page.click('#start');
  await page.waitForFunction(() => document.getElementById('state')!.textContent === 'running', undefined, {
    timeout: 10_000,
  });

  // A reload shows the running test's settings, not the server's defaults (users 10).
  await page.reload();
  await page.waitForFunction(() => document.getElementById('state')!.textContent === 'running', undefined, {
    timeout: 10_000,
  });
  assert.equal(await page.inputValue('input[name=users]'), '3');
  assert.equal(await page.inputValue('input[name=duration_s]'), '');
  assert.equal(await page.inputValue('textarea[name=targets]'), 'router/task_router=1,m=1');
  assert.equal(await page.isDisabled('textarea[name=targets]'), true, 'what a running test cannot change is locked');

  // Edit: more users mid-run (Locust's "Edit"), spawned at the spawn rate.
  await page.fill('input[name=users]', '6');
  await page.click('#edit');
  await page.waitForFunction(() => document.getElementById('users')!.textContent === '6', undefined, {
    timeout: 10_000,
  });
  assert.match((await page.textContent('#users-label'))!, /target 6/);

  // Charts get a point per second: wait for at least three, and for real traffic in them.
  // `charts` is a top-level const of the page script: visible to string expressions, not to globalThis.
  await page.waitForFunction('charts.rps.data[0].length >= 3', undefined, { timeout: 15_000 });
  const rpsSeries = (await page.evaluate('charts.rps.data[1]')) as number[];
  assert.ok(
    rpsSeries.some((v) => v > 0),
    `requests/s plotted: ${rpsSeries}`,
  );
  assert.equal(await page.locator('canvas').count(), 3, 'three charts drawn');
  assert.equal(await page.isVisible('#charts-empty'), false);
  assert.ok(Number(await page.textContent('#rps')) > 0);
  assert.equal(await page.textContent('#rps-label'), 'req/s (last second)');
  // The latency axis is labelled and its ticks carry units: 10,000 ms reads "10 s", never a clipped "0,000".
  // (uPlot draws axes on its canvas: read the axis it draws.)
  assert.equal(await page.evaluate('charts.latency.axes[1].label'), 'latency');
  assert.deepEqual(await page.evaluate('charts.latency.axes[1].values(charts.latency, [850, 1200, 10000])'), [
    '850 ms',
    '1.2 s',
    '10 s',
  ]);
  assert.ok(await page.isVisible('.u-title:text("rolling 10 s window")'));

  // A second start while running is refused with a message in the page.
  const conflict = await fetch(`${ui.url}/api/start`, {
    method: 'POST',
    body: '{}',
    signal: AbortSignal.timeout(5000),
  });
  assert.equal(conflict.status, 409);

  await page.click('nav a[data-tab=stats]');
  await page.waitForSelector('#by-policy td:text("task_router")');
  assert.ok(await page.isVisible('#by-model td:text("m")'));
  // Locust's columns and an aggregated row.
  const head = ((await page.locator('#by-model tr').first().textContent()) ?? '').toLowerCase();
  for (const column of ['avg', 'min', 'max', 'p50', 'p95', 'p99', 'current req/s', 'current failures/s'])
    assert.ok(head.includes(column), `column ${column} in: ${head}`);
  assert.ok(await page.isVisible('#by-model tr.agg td:text("Aggregated")'));
  await page.click('nav a[data-tab=failures]');
  assert.ok(await page.isVisible('#failures-empty:text("No failures yet")'));

  await page.click('#stop');
  await page.waitForFunction(() => document.getElementById('state')!.textContent === 'done', undefined, {
    timeout: 15_000,
  });
  assert.equal(await page.textContent('#reason'), 'stopped', 'the reason a run ended is shown');
  assert.equal(await page.textContent('#rps-label'), 'req/s (whole run)');
  assert.equal(await page.textContent('#p95-label'), 'p95 (whole run)');
  assert.equal(await page.isEnabled('#start'), true);
  await page.click('nav a[data-tab=charts]');
  const shot = await page.screenshot({ path: `${tmp.dir}/loadtest-ui.png`, fullPage: true });
  assert.ok(shot.length > 10_000, 'a real screenshot');
  if (process.env.SCREENSHOT_DIR)
    await page.screenshot({ path: `${process.env.SCREENSHOT_DIR}/loadtest-ui.png`, fullPage: true });

  const csv = await (await fetch(`${ui.url}/api/report.csv`, { signal: AbortSignal.timeout(5000) })).text();
  assert.match(csv, /^group,name,requests/);
  const metrics = await (await fetch(`${ui.url}/metrics`, { signal: AbortSignal.timeout(5000) })).text();
  const sent = metricValue(metrics, 'loadtest_requests_total');
  assert.ok(sent > 0);
  const routerCount = metricValue(await (await fetch(`${router.url}/metrics`)).text(), 'llm_router_requests_total');
  assert.equal(routerCount, sent, 'every request the UI run sent reached the router');
  assert.deepEqual(pageErrors, []);
  assert.deepEqual(notFound, [], 'no 404 (the favicon included)');

  // Invalid options come back as a readable error in the form.
  await page.fill('input[name=users]', '200000'); // passes the form's own checks, not the server's
  await page.click('#start');
  await page.waitForFunction(() => document.getElementById('error')!.textContent!.includes('users'), undefined, {
    timeout: 5000,
  });
  await page.close();
});

test('a run that reaches its duration says so', async () => {
  const res = await fetch(`${ui.url}/api/start`, {
    method: 'POST',
    body: JSON.stringify({ users: 1, duration_s: 1, targets: { m: 1 } }),
    signal: AbortSignal.timeout(5000),
  });
  assert.equal(res.status, 200);
  await waitFor('run done', async () => {
    const s = (await (await fetch(`${ui.url}/api/state`)).json()) as { summary: { state: string } | null };
    return s.summary?.state === 'done';
  });
  const { summary } = (await (await fetch(`${ui.url}/api/state`)).json()) as { summary: { end_reason: string } };
  assert.equal(summary.end_reason, 'duration reached');
  const edit = await fetch(`${ui.url}/api/users`, { method: 'POST', body: '{"users":2}' });
  assert.equal(edit.status, 409, 'no run to edit');
});
