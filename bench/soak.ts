// Soak: the production router at a steady rate for minutes against llm-sim injecting upstream errors (5%)
// and hangs (2%), with clients that hang up mid-request (10%), half of them streaming. Reports what an SRE
// checks before production: every request answered once, the router's count equal to what was sent, every
// deployment back at in_flight 0, the error share clients saw against the upstream's, and the RSS slope; a third
// of the requests go to a policy with shadow evaluation at sample_rate 1 (judged and dropped counts reported).
// A benchmark (numbers, never pass/fail in make test). Usage: make bench-soak [SOAK_ARGS="--duration 300 --rate 100"]
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { request, Agent } from 'undici';
import { rssBytes } from '../test-support/proc-stats.ts';
import { metricValue, waitFor } from '../test-support/services.ts';
import { mulberry32 } from '@llm-router/common/prng';
import { ROUTER_NODE_FLAGS } from '../router/node-flags.ts';
import { ROUTER_BUILD, startNodeService, stopAll } from './lib/services.ts';
import { fmt, table } from './lib/table.ts';

const { values } = parseArgs({
  options: {
    duration: { type: 'string', default: '300' },
    rate: { type: 'string', default: '100' },
    seed: { type: 'string', default: '1' },
  },
});
const DURATION_S = Number(values.duration);
const RATE = Number(values.rate);
const random = mulberry32(Number(values.seed));

const dir = mkdtempSync(join(tmpdir(), 'llm-router-soak-'));
const simModel = (id: string, extra: Record<string, unknown> = {}) => ({
  id,
  ttft_ms: { mean: 30 },
  tokens_per_second: { mean: 400 },
  output_tokens: { mean: 40, stddev: 10 },
  error_rate: 0.05,
  hang_probability: 0.02,
  ...extra,
});
// "j" is the reference and judge of the shadow-evaluated policy (faults included: failed evaluations are dropped).
writeFileSync(
  join(dir, 'sim.yaml'),
  `models: ${JSON.stringify([simModel('a'), simModel('b'), simModel('j', { judge: true, quality: 0.9 })])}\ntime_scale: 1\n`,
);

