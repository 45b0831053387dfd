// The headless CLI against real llm-sim + router processes: its numbers must equal the router's own.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import {
  LOADTEST_MAIN,
  ROUTER_MAIN,
  SIM_MAIN,
  metricValue,
  routerYaml,
  runToEnd,
  simConfigYaml,
  startService,
  tempDir,
  type RunningService,
} from '../../test-support/services.ts';
import type { RunSummary } from '../src/runner.ts';

const tmp = tempDir();
let sim: RunningService;
let router: RunningService;
let routerConfig: string;

before(async () => {
  sim = await startService(SIM_MAIN, [
    '--config',
    tmp.write(
      'sim.yaml',
      simConfigYaml(
        [
          { id: 'small', ttft_ms: { mean: 5 }, tokens_per_second: { mean: 2000 }, output_tokens: { mean: 20 } },
          { id: 'big', ttft_ms: { mean: 10 }, tokens_per_second: { mean: 1000 }, output_tokens: { mean: 40 } },
          { id: 'slow', ttft_ms: { mean: 200 }, tokens_per_second: { mean: 1000 }, output_tokens: { mean: 5 } },
          { id: 'glacial', ttft_ms: { mean: 20_000 }, tokens_per_second: { mean: 1000 }, output_tokens: { mean: 5 } },
        ],
        1,
      ),
    ),
  ]);
  routerConfig = tmp.write(
    'router.yaml',
    routerYaml(
      sim.url,
      {
        small: { deployments: [{ model: 'small', price: { input_per_1m: 0.1, output_per_1m: 0.2 } }] },
        big: { deployments: [{ model: 'big', price: { input_per_1m: 3, output_per_1m: 6 } }] },
        slow: { deployments: [{ model: 'slow' }] },
        glacial: { deployments: [{ model: 'glacial' }] },
      },
      `policies:
  - { name: task_router, classifier: task, routes: { Code Generation: big, Math/Reasoning: big }, default: small }
`,
    ),
  );
  router = await startService(ROUTER_MAIN, ['--config', routerConfig]);
});
after(async () => {
  await router.stop();
  await sim.stop();
  tmp.remove();
});

const routerMetrics = async () => (await fetch(`${router.url}/metrics`, { signal: AbortSignal.timeout(5000) })).text();

test("headless run: summary counts, tokens and cost equal the router's counters; reports are written", async () => {
  const before = await routerMetrics();
  const json = `${tmp.dir}/report.json`;
  const html = `${tmp.dir}/report.html`;
  const csv = `${tmp.dir}/report.csv`;
  const out = await runToEnd(LOADTEST_MAIN, [
    '--headless',
    '--host',
    router.url,
    '--users',
    '8',
    '--spawn-rate',
    '50',
    '--think-time',
    '0-0.01',
    '--duration',
    '30s',
    '--max-requests',
    '120',
    '--targets',
    'router/task_router=2,small=1',
    '--stream-ratio',
    '0.5',
    '--router-config',
    routerConfig,
    '--report-json',
    json,
    '--report-html',
    html,
    '--report-csv',
    csv,
    '--fail-on',
    'error_ratio>0.01',
  ]);
  assert.equal(out.code, 0, out.stdout + out.stderr);
  const s = JSON.parse(readFileSync(json, 'utf8')) as RunSummary;
  const after = await routerMetrics();
  const delta = (name: string, labels: Record<string, string> = {}) =>
    metricValue(after, name, labels) - metricValue(before, name, labels);
  assert.ok(s.total.requests >= 120 && s.total.requests < 130, `${s.total.requests} requests`);
  assert.equal(s.total.failures, 0);
  assert.equal(delta('llm_router_requests_total'), s.total.requests);
  for (const p of s.by_policy)
    assert.equal(delta('llm_router_requests_total', { policy: p.name }), p.requests, `policy ${p.name}`);
  for (const m of s.by_model) {
    assert.equal(delta('llm_router_requests_total', { model: m.name }), m.requests, `model ${m.name}`);
    assert.equal(
      delta('llm_router_tokens_total', { model: m.name, type: 'completion' }),
      m.completion_tokens,
      `tokens ${m.name}`,
    );
    assert.ok(Math.abs(delta('llm_router_cost_usd_total', { model: m.name }) - m.cost_usd) < 1e-6, `cost ${m.name}`);
  }
  assert.deepEqual(new Set(s.by_policy.map((p) => p.name)), new Set(['task_router', 'manual']));
  assert.ok(
    s.by_model.some((m) => m.name === 'big') && s.by_model.some((m) => m.name === 'small'),
    'the router really routed differently',
  );
  assert.match(out.stdout, /by model[\s\S]*by policy[\s\S]*total\s+\d+/);
  assert.match(readFileSync(html, 'utf8'), /<h1>Load test report<\/h1>[\s\S]*By model/);
  assert.match(readFileSync(csv, 'utf8'), /^group,name,requests,failures/);
});

