// Alerts end to end, on the real binaries: llm-sim and the router with a deployment that fails on purpose, the
// real Prometheus evaluating the committed rules (their windows shortened so the test takes seconds, not minutes),
// Debian's Alertmanager, and a webhook receiver of this test's own. Injected faults make LLMRouterHighErrorRate
// fire; the notification reaches the webhook with its annotations; healthy traffic resolves it, and the resolved
// notification arrives too.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startPrometheus, type RunningPrometheus } from '../../test-support/prometheus.ts';
import {
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
import { PROMETHEUS_DIR, consoleFlags, prometheusConfig } from '../src/index.ts';

interface Notification {
  status: 'firing' | 'resolved';
  alerts: Array<{ status: string; labels: Record<string, string>; annotations: Record<string, string> }>;
}

const tmp = tempDir();
let sim: RunningService;
let router: RunningService;
let prometheus: RunningPrometheus;
let alertmanager: ChildProcess;
let webhook: Server;
const received: Notification[] = [];

/** The committed rules, evaluated every second over short windows, and the error alert's `for` cut to 2 s. */
function fastRules(file: string): string {
  return readFileSync(join(PROMETHEUS_DIR, 'rules', file), 'utf8')
    .replace(/interval: \d+s/g, 'interval: 1s')
    .replace(/\[1m\]/g, '[5s]')
    .replace(/(alert: LLMRouterHighErrorRate\n(?:.*\n)*?\s+for: )2m/, '$12s');
}

before(async () => {
  webhook = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      received.push(JSON.parse(body) as Notification);
      res.end('ok');
    });
  });
  await new Promise<void>((r) => webhook.listen(0, '127.0.0.1', r));
  const hook = `http://127.0.0.1:${(webhook.address() as { port: number }).port}/alerts`;

  const amPort = await freePort();
  const amConfig = tmp.write(
    'alertmanager.yml',
    `route: { receiver: hook, group_by: [alertname], group_wait: 1s, group_interval: 1s, repeat_interval: 1h }
receivers:
  - name: hook
    webhook_configs: [{ url: "${hook}", send_resolved: true }]
`,
  );
  alertmanager = spawn(
    'prometheus-alertmanager',
    [
      `--config.file=${amConfig}`,
      `--storage.path=${tmp.dir}/am`,
      `--web.listen-address=127.0.0.1:${amPort}`,
      '--cluster.listen-address=',
      '--log.level=warn',
    ],
    { stdio: 'ignore' },
  );
  await waitFor('alertmanager ready', () =>
    fetch(`http://127.0.0.1:${amPort}/-/ready`)
      .then((r) => r.ok)
      .catch(() => false),
  );

  sim = await startService(SIM_MAIN, [
    '--config',
    tmp.write(
      'sim.yaml',
      simConfigYaml([
        { id: 'ok', ttft_ms: { mean: 5 }, output_tokens: { mean: 5 } },
        { id: 'broken', error_rate: 1 },
      ]),
    ),
  ]);
  router = await startService(ROUTER_MAIN, [
    '--config',
    tmp.write(
      'router.yaml',
      routerYaml(
        sim.url,
        { good: { deployments: [{ model: 'ok' }] }, bad: { deployments: [{ model: 'broken' }] } },
        'resilience: { retries: 0 }\n',
      ),
    ),
  ]);
  const rules = Object.fromEntries(['recording.yml', 'alerts.yml'].map((f) => [f, fastRules(f)]));
  prometheus = await startPrometheus(
    prometheusConfig(
      { router: [`127.0.0.1:${router.port}`], llmSim: `127.0.0.1:${sim.port}`, loadtest: '127.0.0.1:9' },
      { scrapeInterval: '1s', ruleFiles: Object.keys(rules), alertmanagers: [`127.0.0.1:${amPort}`] },
    ),
    rules,
    consoleFlags(),
  );
});

after(async () => {
  await prometheus?.stop();
  await router?.stop();
  await sim?.stop();
  if (alertmanager && alertmanager.exitCode === null) {
    const exited = new Promise((r) => alertmanager.once('exit', r));
    alertmanager.kill('SIGTERM');
    await exited;
  }
  await new Promise((r) => webhook?.close(r));
  tmp.remove();
});

/** Requests to one model, every 50 ms, until `until` says stop (bounded: 60 s at most). */
async function traffic(model: string, until: () => boolean) {
  const deadline = Date.now() + 60_000;
  while (!until() && Date.now() < deadline) {
    await fetch(`${router.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model, messages: [{ role: 'user', content: 'hi' }] }),
    }).then((r) => r.body?.cancel());
    await new Promise((r) => setTimeout(r, 50));
  }
}

const notified = (status: 'firing' | 'resolved') =>
  received.find((n) => n.alerts.some((a) => a.labels.alertname === 'LLMRouterHighErrorRate' && a.status === status));

test('injected faults: LLMRouterHighErrorRate reaches the webhook through Alertmanager, then resolves', async () => {
  // Faults: every request to "bad" is answered 5xx by the router (its only deployment fails).
  await traffic('bad', () => !!notified('firing'));
  const firing = notified('firing');
  assert.ok(firing, `no firing notification; received ${JSON.stringify(received).slice(0, 500)}`);
  const alert = firing.alerts.find((a) => a.labels.alertname === 'LLMRouterHighErrorRate')!;
  assert.equal(alert.labels.severity, 'critical');
  assert.equal(alert.annotations.summary, 'More than 5% of router requests fail with 5xx');
  assert.match(alert.annotations.description!, /^Error ratio is \d+(\.\d+)?% over the last minute\.$/);
  // The runbook link is absolute (any receiver can open it) and lands on the alert's section, served by Prometheus.
  assert.equal(alert.annotations.runbook_url, `${prometheus.url}/consoles/runbooks.html#llmrouterhigherrorrate`);
  const runbook = await fetch(alert.annotations.runbook_url!, { signal: AbortSignal.timeout(5000) });
  assert.equal(runbook.status, 200);
  assert.match(await runbook.text(), /<h2 id="llmrouterhigherrorrate">LLMRouterHighErrorRate<\/h2>/);
  // The same alert shows as firing in Prometheus (the dashboards' annotation reads this series).
  assert.ok((await prometheus.query('ALERTS{alertname="LLMRouterHighErrorRate",alertstate="firing"}')).length > 0);

  // Recovery: healthy traffic only, until the resolved notification arrives.
  await traffic('good', () => !!notified('resolved'));
  assert.ok(notified('resolved'), 'no resolved notification');
});