try {
  const sim = await startNodeService('llm-sim', 'llm-sim/src/main.ts', ['--config', join(dir, 'sim.yaml')], {
    LOG_LEVEL: 'warn',
  });
  const dep = (id: string, model: string) =>
    `{ id: ${id}, api_base: "${sim.url}/v1", model: ${model}, price: { input_per_1m: 1, output_per_1m: 2 }, timeout_ms: 8000 }`;
  writeFileSync(
    join(dir, 'router.yaml'),
    `resilience: { retries: 1, backoff_ms: 20, first_byte_timeout_ms: 2000, stream_idle_timeout_ms: 2000 }
models:
  - name: pair
    strategy: least_in_flight
    deployments: [ ${dep('pair-1', 'a')}, ${dep('pair-2', 'b')} ]
  - name: single
    deployments: [ ${dep('single-1', 'a')} ]
  - name: ref
    deployments: [ { id: ref-1, api_base: "${sim.url}/v1", model: j, price: { input_per_1m: 10, output_per_1m: 20 }, timeout_ms: 8000 } ]
policies:
  # Shadow evaluation of every answer (sample_rate 1): the client's request must not notice, and nothing is lost.
  - { name: judged, classifier: task, routes: {}, default: single,
      shadow: { sample_rate: 1, reference_model: ref, judge_model: ref, max_per_minute: 100000, max_usd_per_hour: 100000 } }
`,
  );
  const router = await startNodeService(
    'router',
    ROUTER_BUILD,
    ['--config', join(dir, 'router.yaml')],
    { LOG_LEVEL: 'warn' },
    ROUTER_NODE_FLAGS,
  );
  const agent = new Agent({ connections: 256 });
  const outcome = new Map<string, number>();
  const count = (k: string) => outcome.set(k, (outcome.get(k) ?? 0) + 1);
  let sent = 0;
  let answered = 0;
  const rss: Array<[number, number]> = [];
  const t0 = performance.now();
  const sample = setInterval(() => rss.push([(performance.now() - t0) / 1000, rssBytes(router.pid) / 2 ** 20]), 5000);

  const one = async () => {
    sent++;
    const stream = random() < 0.5;
    const ac = new AbortController();
    const hangUp = random() < 0.1 ? setTimeout(() => ac.abort(), 20 + random() * 400) : undefined;
    try {
      const res = await request(`${router.url}/v1/chat/completions`, {
        method: 'POST',
        dispatcher: agent,
        signal: ac.signal,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          model: (() => {
            const r = random();
            return r < 1 / 3 ? 'pair' : r < 2 / 3 ? 'single' : 'router/judged';
          })(),
          stream,
          messages: [{ role: 'user', content: 'soak' }],
        }),
      });
      await res.body.text();
      count(String(res.statusCode));
    } catch {
      count(ac.signal.aborted ? 'client hung up' : 'transport error');
    } finally {
      clearTimeout(hangUp);
      answered++;
    }
  };

  console.log(
    `soak: ${RATE} req/s for ${DURATION_S}s (upstream 5% errors, 2% hangs; 10% of clients hang up; half streamed; a third under shadow evaluation at sample_rate 1)...`,
  );
  const inflight = new Set<Promise<void>>();
  const interval = 1000 / RATE;
  for (let i = 0; (performance.now() - t0) / 1000 < DURATION_S; i++) {
    const due = t0 + i * interval;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const p = one().finally(() => inflight.delete(p));
    inflight.add(p);
    if (i % (RATE * 30) === 0 && i > 0)
      console.log(
        `  ${Math.round((performance.now() - t0) / 1000)}s  sent ${sent}  RSS ${fmt(rssBytes(router.pid) / 2 ** 20, 0)} MB`,
      );
  }
  await Promise.all(inflight);
  clearInterval(sample);

  const routerCount = async () =>
    metricValue(await (await fetch(`${router.url}/metrics`)).text(), 'llm_router_requests_total');
  await waitFor('the router to count every request', async () => (await routerCount()) === sent, 15_000, 200).catch(
    () => {},
  );
  const counted = await routerCount();
  const finalMetrics = await (await fetch(`${router.url}/metrics`)).text();
  const deployments = (
    (await (await fetch(`${router.url}/v1/deployments`)).json()) as {
      data: Array<{ id: string; in_flight: number; state: string }>;
    }
  ).data;
  const slope = (() => {
    const pts = rss.filter(([t]) => t > 30); // after warm-up
    if (pts.length < 2) return NaN;
    const mx = pts.reduce((a, [t]) => a + t, 0) / pts.length;
    const my = pts.reduce((a, [, m]) => a + m, 0) / pts.length;
    const num = pts.reduce((a, [t, m]) => a + (t - mx) * (m - my), 0);
    const den = pts.reduce((a, [t]) => a + (t - mx) ** 2, 0);
    return (num / den) * 60;
  })();
  const hungUp = outcome.get('client hung up') ?? 0;
  const upstreamFailures = [...outcome]
    .filter(([k]) => k !== '200' && k !== 'client hung up')
    .reduce((a, [, v]) => a + v, 0);

  console.log('');
  table(
    ['outcome', 'requests'],
    [...outcome].sort((a, b) => b[1] - a[1]).map(([k, v]) => [k, v]),
  );
  console.log('');
  table(
    ['check', 'value'],
    [
      ['sent = answered', `${sent} = ${answered}: ${sent === answered ? 'yes' : 'NO'}`],
      [
        'router counted (requests_total)',
        `${counted}: ${counted === sent ? 'equal to sent' : `DIFFERS by ${counted - sent}`}`,
      ],
      ['deployments at in_flight 0', deployments.map((d) => `${d.id} ${d.in_flight}`).join(', ')],
      [
        'errors seen by clients (of those who waited)',
        `${fmt((100 * upstreamFailures) / Math.max(1, sent - hungUp), 2)}% (upstream injects 5% errors + 2% hangs, with 1 retry)`,
      ],
      [
        'RSS first / last / peak',
        `${fmt(rss[0]?.[1] ?? NaN, 0)} / ${fmt(rss.at(-1)?.[1] ?? NaN, 0)} / ${fmt(Math.max(...rss.map(([, m]) => m)), 0)} MB`,
      ],
      ['RSS slope after 30 s', `${fmt(slope, 2)} MB/min`],
      [
        'shadow evaluation (a third of the requests, sample_rate 1)',
        `${metricValue(finalMetrics, 'llm_router_shadow_verdicts_total')} judged, dropped: ${['queue_full', 'rate_limit', 'budget', 'failed'].map((r) => `${r} ${metricValue(finalMetrics, 'llm_router_shadow_dropped_total', { reason: r })}`).join(', ')}`,
      ],
    ],
  );
} finally {
  await stopAll();
  rmSync(dir, { recursive: true, force: true });
}