test('--fail-on exits non-zero when a threshold is crossed', async () => {
  const out = await runToEnd(LOADTEST_MAIN, [
    '--headless',
    '--host',
    router.url,
    '--users',
    '2',
    '--duration',
    '10s',
    '--max-requests',
    '6',
    '--think-time',
    '0-0',
    '--targets',
    'slow',
    '--router-config',
    routerConfig,
    '--fail-on',
    'p95>50ms',
  ]);
  assert.equal(out.code, 1, out.stdout + out.stderr);
  assert.match(out.stderr, /FAILED: p95>50ms \(actual \d+ ms\)/);
});

test('open loop measures from the intended start: a saturated server shows up as growing latency', async () => {
  // 20 req/s with one connection against ~200 ms answers: requests queue, and their wait counts.
  const json = `${tmp.dir}/open.json`;
  const out = await runToEnd(LOADTEST_MAIN, [
    '--headless',
    '--host',
    router.url,
    '--rate',
    '20',
    '--users',
    '1',
    '--duration',
    '20s',
    '--max-requests',
    '20',
    '--targets',
    'slow',
    '--stream-ratio',
    '0',
    '--router-config',
    routerConfig,
    '--report-json',
    json,
  ]);
  assert.equal(out.code, 0, out.stderr);
  const s = JSON.parse(readFileSync(json, 'utf8')) as RunSummary;
  assert.equal(s.total.requests, 20);
  assert.ok(s.total.median_ms! > 200 * 3, `median ${s.total.median_ms} ms includes queueing behind a saturated server`);
  assert.ok(s.total.max_ms! > 2500, `the last request waited for all the others (${s.total.max_ms} ms)`);
});

test('bad options are rejected with a clear message and exit code 2', async () => {
  const out = await runToEnd(LOADTEST_MAIN, ['--headless', '--users', 'many']);
  assert.equal(out.code, 2);
  assert.match(out.stderr, /--users must be a number, got "many"/);
  const out2 = await runToEnd(LOADTEST_MAIN, ['--headless', '--duration', 'soon']);
  assert.equal(out2.code, 2);
  assert.match(out2.stderr, /invalid duration "soon"/);
});

test('a run stops at its deadline: requests still in flight after the grace are cut and counted as cut, not failed', async () => {
  const json = `${tmp.dir}/cut.json`;
  const t0 = Date.now();
  // Every request takes ~20 s upstream; the run lasts 1 s with a 0.5 s grace.
  const out = await runToEnd(LOADTEST_MAIN, [
    '--headless',
    '--host',
    router.url,
    '--users',
    '4',
    '--spawn-rate',
    '100',
    '--duration',
    '1s',
    '--grace',
    '500ms',
    '--targets',
    'glacial=1',
    '--router-config',
    routerConfig,
    '--report-json',
    json,
    '--fail-on',
    'error_ratio>0.01',
  ]);
  const wallMs = Date.now() - t0;
  assert.equal(out.code, 0, out.stdout + out.stderr);
  const s = JSON.parse(readFileSync(json, 'utf8')) as RunSummary;
  assert.equal(s.cut, 4, 'the four in-flight requests were cut');
  assert.equal(s.total.requests, 0);
  assert.equal(s.total.failures, 0);
  assert.match(out.stdout, /4 requests still in flight at the deadline were cut after the 0\.5s grace/);
  assert.ok(wallMs < 15_000, `the run ended near its deadline (${wallMs} ms), not when the upstream answered`);
});

