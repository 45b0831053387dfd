#!/usr/bin/env -S node --import tsx
// loadtest: web UI on :8089 (default) or a headless run (--headless). `loadtest --help` lists options.
import { createServer } from 'node:http';
import { writeFileSync } from 'node:fs';
import { parseCommandLine } from '@llm-router/yaml-config';
import cliProgress from 'cli-progress';
import { createLoadtestMetrics } from './metrics/loadtest-metrics.ts';
import { parseDuration, runOptionsSchema, type RunOptionsInput } from './options.ts';
import { PriceTable } from './price-table.ts';
import { failedChecks, parseFailOn, summaryCsv, summaryHtml, summaryTable } from './report.ts';
import { LoadRun } from './runner.ts';
import { startWebUi } from './web/server.ts';

const HELP = `Usage: loadtest [--headless] [options]

Without --headless: web UI on http://127.0.0.1:8089 (set users, spawn rate, host, mix; start/stop; live charts).

  --host URL             target (router) base URL            [http://127.0.0.1:4000]
  --users N              closed loop: simulated users        [10]
  --spawn-rate N         users started per second            [5]
  --rate N               open loop: requests/s at a constant arrival rate (users caps concurrency)
  --duration D           e.g. 30s, 2m   [headless: 30s unless --max-requests; web UI: until stopped]
  --max-requests N       stop after N requests
  --grace D              at the deadline, in-flight requests get this long, then are cut [2s]
  --think-time A-B       seconds between a user's requests   [0.5-1]
  --targets LIST         model/policy mix, e.g. router/task_router=2,llama-3.1-8b-instruct=1
  --nim-extension        send policies in the nim-llm-router body extension
  --stream-ratio X       fraction of streamed requests        [0.5]
  --long-prompt-ratio X  fraction of ~150-UUID long prompts   [0]
  --max-tokens N         max_tokens for every request
  --prompts FILE         replay a JSONL prompt file ({"prompt"} or {"messages"}, optional labels) instead of the
                         built-in templates; with labels, each answer's label is posted as feedback to the router
  --label-models LIST    what "<name>_correct" labels stand for  [strong=llama-3.1-405b-instruct,weak=llama-3.1-8b-instruct]
  --no-feedback          with labels: measure accuracy, but post no feedback
  --api-key KEY          Authorization: Bearer KEY (or LOADTEST_API_KEY)
  --router-config FILE   price table for cost                 [config/router.yaml]
  --fail-on SPEC         exit 1 if crossed, e.g. error_ratio>0.01,p95>2s
  --report-json FILE     write the summary as JSON
  --report-html FILE     write an HTML report
  --report-csv FILE      write per-model/policy stats as CSV
  --metrics-port N       headless: also serve /metrics on this port while running
  --port N, --bind H     web UI address                       [8089, 127.0.0.1]
  --seed N               request mix seed                     [1]`;

const { values: a } = parseCommandLine('loadtest', HELP, {
  options: {
    headless: { type: 'boolean' },
    host: { type: 'string' },
    users: { type: 'string' },
    'spawn-rate': { type: 'string' },
    rate: { type: 'string' },
    duration: { type: 'string' },
    'max-requests': { type: 'string' },
    grace: { type: 'string' },
    'think-time': { type: 'string' },
    targets: { type: 'string' },
    'nim-extension': { type: 'boolean' },
    'stream-ratio': { type: 'string' },
    'long-prompt-ratio': { type: 'string' },
    'max-tokens': { type: 'string' },
    'api-key': { type: 'string' },
    'router-config': { type: 'string', default: 'config/router.yaml' },
    'fail-on': { type: 'string' },
    'report-json': { type: 'string' },
    'report-html': { type: 'string' },
    'report-csv': { type: 'string' },
    'metrics-port': { type: 'string' },
    port: { type: 'string', default: process.env.LOADTEST_PORT ?? '8089' },
    bind: { type: 'string', default: process.env.LOADTEST_BIND ?? '127.0.0.1' },
    seed: { type: 'string' },
    prompts: { type: 'string' },
    'label-models': { type: 'string' },
    'no-feedback': { type: 'boolean' },
  },
});

