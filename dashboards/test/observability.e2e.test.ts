// Live proof: llm-sim, router and a headless load (with injected faults) scraped by the real Prometheus;
// then every panel's query of every dashboard, and every template variable, must return data.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { PROMETHEUS_DIR, consoleFlags, prometheusConfig } from '@llm-router/prometheus-config';
import { chromium } from 'playwright-core';
import {
  LOADTEST_MAIN,
  REPO_ROOT,
  ROUTER_MAIN,
  SIM_MAIN,
  freePort,
  routerYaml,
  simConfigYaml,
  startService,
  tempDir,
  waitFor,
  type RunningService,
} from '../../test-support/services.ts';
import { startPrometheus, type RunningPrometheus } from '../../test-support/prometheus.ts';
import { startRedis, type TestRedis } from '../../test-support/redis.ts';
import { consoleFiles, dashboardFiles } from '../src/generate.ts';
import { annotationQueries, panelQueries, substituteMacros, type DashboardJson } from './dashboard-json.ts';

const tmp = tempDir();
let sim: RunningService;
let router: RunningService;
let loadtest: ChildProcess | undefined;
let prometheus: RunningPrometheus;
let redis: TestRedis;
let feedbackLoop: Promise<void> | undefined;

const fast = {
  ttft_ms: { mean: 20, stddev: 5 },
  tokens_per_second: { mean: 300 },
  output_tokens: { mean: 30, stddev: 10 },
};

before(async () => {
  // The router shares its limits through Redis, as a fleet would: the Fleet row's panels have data.
  redis = await startRedis();
  sim = await startService(SIM_MAIN, [
    '--config',
    tmp.write(
      'sim.yaml',
      simConfigYaml(
        [
          { id: 'ok', ...fast },
          { id: 'flaky', ...fast, error_rate: 0.4 },
          { id: 'broken', ...fast, error_rate: 1 },
          // The reference of quality_router's shadow evaluation, and its judge.
          { id: 'judge', ...fast, quality: 0.9, judge: true },
        ],
        1,
      ),
    ),
  ]);
  // Faults on purpose: retries, cooldowns, failures, local rate limits and fallbacks must all show up.
  const config = tmp.write(
    'router.yaml',
    routerYaml(
      sim.url,
      {
        chat: {
          deployments: [
            { model: 'ok', id: 'chat-ok' },
            { model: 'flaky', id: 'chat-flaky' },
            { model: 'ok', id: 'chat-limited', rpm: 30 },
          ],
        },
        primary: { fallbacks: ['chat'], deployments: [{ model: 'broken', id: 'primary-broken' }] },
        broken_only: { deployments: [{ model: 'broken', id: 'broken-only' }] },
        ref: { deployments: [{ model: 'judge', id: 'ref-judge', price: { input_per_1m: 10, output_per_1m: 20 } }] },
      },
      `resilience: { retries: 2, backoff_ms: 5, cooldown: { allowed_fails: 2, window_s: 10, duration_s: 2 } }
state: { backend: redis, url: "${redis.url}" }
policies:
  - { name: task_router, classifier: task, routes: { Code Generation: primary }, default: chat }
  - { name: complexity_router, classifier: complexity, tiers: [ { name: simple, max_score: 0.1 }, { name: hard, max_score: 1 } ], routes: { simple: chat, hard: primary }, default: chat }
  - { name: quality_router, classifier: quality, models: [chat, primary], thresholds: [0.12], shadow: { sample_rate: 1, reference_model: ref, judge_model: ref, max_per_minute: 1000 } }
`,
    ),
  );
  router = await startService(ROUTER_MAIN, ['--config', config]);
  const loadtestMetricsPort = await freePort();
  loadtest = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      LOADTEST_MAIN,
      '--headless',
      '--host',
      router.url,
      '--router-config',
      config,
      '--users',
      '8',
      '--spawn-rate',
      '8',
      '--think-time',
      '0.05-0.1',
      '--duration',
      '90s',
      '--stream-ratio',
      '0.5',
      '--targets',
      'router/task_router=3,router/complexity_router=2,router/quality_router=2,broken_only=1,ref=1',
      '--metrics-port',
      String(loadtestMetricsPort),
    ],
    { cwd: REPO_ROOT, stdio: 'ignore' },
  );
  // Rules evaluated every second (not every 15 s) so the test does not wait on them.
  const rules = ['recording.yml', 'alerts.yml'].map(
    (f) =>
      [f, readFileSync(join(PROMETHEUS_DIR, 'rules', f), 'utf8').replace(/interval: 15s/g, 'interval: 1s')] as const,
  );
  const cfg = prometheusConfig(
    {
      router: [`127.0.0.1:${router.port}`],
      llmSim: `127.0.0.1:${sim.port}`,
      loadtest: `127.0.0.1:${loadtestMetricsPort}`,
    },
    { scrapeInterval: '1s', ruleFiles: rules.map(([f]) => f) },
  );
  // Serving the console pages too: the dashboards without Grafana.
  prometheus = await startPrometheus(cfg, Object.fromEntries(rules), consoleFlags());
  // Client feedback on answers while Prometheus scrapes (the Quality row's feedback panels need its rate).
  feedbackLoop = (async () => {
    for (let i = 0; i < 15; i++) {
      const res = await fetch(`${router.url}/v1/chat/completions`, {
        method: 'POST',
        body: JSON.stringify({
          model: 'router/quality_router',
          messages: [{ role: 'user', content: `Question ${i}?` }],
        }),
      });
      await res.text();
      if (res.status === 200)
        await fetch(`${router.url}/v1/feedback`, {
          method: 'POST',
          body: JSON.stringify({ request_id: res.headers.get('x-request-id'), score: i % 2 ? 'up' : 0.5 }),
        }).then((r) => r.text());
      await new Promise((r) => setTimeout(r, 1000)); // spread over the first scrapes, like real feedback
    }
  })();
});

