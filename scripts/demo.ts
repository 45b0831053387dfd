// make demo: simulated models + router + a short mixed load + a summary read back from the router's metrics.
import { setTimeout as sleep } from 'node:timers/promises';
import { ROUTER_MAIN, SIM_MAIN, startService, type RunningService } from '../test-support/services.ts';
import { readPrompts } from '../router/src/classify/training/train.ts';

const REQUESTS = Number(process.env.DEMO_REQUESTS ?? 120);
const CONCURRENCY = Number(process.env.DEMO_CONCURRENCY ?? 12);
const TIME_SCALE = process.env.DEMO_TIME_SCALE ?? '0.2';

const started: RunningService[] = [];
async function main() {
  console.log(`Starting llm-sim (time scale ${TIME_SCALE}) and the router...`);
  const sim = await startService(SIM_MAIN, ['--config', 'config/llm-sim.yaml', '--time-scale', TIME_SCALE]);
  started.push(sim);
  const router = await startService(ROUTER_MAIN, ['--config', 'config/router.yaml'], { LLM_SIM_URL: sim.url });
  started.push(router);
  console.log(`  llm-sim  ${sim.url}\n  router   ${router.url}  (OpenAI base URL: ${router.url}/v1)\n`);

  // A mix of task types and complexities, spread over both policies and a manual model.
  const prompts = readPrompts().filter((p) => p.split === 'heldout').map((p) => p.text);
  const targets = ['router/task_router', 'router/complexity_router', 'auto', 'llama-3.1-8b-instruct'];
  let next = 0;
  let failures = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < REQUESTS) {
        const i = next++;
        if (i % 10 === 0) process.stdout.write(`\r  sent ${i}/${REQUESTS}`);
        const res = await fetch(`${router.url}/v1/chat/completions`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ model: targets[i % targets.length], stream: i % 2 === 0, messages: [{ role: 'user', content: prompts[(i * 7) % prompts.length] }] }),
          signal: AbortSignal.timeout(60_000),
        }).catch(() => null);
        if (!res || res.status !== 200) failures++;
        await res?.text();
      }
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  process.stdout.write(`\r  sent ${REQUESTS}/${REQUESTS} in ${seconds.toFixed(1)} s, ${failures} failed\n\n`);
  await sleep(50);
  const text = await (await fetch(`${router.url}/metrics`, { signal: AbortSignal.timeout(5000) })).text();
  printSummary(text);
}

type Sample = { labels: Record<string, string>; value: number };
function samples(text: string, name: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    if (!line.startsWith(name + '{') && !line.startsWith(name + ' ')) continue;
    const m = /^[^{ ]+(?:\{(.*)\})? (.+)$/.exec(line);
    if (!m) continue;
    const labels = Object.fromEntries([...(m[1] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1]!, x[2]!]));
    out.push({ labels, value: Number(m[2]) });
  }
  return out;
}
/** Quantile from cumulative histogram buckets (linear inside a bucket, as Prometheus does). */
function quantile(text: string, name: string, q: number): number {
  const buckets = new Map<number, number>();
  for (const s of samples(text, name + '_bucket')) {
    const le = s.labels.le === '+Inf' ? Infinity : Number(s.labels.le);
    buckets.set(le, (buckets.get(le) ?? 0) + s.value);
  }
  const sorted = [...buckets].sort((a, b) => a[0] - b[0]);
  const total = sorted.at(-1)?.[1] ?? 0;
  if (!total) return NaN;
  let prevLe = 0;
  let prevCount = 0;
  for (const [le, count] of sorted) {
    if (count >= q * total) return le === Infinity ? prevLe : prevLe + ((le - prevLe) * (q * total - prevCount)) / Math.max(1, count - prevCount);
    prevLe = le;
    prevCount = count;
  }
  return prevLe;
}
const sum = (xs: Sample[]) => xs.reduce((a, s) => a + s.value, 0);
function groupBy(xs: Sample[], key: string) {
  const m = new Map<string, number>();
  for (const s of xs) m.set(s.labels[key]!, (m.get(s.labels[key]!) ?? 0) + s.value);
  return [...m].sort((a, b) => b[1] - a[1]);
}

function printSummary(text: string) {
  const requests = samples(text, 'llm_router_requests_total');
  console.log('Requests by policy:');
  for (const [k, v] of groupBy(requests, 'policy')) console.log(`  ${k.padEnd(30)} ${String(v).padStart(6)}`);
  console.log('Requests by model:');
  for (const [k, v] of groupBy(requests, 'model')) console.log(`  ${k.padEnd(30)} ${String(v).padStart(6)}`);
  const ms = (s: number) => `${(s * 1000).toFixed(s < 0.01 ? 3 : 0)} ms`;
  const lat = 'llm_router_request_duration_seconds';
  console.log(`Latency (end to end):  p50 ${ms(quantile(text, lat, 0.5))}   p95 ${ms(quantile(text, lat, 0.95))}   p99 ${ms(quantile(text, lat, 0.99))}`);
  const ov = 'llm_router_overhead_seconds';
  console.log(`Router overhead:       p50 ${ms(quantile(text, ov, 0.5))}   p99 ${ms(quantile(text, ov, 0.99))}`);
  const cost = sum(samples(text, 'llm_router_cost_usd_total'));
  const baseline = sum(samples(text, 'llm_router_baseline_cost_usd_total'));
  console.log(`Cost:                  $${cost.toFixed(4)} routed vs $${baseline.toFixed(4)} baseline -> ${baseline > 0 ? (((baseline - cost) / baseline) * 100).toFixed(1) : '0'}% saved`);
  console.log('\n(Numbers read from the router\'s own /metrics.)');
}

try {
  await main();
} finally {
  for (const s of started.reverse()) await s.stop();
}