function fail(message: string): never {
  console.error(`loadtest: ${message}\n\n${HELP}`);
  process.exit(2);
}

function durationArg(text: string): number {
  try {
    return parseDuration(text);
  } catch (err) {
    fail((err as Error).message);
  }
}

function optionsFromArgs(): RunOptionsInput {
  const num = (v: string | undefined, name: string) => {
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isFinite(n)) fail(`--${name} must be a number, got "${v}"`);
    return n;
  };
  const o: Record<string, unknown> = {
    host: a.host ?? process.env.LOADTEST_HOST,
    users: num(a.users, 'users'),
    spawn_rate: num(a['spawn-rate'], 'spawn-rate'),
    rate: num(a.rate, 'rate'),
    duration_s: a.duration ? durationArg(a.duration) : undefined,
    grace_s: a.grace ? durationArg(a.grace) : undefined,
    max_requests: num(a['max-requests'], 'max-requests'),
    nim_extension: a['nim-extension'],
    stream_ratio: num(a['stream-ratio'], 'stream-ratio'),
    long_prompt_ratio: num(a['long-prompt-ratio'], 'long-prompt-ratio'),
    max_tokens: num(a['max-tokens'], 'max-tokens'),
    api_key: a['api-key'] ?? process.env.LOADTEST_API_KEY,
    seed: num(a.seed, 'seed'),
    prompts_file: a.prompts,
    feedback: a['no-feedback'] ? false : undefined,
  };
  if (a['label-models'])
    o.label_models = Object.fromEntries(
      a['label-models'].split(',').map((pair) => {
        const [name, model] = pair.split('=');
        if (!name || !model) fail(`--label-models takes name=model pairs, got "${pair}"`);
        return [name.trim(), model.trim()];
      }),
    );
  if (a['think-time']) o.think_time_s = a['think-time'].split('-').map(Number);
  if (a.targets)
    o.targets = Object.fromEntries(
      a.targets.split(',').map((t) => {
        const [name, w] = t.split('=');
        return [name!.trim(), w ? Number(w) : 1];
      }),
    );
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as RunOptionsInput;
}

let prices: PriceTable;
try {
  prices = PriceTable.fromRouterConfig(a['router-config']!);
} catch (err) {
  console.error(`loadtest: no price table (${(err as Error).message.split('\n')[0]}); costs will be 0`);
  prices = PriceTable.empty();
}
const metrics = createLoadtestMetrics();

/** Port taken: say whether it is already this load test's UI (the stack runs one on :8089) and what to do. */
async function portTaken(host: string, port: number): Promise<never> {
  const url = `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}`;
  const ours = await fetch(`${url}/api/state`, { signal: AbortSignal.timeout(2000) })
    .then(async (r) => r.ok && 'defaults' in ((await r.json()) as object))
    .catch(() => false);
  if (ours) {
    console.log(
      `loadtest: the load test UI is already running at ${url} (the stack started it with make metrics): open it in a browser.`,
    );
    console.log(
      `  To run a second one: make loadtest LOADTEST_ARGS="--port 8090"; for a headless run: make loadtest-headless.`,
    );
    process.exit(0);
  }
  console.error(
    `loadtest: port ${port} on ${host} is in use by another program; pick another with --port N (or LOADTEST_PORT).`,
  );
  process.exit(1);
}