test('a malformed --fail-on is a usage error: one line, exit 2, no stack trace', async () => {
  const out = await runToEnd(LOADTEST_MAIN, [
    '--headless',
    '--host',
    router.url,
    '--duration',
    '1s',
    '--fail-on',
    'p95 over 2s',
  ]);
  assert.equal(out.code, 2);
  assert.match(out.stderr, /^loadtest: invalid --fail-on "p95 over 2s"/);
  assert.doesNotMatch(out.stderr, /\n\s+at /);
});

test('--prompts replays a labelled file: accuracy measured per model, each label posted as feedback for the model that answered', async () => {
  // Our own prompts (no public set), labelled per model: "small" right on the first two, "big" on all three.
  const file = tmp.write(
    'prompts.jsonl',
    [
      { prompt: 'Say hello to the team.', strong_correct: true, weak_correct: true },
      { messages: [{ role: 'user', content: 'Name three colours.' }], strong_correct: true, weak_correct: true },
      { prompt: 'Prove that there are infinitely many primes.', labels: { small: 0, big: 1 } },
    ]
      .map((r) => JSON.stringify(r))
      .join('\n'),
  );
  const before = await routerMetrics();
  const json = `${tmp.dir}/replay.json`;
  const out = await runToEnd(LOADTEST_MAIN, [
    '--headless',
    '--host',
    router.url,
    '--users',
    '4',
    '--think-time',
    '0-0.01',
    '--max-requests',
    '60',
    '--targets',
    'small=1,big=1',
    '--prompts',
    file,
    '--label-models',
    'strong=big,weak=small',
    '--router-config',
    routerConfig,
    '--report-json',
    json,
  ]);
  assert.equal(out.code, 0, out.stdout + out.stderr);
  const s = JSON.parse(readFileSync(json, 'utf8')) as RunSummary;
  const after = await routerMetrics();
  const delta = (name: string, labels: Record<string, string> = {}) =>
    metricValue(after, name, labels) - metricValue(before, name, labels);
  assert.equal(s.total.failures, 0);
  const small = s.by_model.find((m) => m.name === 'small')!;
  const big = s.by_model.find((m) => m.name === 'big')!;
  assert.equal(big.accuracy, 1, 'big is right on every prompt');
  assert.ok(small.accuracy! > 0.4 && small.accuracy! < 0.9, `small is wrong on one prompt in three: ${small.accuracy}`);
  // Every answer had a label: one feedback each, landing on the model that answered, with its label as the score.
  assert.equal(s.feedback.posted, s.total.requests);
  assert.equal(delta('llm_router_feedback_score_count'), s.total.requests);
  for (const m of [small, big]) {
    assert.equal(delta('llm_router_feedback_score_count', { model: m.name }), m.requests);
    // accuracy is rounded to 4 decimals in the summary
    const sum = delta('llm_router_feedback_score_sum', { model: m.name });
    assert.ok(Math.abs(sum - m.accuracy! * m.requests) < 0.01, `${m.name}: feedback sum ${sum}`);
  }
  assert.match(out.stdout, /measured accuracy .*big 100\.0%/);
  assert.match(out.stdout, new RegExp(`feedback posted to the router: ${s.total.requests}`));

  const bad = await runToEnd(LOADTEST_MAIN, [
    '--headless',
    '--host',
    router.url,
    '--prompts',
    tmp.write('bad.jsonl', '{"nope": 1}\n'),
  ]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /prompt file .*bad\.jsonl, line 1: give "prompt"/);
});