after(async () => {
  await feedbackLoop;
  if (loadtest && loadtest.exitCode === null) {
    const exited = new Promise((r) => loadtest!.once('exit', r));
    loadtest.kill('SIGTERM');
    await exited;
  }
  await prometheus?.stop();
  await router?.stop();
  await sim?.stop();
  await redis?.stop();
  tmp.remove();
});

test('Prometheus scrapes router, llm-sim and the load generator', async () => {
  await waitFor(
    'all three targets up',
    async () => {
      const up = await prometheus.query('up == 1');
      return new Set(up.map((s) => s.metric.job)).size === 3;
    },
    20_000,
    250,
  );
});

test('every panel query of every dashboard returns data from the real Prometheus', async () => {
  const dashboards = Object.values(dashboardFiles()).map((t) => JSON.parse(t) as DashboardJson);
  // Panels, and the load-test annotation (the firing-alerts one is proven in prometheus/test/alertmanager.e2e.test.ts).
  const queries = dashboards.flatMap((d) =>
    [...panelQueries(d), ...annotationQueries(d).filter((a) => !a.title.includes('Firing'))].map((q) => ({
      dashboard: d.title,
      ...q,
      promql: substituteMacros(q.expr, '30s'),
    })),
  );
  assert.ok(queries.length > 40);
  const hasData = async (promql: string) =>
    (await prometheus.query(promql)).some((s) => Number.isFinite(Number(s.value[1])));
  let missing = queries;
  // Series appear as traffic and rule evaluations accumulate: poll, never a fixed sleep.
  await waitFor(
    'data for every panel',
    async () => {
      const still = [];
      for (const q of missing) if (!(await hasData(q.promql))) still.push(q);
      missing = still;
      return missing.length === 0;
    },
    60_000,
    1000,
  ).catch(() => {});
  assert.deepEqual(
    missing.map((q) => `${q.dashboard} / ${q.title}: ${q.promql}`),
    [],
    'panels without data',
  );
});

