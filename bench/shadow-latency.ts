// Shadow evaluation's cost to clients: the same router, the same rate, requests to a policy with shadow evaluation
// at sample_rate 1 (every answer followed by a reference call and two judge calls) against a policy without it,
// in alternating rounds of one run. A benchmark (numbers and ratios, never pass/fail).
// Usage: make bench-shadow [BENCH_ARGS="--rate 100 --seconds 8 --rounds 3"]
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ROUTER_NODE_FLAGS } from '../router/node-flags.ts';
import { metricValue } from '../test-support/services.ts';
import { openLoop, openLoopClient } from './lib/drivers.ts';
import { ROUTER_BUILD, startNodeService, stopAll } from './lib/services.ts';
import { fmt, table } from './lib/table.ts';

const { values } = parseArgs({
  options: {
    rate: { type: 'string', default: '100' },
    seconds: { type: 'string', default: '8' },
    rounds: { type: 'string', default: '3' },
  },
});
const RATE = Number(values.rate);
const SECONDS = Number(values.seconds);
const ROUNDS = Number(values.rounds);

const dir = mkdtempSync(join(tmpdir(), 'llm-router-shadow-bench-'));
const model = (id: string, extra: Record<string, unknown> = {}) => ({
  id,
  ttft_ms: { mean: 20, stddev: 3 },
  tokens_per_second: { mean: 2000 },
  output_tokens: { mean: 30, stddev: 5 },
  ...extra,
});
writeFileSync(
  join(dir, 'sim.yaml'),
  `models: ${JSON.stringify([model('cheap', { quality: 0.4 }), model('ref', { quality: 0.9, judge: true })])}\ntime_scale: 1\n`,
);

try {
  const sim = await startNodeService('llm-sim', 'llm-sim/src/main.ts', ['--config', join(dir, 'sim.yaml')], {
    LOG_LEVEL: 'warn',
  });
  const dep = (m: string, price: number) =>
    `[ { id: ${m}-1, api_base: "${sim.url}/v1", model: ${m}, price: { input_per_1m: ${price}, output_per_1m: ${price} } } ]`;
  writeFileSync(
    join(dir, 'router.yaml'),
    `models:
  - { name: cheap, deployments: ${dep('cheap', 1)} }
  - { name: ref, deployments: ${dep('ref', 10)} }
policies:
  - { name: plain, classifier: task, routes: {}, default: cheap }
  - { name: shadowed, classifier: task, routes: {}, default: cheap,
      shadow: { sample_rate: 1, reference_model: ref, judge_model: ref, max_per_minute: 1000000, max_usd_per_hour: 1000000, queue: 100000 } }
`,
  );
  const router = await startNodeService(
    'router',
    ROUTER_BUILD,
    ['--config', join(dir, 'router.yaml')],
    { LOG_LEVEL: 'warn' },
    ROUTER_NODE_FLAGS,
  );
  const targets = Object.fromEntries(
    ['plain', 'shadowed'].map((p) => [p, { name: p, url: router.url, headers: {}, model: `router/${p}` }]),
  );
  const client = openLoopClient(targets.plain!, 256);
  console.log(`shadow evaluation A/B: ${RATE} req/s for ${SECONDS}s per round, ${ROUNDS} rounds each, alternating...`);
  const results: Record<string, Array<{ p50: number; p99: number; errors: number }>> = { plain: [], shadowed: [] };
  await openLoop(targets.plain!, RATE, 2, { client }); // warm-up
  for (let r = 0; r < ROUNDS; r++)
    for (const p of r % 2 ? ['shadowed', 'plain'] : ['plain', 'shadowed']) {
      const res = await openLoop(targets[p]!, RATE, SECONDS, { client });
      results[p]!.push({ p50: res.p50_ms, p99: res.p99_ms, errors: res.errors });
    }
  await client.close();
  const text = await (await fetch(`${router.url}/metrics`)).text();
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const p50 = (p: string) => median(results[p]!.map((x) => x.p50));
  const p99 = (p: string) => median(results[p]!.map((x) => x.p99));
  console.log('');
  table(
    ['policy', 'client p50 ms (median of rounds)', 'client p99 ms', 'errors'],
    ['plain', 'shadowed'].map((p) => [
      p,
      fmt(p50(p), 2),
      fmt(p99(p), 2),
      results[p]!.reduce((s, x) => s + x.errors, 0),
    ]),
  );
  console.log(
    `\nratio shadowed / plain: p50 ${fmt(p50('shadowed') / p50('plain'), 3)}, p99 ${fmt(p99('shadowed') / p99('plain'), 3)}; answers judged ${metricValue(text, 'llm_router_shadow_verdicts_total')}, dropped ${metricValue(text, 'llm_router_shadow_dropped_total')}`,
  );
} finally {
  await stopAll();
  rmSync(dir, { recursive: true, force: true });
}