if (!a.headless) {
  const port = Number(a.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) fail(`--port must be a port number, got "${a.port}"`);
  const ui = await startWebUi({ port, host: a.bind!, metrics, prices, defaults: optionsFromArgs() }).catch(
    (err: NodeJS.ErrnoException) => (err.code === 'EADDRINUSE' ? portTaken(a.bind!, port) : Promise.reject(err)),
  );
  console.log(JSON.stringify({ msg: 'loadtest web UI listening', url: ui.url, port: ui.port }));
  const stop = () => void ui.close().then(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
} else {
  const parsed = runOptionsSchema.safeParse(optionsFromArgs());
  if (!parsed.success) fail(parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
  let checks: ReturnType<typeof parseFailOn> = [];
  try {
    checks = a['fail-on'] ? parseFailOn(a['fail-on']) : [];
  } catch (err) {
    fail((err as Error).message);
  }
  let metricsServer: ReturnType<typeof createServer> | undefined;
  if (a['metrics-port'] !== undefined) {
    metricsServer = createServer(async (_req, res) => {
      res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(await metrics.registry.metrics());
    });
    await new Promise<void>((resolve) => {
      metricsServer!.once('error', (err: NodeJS.ErrnoException) => {
        console.error(
          `loadtest: cannot serve metrics on ${a.bind}:${a['metrics-port']}: ${err.code === 'EADDRINUSE' ? 'port in use' : err.message}; pick another --metrics-port.`,
        );
        process.exit(1);
      });
      metricsServer!.listen(Number(a['metrics-port']), a.bind, resolve);
    });
    console.log(
      JSON.stringify({ msg: 'loadtest metrics listening', port: (metricsServer.address() as { port: number }).port }),
    );
  }
  // A headless run is always bounded: 30 s unless it has a duration or a request count.
  const o = { ...parsed.data, duration_s: parsed.data.duration_s ?? (parsed.data.max_requests ? undefined : 30) };
  let run: LoadRun;
  try {
    run = new LoadRun(o, metrics, prices);
  } catch (err) {
    fail((err as Error).message); // a bad prompt file: named, with its line and the fix
  }
  const seconds = o.duration_s ?? 0;
  console.log(
    `loadtest: ${o.rate ? `open loop ${o.rate} req/s (max ${o.users} in flight)` : `${o.users} users, spawn rate ${o.spawn_rate}/s`} against ${o.host} ${o.duration_s ? `for ${o.duration_s}s` : `for ${o.max_requests} requests`}`,
  );
  const bar = process.stdout.isTTY
    ? new cliProgress.SingleBar(
        {
          format:
            ' {bar} {elapsed}/{total}s | last 1s: {rps} req/s, p95 {p95} ms | {failures} failed so far | {users} users',
          hideCursor: true,
        },
        cliProgress.Presets.shades_classic,
      )
    : undefined;
  bar?.start(Math.round(seconds), 0, { rps: 0, p95: '-', failures: 0, users: 0 });
  run.on('tick', (p: { t: number; rps: number; p95_ms: number | null; users: number }) => {
    const failures = run.stats.total.failures;
    if (bar)
      bar.update(Math.min(Math.round(p.t), Math.round(seconds)), {
        rps: p.rps.toFixed(0),
        p95: p.p95_ms ?? '-',
        failures,
        users: p.users,
      });
    else if (Math.round(p.t) % 5 === 0)
      console.log(
        `  ${Math.round(p.t)}s  last 1s: ${p.rps.toFixed(0)} req/s, p95 ${p.p95_ms ?? '-'} ms  |  ${failures} failed so far  ${p.users} users`,
      );
  });
  const stop = () => void run.stop();
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  const summary = await run.finished;
  bar?.stop();
  console.log(`\n${summaryTable(summary)}`);
  if (a['report-json']) writeFileSync(a['report-json'], JSON.stringify(summary, null, 2));
  if (a['report-html']) writeFileSync(a['report-html'], summaryHtml(summary));
  if (a['report-csv']) writeFileSync(a['report-csv'], summaryCsv(summary));
  metricsServer?.close();
  const crossed = failedChecks(summary, checks);
  if (crossed.length) {
    console.error(`\nFAILED: ${crossed.join('; ')}`);
    process.exit(1);
  }
  process.exit(0);
}