test('every template variable has values', async () => {
  for (const d of Object.values(dashboardFiles()).map((t) => JSON.parse(t) as DashboardJson)) {
    for (const v of d.templating.list) {
      const q = typeof v.query === 'string' ? v.query : v.query.query;
      const [, metric, label] = /^label_values\((\w+), (\w+)\)$/.exec(q)!;
      const res = (await (
        await fetch(`${prometheus.url}/api/v1/label/${label}/values?match[]=${metric}`, {
          signal: AbortSignal.timeout(5000),
        })
      ).json()) as { data: string[] };
      assert.ok(res.data.length > 0, `${d.title}: $${v.name} has no values`);
    }
  }
});

/**
 * Panels allowed to be empty for some values of a variable, because no data is the true answer there. Each entry:
 * dashboard title / panel title -> the values, and why.
 */
const EMPTY_BY_DESIGN: Record<string, { values: string[]; why: string }> = {
  'LLM Router deployments / RPM headroom': {
    values: ['primary', 'broken_only', 'ref'],
    why: 'only deployments with an rpm limit have requests left to show; these models have none',
  },
  'LLM Router deployments / Upstream latency p95 by deployment': {
    values: ['primary', 'broken_only'],
    why: 'upstream latency is that of answered calls; every deployment of these models fails on purpose',
  },
  'Load test / Prompt and completion tokens/s': {
    values: ['broken_only'],
    why: 'every request to broken_only fails: no tokens',
  },
  'Load test / Cost by model': { values: ['broken_only'], why: 'every request to broken_only fails: no cost' },
  'Load test / Time to first token (client, p50)': {
    values: ['broken_only'],
    why: 'every request to broken_only fails: no first token',
  },
  'LLM Router overview / Strong-model calls': {
    values: ['task_router', 'complexity_router', 'manual'],
    why: 'only quality policies score prompts and have a strongest model',
  },
  'LLM Router overview / Strong-model share by policy': {
    values: ['task_router', 'complexity_router', 'manual'],
    why: 'only quality policies score prompts and have a strongest model',
  },
  'LLM Router overview / Strong-need score': {
    values: ['task_router', 'complexity_router', 'manual'],
    why: 'only quality policies score prompts',
  },
  'LLM Router overview / Conversation sessions': {
    values: ['manual'],
    why: 'requests routed by model name have no session',
  },
  ...Object.fromEntries(
    [
      'Saved at quality retained',
      'Quality retained',
      'Shadow spend in range',
      'Feedback score',
      'Quality retained by policy and model',
      'Feedback score by model and class',
      'Shadow verdicts and drops',
      'Shadow spend vs savings',
    ].map((panel) => [
      `LLM Router overview / ${panel}`,
      {
        values: ['task_router', 'complexity_router', 'manual'],
        why: 'only quality_router has shadow evaluation, and feedback goes to its answers',
      },
    ]),
  ),
  'Runtime / GC time': {
    values: ['loadtest'],
    why: "prom-client's GC histogram has series only once the process has collected; the short run may not have",
  },
};

