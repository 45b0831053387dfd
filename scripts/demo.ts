// make demo: simulated models + router + Prometheus (native stack from docker-compose.yml), a short
// headless load from the load generator, then a summary read from the router's metrics and checked
// against the load generator's count and Prometheus.
import { rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { readCompose } from '../stack/src/compose.ts';
import { nativeDown, nativeUp } from '../stack/src/native-backend.ts';
import { freePortEnv } from '../stack/src/ports.ts';
import type { StackState } from '../stack/src/state.ts';
import { createLoadtestMetrics } from '../loadtest/src/metrics/loadtest-metrics.ts';
import { parseDuration, runOptionsSchema } from '../loadtest/src/options.ts';
import { PriceTable } from '../loadtest/src/price-table.ts';
import { LoadRun } from '../loadtest/src/runner.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const DURATION_S = parseDuration(process.env.DEMO_DURATION ?? '20s');
const USERS = Number(process.env.DEMO_USERS ?? 20);
// Simulated models 5x faster than real ones, so the demo's slowest answers take seconds, not tens of seconds.
process.env.LLM_SIM_TIME_SCALE ??= '0.2';

type Sample = { labels: Record<string, string>; value: number };
function samples(text: string, name: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    const m = /^[^{ ]+(?:\{(.*)\})? (.+)$/.exec(line);
    if (!m) continue;
    out.push({
      labels: Object.fromEntries([...(m[1] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1]!, x[2]!])),
      value: Number(m[2]),
    });
  }
  return out;
}
/** Quantile from cumulative histogram buckets (linear inside a bucket, as Prometheus does). */
function quantile(text: string, name: string, q: number): number {
  const buckets = new Map<number, number>();
  for (const s of samples(text, `${name}_bucket`)) {
    const le = s.labels.le === '+Inf' ? Infinity : Number(s.labels.le);
    buckets.set(le, (buckets.get(le) ?? 0) + s.value);
  }
  const sorted = [...buckets].sort((a, b) => a[0] - b[0]);
  const total = sorted.at(-1)?.[1] ?? 0;
  if (!total) return NaN;
  let prevLe = 0;
  let prevCount = 0;
  for (const [le, count] of sorted) {
    if (count >= q * total)
      return le === Infinity
        ? prevLe
        : prevLe + ((le - prevLe) * (q * total - prevCount)) / Math.max(1, count - prevCount);
    prevLe = le;
    prevCount = count;
  }
  return prevLe;
}
const sum = (xs: Sample[]) => xs.reduce((a, s) => a + s.value, 0);
function groupBy(xs: Sample[], key: string): Array<[string, number]> {
  const m = new Map<string, number>();
  for (const s of xs) m.set(s.labels[key]!, (m.get(s.labels[key]!) ?? 0) + s.value);
  return [...m].sort((a, b) => b[1] - a[1]);
}

async function main(): Promise<number> {
  const composeFile = `${ROOT}docker-compose.yml`;
  const services = readCompose(composeFile, await freePortEnv(composeFile));
  console.log(
    `Starting simulated models (time scale ${process.env.LLM_SIM_TIME_SCALE}), router and Prometheus (native)...`,
  );
  let stack: StackState | undefined;
  try {
    // A fresh folder each run: the demo's Prometheus must not add up an earlier demo's series.
    rmSync(`${ROOT}.state/demo`, { recursive: true, force: true });
    stack = await nativeUp(services, 'llm-router-demo', {
      stateDir: `${ROOT}.state/demo`,
      repoRoot: ROOT,
      log: () => {},
      skip: new Set(['loadtest', 'grafana']),
    });
    const url = (name: string) => stack!.services.find((s) => s.name === name)?.url;
    const router = url('router')!;
    for (const s of stack.services) console.log(`  ${s.name.padEnd(11)} ${s.url}`);
    for (const s of stack.skipped.filter((x) => x.name === 'prometheus'))
      console.log(`  prometheus  not started: ${s.reason}`);

    console.log(
      `\nLoad: ${USERS} users for ${DURATION_S}s over quality_router, task_router, complexity_router and a manual model (half streamed)...`,
    );
    // A long grace: the demo lets every request finish, so its counts can be checked against the router's.
    const options = runOptionsSchema.parse({
      host: router,
      users: USERS,
      spawn_rate: USERS,
      duration_s: DURATION_S,
      grace_s: 60,
      think_time_s: [0.2, 0.5],
      stream_ratio: 0.5,
      targets: {
        'router/quality_router': 2,
        'router/task_router': 2,
        'router/complexity_router': 1,
        'llama-3.1-70b-instruct': 1,
      },
    });
    const run = new LoadRun(options, createLoadtestMetrics(), PriceTable.fromRouterConfig(`${ROOT}config/router.yaml`));
    run.on('tick', (p: { t: number; rps: number; p95_ms: number | null }) => {
      if (Math.round(p.t) % 5 === 0)
        console.log(`  ${Math.round(p.t)}s  last 1s: ${p.rps.toFixed(0)} req/s, p95 ${p.p95_ms ?? '-'} ms`);
    });
    const load = await run.finished;

    const metricsText = async () => (await fetch(`${router}/metrics`, { signal: AbortSignal.timeout(5000) })).text();
    // Shadow evaluation judges after the answers: give the queued ones a few seconds (it never holds up a client).
    let text = await metricsText();
    const judgedOrDropped = (t: string) =>
      sum(samples(t, 'llm_router_shadow_verdicts_total')) + sum(samples(t, 'llm_router_shadow_dropped_total'));
    for (let last = -1, deadline = Date.now() + 15_000; Date.now() < deadline; ) {
      const now = judgedOrDropped(text);
      if (now === last && now > 0) break;
      last = now;
      await new Promise((res) => setTimeout(res, 2000));
      text = await metricsText();
    }
    const requests = samples(text, 'llm_router_requests_total');
    const routerTotal = sum(requests);
    const cost = sum(samples(text, 'llm_router_cost_usd_total'));
    const baseline = sum(samples(text, 'llm_router_baseline_cost_usd_total'));
    const savings = baseline > 0 ? (baseline - cost) / baseline : 0;
    const lat = (q: number) => quantile(text, 'llm_router_request_duration_seconds', q);
    const ov = (q: number) => quantile(text, 'llm_router_overhead_seconds', q);
    const ms = (s: number) => `${(s * 1000).toFixed(s < 0.01 ? 3 : 0)} ms`;

    console.log('\nRequests by policy:');
    for (const [k, v] of groupBy(requests, 'policy')) console.log(`  ${k.padEnd(30)} ${String(v).padStart(6)}`);
    console.log('Requests by model:');
    for (const [k, v] of groupBy(requests, 'model')) console.log(`  ${k.padEnd(30)} ${String(v).padStart(6)}`);
    console.log(`Latency (whole run):   p50 ${ms(lat(0.5))}   p95 ${ms(lat(0.95))}   p99 ${ms(lat(0.99))}`);
    console.log(`Router overhead:       p50 ${ms(ov(0.5))}   p99 ${ms(ov(0.99))}`);
    console.log(
      `Cost:                  $${cost.toFixed(4)} routed vs $${baseline.toFixed(4)} baseline -> ${(savings * 100).toFixed(1)}% saved`,
    );
    // What the quality router spent the strong model on (class "strong": its strongest model).
    const quality = requests.filter((r) => r.labels.policy === 'quality_router');
    const strongCalls = sum(quality.filter((r) => r.labels.class === 'strong'));
    const strongShare = sum(quality) > 0 ? strongCalls / sum(quality) : 0;
    const held = sum(samples(text, 'llm_router_session_decisions_total').filter((r) => r.labels.outcome === 'held'));
    console.log(
      `Strong-model calls:    quality_router sent ${strongCalls} of ${sum(quality)} (${(strongShare * 100).toFixed(1)}%) to its strongest model; conversations kept from dropping to a cheaper model: ${held}`,
    );
    const verdicts = samples(text, 'llm_router_shadow_verdicts_total');
    const judged = sum(verdicts);
    const retained = judged > 0 ? sum(verdicts.filter((v) => v.labels.verdict !== 'worse')) / judged : null;
    const shadowSpend = sum(samples(text, 'llm_router_shadow_cost_usd_total'));
    const ofQuality = (name: string) => sum(samples(text, name).filter((s) => s.labels.policy === 'quality_router'));
    const qualitySaved =
      1 - ofQuality('llm_router_cost_usd_total') / Math.max(ofQuality('llm_router_baseline_cost_usd_total'), 1e-12);
    console.log(
      retained === null
        ? 'Quality:               no answer judged yet (shadow evaluation samples a tenth of quality_router answers)'
        : `Quality:               quality_router saved ${(qualitySaved * 100).toFixed(1)}% at ${(retained * 100).toFixed(1)}% quality retained (${judged} answers judged against llama-3.1-405b-instruct by shadow evaluation, which spent $${shadowSpend.toFixed(4)}; simulated quality)`,
    );
    console.log(
      `Check:                 load generator sent ${load.total.requests} (${load.total.failures} failed), router counted ${routerTotal}: ${load.total.requests === routerTotal ? 'match' : 'MISMATCH'}`,
    );

    let prometheusTotal: number | null = null;
    const prom = url('prometheus');
    if (prom) {
      // Poll until Prometheus has scraped the final count (scrape every 5 s).
      const deadline = Date.now() + 20_000;
      while (Date.now() < deadline) {
        const r = (await (
          await fetch(
            `${prom}/api/v1/query?query=${encodeURIComponent(`sum(llm_router_requests_total{instance="${new URL(router).host}"})`)}`,
            { signal: AbortSignal.timeout(5000) },
          )
        ).json()) as { data: { result: Array<{ value: [number, string] }> } };
        prometheusTotal = r.data.result[0] ? Number(r.data.result[0].value[1]) : null;
        if (prometheusTotal === routerTotal) break;
        await new Promise((res) => setTimeout(res, 500));
      }
      console.log(
        `Prometheus:            scraped ${prometheusTotal} requests at ${prom} ${prometheusTotal === routerTotal ? '(matches)' : '(MISMATCH)'}`,
      );
    }
    if (process.env.DEMO_JSON) {
      console.log(
        JSON.stringify({
          sent: load.total.requests,
          failed: load.total.failures,
          routerTotal,
          prometheusTotal,
          byPolicy: Object.fromEntries(groupBy(requests, 'policy')),
          byModel: Object.fromEntries(groupBy(requests, 'model')),
          loadByModel: Object.fromEntries(load.by_model.map((m) => [m.name, m.requests])),
          cost,
          baseline,
          savings,
          strongShare,
          judged,
          qualityRetained: retained,
          shadowSpend,
          p50: lat(0.5),
          overheadP50: ov(0.5),
        }),
      );
    }
    console.log('\nFor dashboards and the load test UI: make metrics (Grafana :3000, Prometheus :9090, UI :8089).');
    return load.total.requests === routerTotal && (prometheusTotal === null || prometheusTotal === routerTotal) ? 0 : 1;
  } finally {
    if (stack) nativeDown(stack);
  }
}

process.exit(await main());