test('every panel that uses a variable returns data for each of its values, and only for that value', async () => {
  const dashboards = Object.values(dashboardFiles()).map((t) => JSON.parse(t) as DashboardJson);
  const valuesOf = async (q: string) => {
    const [, metric, label] = /^label_values\((\w+), (\w+)\)$/.exec(q)!;
    const res = (await (await fetch(`${prometheus.url}/api/v1/label/${label}/values?match[]=${metric}`)).json()) as {
      data: string[];
    };
    return res.data;
  };
  // Every (panel, variable value) pair, checked until it has data or a minute passes: on a loaded machine a scrape
  // can miss (timeouts), so a pair is polled like the panels above, never judged on one query.
  const pairs: Array<{ label: string; value: string; title: string; promql: string; exempt: boolean }> = [];
  for (const d of dashboards)
    for (const v of d.templating.list) {
      const values = await valuesOf(typeof v.query === 'string' ? v.query : v.query.query);
      assert.ok(values.length > 0, `${d.title}: $${v.name} has no values`);
      for (const value of values)
        for (const q of panelQueries(d).filter((p) => p.expr.includes(`$${v.name}`)))
          pairs.push({
            label: v.name,
            value,
            title: `${d.title} / ${q.title}`,
            promql: substituteMacros(q.expr.replaceAll(`$${v.name}`, value), '1m'),
            exempt: !!EMPTY_BY_DESIGN[`${d.title} / ${q.title}`]?.values.includes(value),
          });
    }
  assert.ok(pairs.length > 50, `only ${pairs.length} panel/value pairs`);
  const problems = new Map<(typeof pairs)[number], string>();
  let pending = pairs;
  await waitFor(
    'data for every panel and variable value',
    async () => {
      const still = [];
      for (const p of pending) {
        const series = (await prometheus.query(p.promql)).filter((s) => Number.isFinite(Number(s.value[1])));
        // A panel split by the variable's label shows only the chosen value.
        const other = series.find((s) => s.metric[p.label] !== undefined && s.metric[p.label] !== p.value);
        if (other) problems.set(p, `${p.title} with $${p.label}=${p.value} shows ${JSON.stringify(other.metric)}`);
        if (series.length === 0 && !p.exempt) {
          problems.set(p, `${p.title} with $${p.label}=${p.value}: no data (${p.promql})`);
          still.push(p);
        } else if (!other) problems.delete(p);
      }
      pending = still;
      return pending.length === 0;
    },
    60_000,
    1000,
  ).catch(() => {});
  assert.deepEqual([...problems.values()], []);
});

test('the console pages (the dashboards served by Prometheus, no Grafana) render every stat and graph with data', async () => {
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
  try {
    const dashboards = Object.values(dashboardFiles()).map((t) => JSON.parse(t) as DashboardJson);
    for (const file of Object.keys(consoleFiles())) {
      const d = dashboards.find((x) => `${x.uid}.html` === file)!;
      const panels = d.panels.filter((p) => p.type !== 'row').map((p) => p.title);
      const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
      let problems: string[] = [];
      // Stats are evaluated when the page loads and graphs fetch once: reload until each shows data (series
      // appear as the load runs), as a person would.
      await waitFor(
        `${file}: every panel with data`,
        async () => {
          await page.goto(`${prometheus.url}/consoles/${file}`);
          await page.waitForFunction(
            'PromConsole._graph_registry.every((g) => g.rendered_data !== null || g.graphTd.textContent.includes("Error"))',
            undefined,
            { timeout: 15_000 },
          );
          const shown = (await page.evaluate(`(() => {
            const out = {};
            for (const el of document.querySelectorAll('.llm-stat-value')) out[el.dataset.panel] = !el.textContent.includes('no data');
            for (const el of document.querySelectorAll('.llm-graph')) {
              const g = PromConsole._graph_registry.find((x) => el.contains(x.graphTd));
              out[el.dataset.panel] = !!g && g.rendered_data !== null && g.rendered_data.some((r) => r.data.result.length > 0) && !!el.querySelector('svg path');
            }
            return out;
          })()`)) as Record<string, boolean>;
          problems = panels
            .filter((p) => !shown[p])
            .map((p) => `${d.title} / ${p}: ${p in shown ? 'no data' : 'missing'}`);
          return problems.length === 0;
        },
        60_000,
        2000,
      ).catch(() => {});
      assert.deepEqual(problems, []);
      if (file === 'llm-router-overview.html') {
        const shot = await page.screenshot({ path: `${tmp.dir}/console-overview.png`, fullPage: true });
        assert.ok(shot.length > 50_000, 'a real screenshot');
        if (process.env.SCREENSHOT_DIR)
          await page.screenshot({ path: `${process.env.SCREENSHOT_DIR}/console-overview.png`, fullPage: true });
      }
      await page.close();
    }
  } finally {
    await browser.close();
  }
});
