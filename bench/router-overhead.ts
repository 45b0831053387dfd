// Router overhead and throughput vs calling the upstream directly, vs a minimal Node proxy (the floor any
// Node proxy pays on this machine) and vs Portkey's gateway, in one run on the same machine against the
// same zero-latency upstream. Prints tables, ratios and the goals.
// Usage: node --import tsx bench/router-overhead.ts [--seconds 5] [--rounds 3] [--no-portkey] [--json FILE]
import { writeFileSync } from 'node:fs';
import { availableParallelism, cpus } from 'node:os';
import { parseArgs } from 'node:util';
import type { Pool } from 'undici';
import {
  type ClosedLoopResult,
  closedLoop,
  openLoop,
  openLoopClient,
  type OpenLoopOptions,
  type OpenLoopResult,
  type Target,
} from './lib/drivers.ts';
import { cpuSeconds, rssBytes } from '../test-support/proc-stats.ts';
import { startBenchRouter, startNodeService, startPortkey, stopAll } from './lib/services.ts';
import { table, fmt } from './lib/table.ts';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '5' },
    rounds: { type: 'string', default: '3' },
    'no-portkey': { type: 'boolean', default: false },
    json: { type: 'string' },
  },
});
const seconds = Number(values.seconds);
const rounds = Number(values.rounds);
/** Seconds each target runs at a new fixed rate before its measured rounds. */
const WARM_SECONDS = 3;
const results: Record<string, unknown> = {
  machine: { cores: availableParallelism(), cpu: cpus()[0]?.model, node: process.version },
};

interface Compared {
  target: string;
  r: OpenLoopResult;
  added50: number;
  added99: number;
  addedTtft50: number;
  addedTtft99: number;
  /** The proxy's CPU per request sent, µs (NaN for direct). */
  cpuUs: number;
}

/** The proxies (every target after direct) in round `round`'s order: reversed every other round. */
const proxiesInRound = (targets: Target[], round: number) =>
  round % 2 === 0 ? targets.slice(1) : targets.slice(1).reverse();

/** One open-loop run per target at `rate`, direct first; each result with what it adds over direct. */
async function againstDirect(
  targets: Target[],
  rate: number,
  options: OpenLoopOptions = {},
  round = 0,
  clients?: Map<string, Pool>,
): Promise<Compared[]> {
  const base = await openLoop(targets[0]!, rate, seconds, { ...options, client: clients?.get(targets[0]!.url) });
  const out: Compared[] = [
    { target: targets[0]!.name, r: base, added50: 0, added99: 0, addedTtft50: 0, addedTtft99: 0, cpuUs: NaN },
  ];
  for (const t of proxiesInRound(targets, round)) {
    const cpu0 = t.pid ? cpuSeconds(t.pid) : NaN;
    const r = await openLoop(t, rate, seconds, { ...options, client: clients?.get(t.url) });
    out.push({
      target: t.name,
      r,
      cpuUs: t.pid ? ((cpuSeconds(t.pid) - cpu0) * 1e6) / r.sent : NaN,
      added50: r.p50_ms - base.p50_ms,
      added99: r.p99_ms - base.p99_ms,
      addedTtft50: (r.ttft_p50_ms ?? NaN) - (base.ttft_p50_ms ?? NaN),
      addedTtft99: (r.ttft_p99_ms ?? NaN) - (base.ttft_p99_ms ?? NaN),
    });
  }
  return out;
}

try {
  const upstream = await startNodeService('fast upstream', 'bench/fast-upstream.ts', []);
  const router = await startBenchRouter(upstream.url);
  const floor = await startNodeService('minimal proxy', 'bench/minimal-proxy.mjs', ['--upstream', upstream.url]);
  const targets: Target[] = [
    { name: 'direct', url: upstream.url, headers: {} },
    { name: 'minimal-proxy', url: floor.url, headers: {}, pid: floor.pid },
    { name: 'llm-router', url: router.url, headers: {}, pid: router.pid },
    // The same router, classifying every request with the task policy first.
    { name: 'llm-router+classify', url: router.url, headers: {}, pid: router.pid, model: 'router/task_router' },
  ];
  if (!values['no-portkey']) {
    const portkey = await startPortkey(upstream.url);
    if ('skipped' in portkey) console.log(`Portkey skipped: ${portkey.skipped}`);
    else targets.push({ name: 'portkey', url: portkey.url, headers: portkey.headers, pid: portkey.pid });
  }
  console.log(
    `${availableParallelism()} cores (${cpus()[0]?.model}), Node ${process.version}; driver, upstream and proxies share them.\n`,
  );
  for (const t of targets) await closedLoop(t, 64, 2); // warm up: JIT, keep-alive pools

  // 1) Throughput at fixed concurrency. CPU-seconds of the proxy process give requests per CPU-second.
  // Rounds interleave the targets (in alternating order), and each round's added p99 is read against the
  // direct run of that round; medians over rounds are reported with their ranges (a shared machine is noisy).
  const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;
  const range = (xs: number[], digits = 3) => `${fmt(Math.min(...xs), digits)}..${fmt(Math.max(...xs), digits)}`;
  const closed: Array<Record<string, unknown>> = [];
  for (const connections of [16, 64, 256]) {
    const runs = new Map(
      targets.map((t) => [t.name, [] as Array<{ r: ClosedLoopResult; cpu: number; added99: number }>]),
    );
    for (let round = 0; round < rounds; round++) {
      const direct = await closedLoop(targets[0]!, connections, seconds);
      runs.get(targets[0]!.name)!.push({ r: direct, cpu: 0, added99: 0 });
      for (const t of proxiesInRound(targets, round)) {
        const cpu0 = t.pid ? cpuSeconds(t.pid) : 0;
        const r = await closedLoop(t, connections, seconds);
        const cpu = t.pid ? cpuSeconds(t.pid) - cpu0 : 0;
        runs.get(t.name)!.push({ r, cpu, added99: r.p99_ms - direct.p99_ms });
      }
    }
    for (const t of targets) {
      const rs = runs.get(t.name)!;
      const perCpu = rs.map((x) => x.r.requests / x.cpu);
      closed.push({
        connections,
        target: t.name,
        rps: median(rs.map((x) => x.r.rps)),
        p50_ms: median(rs.map((x) => x.r.p50_ms)),
        p99_ms: median(rs.map((x) => x.r.p99_ms)),
        added_p99_ms: median(rs.map((x) => x.added99)),
        added_p99_range: range(
          rs.map((x) => x.added99),
          0,
        ),
        errors: rs.reduce((sum, x) => sum + x.r.errors, 0),
        rps_per_proxy_core: t.pid ? median(perCpu) : null,
        rps_per_proxy_core_range: t.pid ? range(perCpu, 0) : null,
        per_round: rs.map((x) => ({
          rps_per_proxy_core: t.pid ? x.r.requests / x.cpu : null,
          added_p99_ms: x.added99,
        })),
        proxy_rss_mb: t.pid ? rssBytes(t.pid) / 2 ** 20 : null,
      });
    }
  }
  console.log(`Closed loop (autocannon, fixed concurrency, ${seconds}s each, median of ${rounds} interleaved rounds)`);
  table(
    [
      'conns',
      'target',
      'req/s',
      'p50 ms',
      'p99 ms',
      'added p99 ms',
      'range',
      'errors',
      'req per proxy CPU-s',
      'range',
      'proxy RSS MB',
    ],
    closed.map((r) => [
      r.connections,
      r.target,
      fmt(r.rps as number, 0),
      r.p50_ms,
      r.p99_ms,
      r.target === 'direct' ? '' : r.added_p99_ms,
      r.target === 'direct' ? '' : r.added_p99_range,
      r.errors,
      r.rps_per_proxy_core === null ? '-' : fmt(r.rps_per_proxy_core as number, 0),
      r.rps_per_proxy_core_range ?? '',
      r.proxy_rss_mb === null ? '-' : fmt(r.proxy_rss_mb as number, 0),
    ]),
  );
  results.closed_loop = closed;

  // 2) Added latency at fixed request rates (open loop, µs resolution), direct vs through each proxy.
  // Rounds interleave the targets, and each round compares against the direct run of that round; the
  // median over rounds is reported with its range, because a shared 2-core machine is noisy. The 5,000 req/s goal
  // is judged like the closed-loop ones: on the median of per-round ratios.
  // Each target first runs WARM_SECONDS at the rate, not counted: the first seconds at a new rate are a one-time
  // transient for every proxy (pools open connections, the heap grows). At 5,000 req/s on 2 cores the first run
  // read p99s up to 0.7 s for the minimal proxy and 0.6-3.8 s for the router, the rounds after it mostly 4-30 ms
  // (scratch A/B, 3 starts). Their p99s are printed, so that transient stays visible.
  // The driver keeps one client per process through the warm-up and the rounds at a rate, as an SDK keeps its
  // keep-alive pool: with a new client per run, every round began by opening up to 512 connections at once
  // and that stall (0.1-0.3 s at 5,000 req/s, in the first 300 ms of the round) was the round's p99.
  const open: Array<Record<string, unknown>> = [];
  const coldStart: Array<{ rate: number; target: string; p99_ms: number }> = [];
  for (const rate of [1000, 5000]) {
    const clients = new Map<string, Pool>();
    for (const t of targets) if (!clients.has(t.url)) clients.set(t.url, openLoopClient(t));
    for (const t of targets) {
      if (t.model && targets.some((o) => o.pid === t.pid && !o.model)) continue; // same process, warmed once
      const warm = await openLoop(t, rate, WARM_SECONDS, { client: clients.get(t.url) });
      coldStart.push({ rate, target: t.name, p99_ms: warm.p99_ms });
    }
    const byTarget = new Map(targets.map((t) => [t.name, [] as Compared[]]));
    // The direct run first (the reference), then the proxies, in alternating order (as in the closed loop).
    for (let round = 0; round < rounds; round++)
      for (const c of await againstDirect(targets, rate, {}, round, clients)) byTarget.get(c.target)!.push(c);
    await Promise.all([...clients.values()].map((c) => c.close()));
    for (const [target, runs] of byTarget) {
      open.push({
        rate,
        target,
        p50_ms: median(runs.map((x) => x.r.p50_ms)),
        p99_ms: median(runs.map((x) => x.r.p99_ms)),
        added_p50_ms: median(runs.map((x) => x.added50)),
        added_p99_ms: median(runs.map((x) => x.added99)),
        added_p50_range: range(runs.map((x) => x.added50)),
        added_p99_range: range(runs.map((x) => x.added99)),
        errors: runs.reduce((sum, x) => sum + x.r.errors, 0),
        send_lag_p99_ms: median(runs.map((x) => x.r.send_lag_p99_ms)),
        proxy_cpu_us_per_request: median(runs.map((x) => x.cpuUs)),
        per_round_cpu_us: runs.map((x) => x.cpuUs),
        per_round_added_p99_ms: runs.map((x) => x.added99),
        ...(runs.find((x) => x.r.first_error) ? { first_error: runs.find((x) => x.r.first_error)!.r.first_error } : {}),
      });
    }
  }
  console.log(
    `\nFixed rate (open loop, µs timing, ${seconds}s each, median of ${rounds} interleaved rounds; ranges are min..max)`,
  );
  table(
    [
      'rate/s',
      'target',
      'p50 ms',
      'p99 ms',
      'added p50 ms',
      'range',
      'added p99 ms',
      'range',
      'errors',
      'driver lag p99 ms',
      'proxy CPU µs/req',
    ],
    open.map((r) => [
      r.rate,
      r.target,
      fmt(r.p50_ms as number, 3),
      fmt(r.p99_ms as number, 3),
      fmt(r.added_p50_ms as number, 3),
      r.target === 'direct' ? '' : r.added_p50_range,
      fmt(r.added_p99_ms as number, 3),
      r.target === 'direct' ? '' : r.added_p99_range,
      r.errors,
      fmt(r.send_lag_p99_ms as number, 2),
      r.target === 'direct' ? '' : fmt(r.proxy_cpu_us_per_request as number, 1),
    ]),
  );
  console.log(
    `First ${WARM_SECONDS}s at each rate (not counted), p99 ms: ${coldStart.map((c) => `${c.rate}/s ${c.target} ${fmt(c.p99_ms, 1)}`).join(', ')}`,
  );
  results.fixed_rate = open;
  results.fixed_rate_cold_start = coldStart;

  // 3) Streaming: time to first token added by the proxy.
  const streamRate = 500;
  const streaming = (await againstDirect(targets, streamRate, { stream: true })).map((c) => ({
    target: c.target,
    ...c.r,
    added_ttft_p50_ms: c.addedTtft50,
    added_ttft_p99_ms: c.addedTtft99,
  }));
  console.log(`\nStreaming at ${streamRate} req/s (10 SSE events each): time to first token (successful streams only)`);
  table(
    ['target', 'TTFT p50 ms', 'TTFT p99 ms', 'added p50 ms', 'added p99 ms', 'errors'],
    streaming.map((r) => [
      r.target,
      fmt(r.ttft_p50_ms as number, 3),
      fmt(r.ttft_p99_ms as number, 3),
      fmt(r.added_ttft_p50_ms as number, 3),
      fmt(r.added_ttft_p99_ms as number, 3),
      r.errors,
    ]),
  );
  for (const r of [...open, ...streaming])
    if (r.first_error) console.log(`  ${r.target}: ${r.errors} failed; first: ${r.first_error}`);
  results.streaming = streaming;

  // 4) A long prompt (a pasted 32 KB document): body size and classification cost show up here.
  const longRate = 200;
  const document = `Summarize the following report in five bullet points.\n\n${'Quarterly revenue grew 12% while operating costs fell; the board approved the new plan. '.repeat(400)}`;
  const longPrompt = (await againstDirect(targets, longRate, { content: document })).map((c) => ({
    target: c.target,
    ...c.r,
    added_p50_ms: c.added50,
    added_p99_ms: c.added99,
  }));
  console.log(`\nLong prompt (${fmt(Buffer.byteLength(document) / 1024, 0)} KB document) at ${longRate} req/s`);
  table(
    ['target', 'p50 ms', 'p99 ms', 'added p50 ms', 'added p99 ms', 'errors'],
    longPrompt.map((r) => [
      r.target,
      fmt(r.p50_ms as number, 3),
      fmt(r.p99_ms as number, 3),
      fmt(r.added_p50_ms as number, 3),
      fmt(r.added_p99_ms as number, 3),
      r.errors,
    ]),
  );
  for (const r of longPrompt)
    if (r.first_error) console.log(`  ${r.target}: ${r.errors} failed; first: ${r.first_error}`);
  results.long_prompt = longPrompt;

  // 5) Goals from the performance issue, checked against this run.
  const at1k = open.find((r) => r.rate === 1000 && r.target === 'llm-router')!;
  const at64 = (name: string) => closed.find((r) => r.connections === 64 && r.target === name);
  const best = (name: string) => Math.max(...closed.filter((r) => r.target === name).map((r) => r.rps as number));
  const perCore = at64('llm-router')!.rps_per_proxy_core as number;
  const floor1k = open.find((r) => r.rate === 1000 && r.target === 'minimal-proxy')!;
  const goals: Array<[string, string, boolean | null]> = [
    [
      'added p50 at 1K req/s <= 0.3 ms (median)',
      `${fmt(at1k.added_p50_ms as number, 3)} ms`,
      (at1k.added_p50_ms as number) <= 0.3,
    ],
    [
      'added p99 at 1K req/s <= 2 ms (median)',
      `${fmt(at1k.added_p99_ms as number, 3)} ms`,
      (at1k.added_p99_ms as number) <= 2,
    ],
    [
      '(reference) minimal proxy adds at 1K req/s',
      `p50 ${fmt(floor1k.added_p50_ms as number, 3)} ms, p99 ${fmt(floor1k.added_p99_ms as number, 3)} ms`,
      null,
    ],
    [
      'router p50 beyond the minimal proxy <= 0.3 ms',
      `${fmt((at1k.p50_ms as number) - (floor1k.p50_ms as number), 3)} ms`,
      (at1k.p50_ms as number) - (floor1k.p50_ms as number) <= 0.3,
    ],
    ['>= 5,000 req/s per router core (64 conns)', `${fmt(perCore, 0)} req per CPU-s`, perCore >= 5000],
  ];
  // Against the floor: each goal is judged on the median of per-round ratios (router vs minimal proxy measured
  // back to back in the same round, so a slow phase of the machine hits both).
  type Round = { rps_per_proxy_core: number; added_p99_ms: number };
  const rounds64 = (name: string) => at64(name)!.per_round as Round[];
  const cpuRatios = rounds64('llm-router').map(
    (x, i) => x.rps_per_proxy_core / rounds64('minimal-proxy')[i]!.rps_per_proxy_core,
  );
  goals.push([
    'req per CPU-s >= 0.75x the minimal proxy (64 conns)',
    `per round ${fmt(median(cpuRatios), 2)}x (${range(cpuRatios, 2)})`,
    median(cpuRatios) >= 0.75,
  ]);
  // The same ratio where both proxies get the same arrivals, for reference. The closed-loop ratio moves with the
  // machine: across runs the minimal proxy's CPU per request at 64 connections went from 132 to 68 µs and the
  // router's from 118 to 109 (runs J and K), likely because a proxy that is not what limits the loop handles
  // fewer requests per event-loop turn and pays more for each. At a fixed rate both get the same arrivals.
  for (const rate of [1000, 5000]) {
    const cpuAt = (name: string) =>
      open.find((r) => r.rate === rate && r.target === name)!.per_round_cpu_us as number[];
    const ratios = cpuAt('minimal-proxy').map((x, i) => x / cpuAt('llm-router')[i]!);
    goals.push([
      `(reference) req per CPU-s vs the minimal proxy at ${rate.toLocaleString('en-US')} req/s`,
      `${fmt(median(cpuAt('llm-router')), 0)} vs ${fmt(median(cpuAt('minimal-proxy')), 0)} µs a request (medians); per round ${fmt(median(ratios), 2)}x (${range(ratios, 2)})`,
      null,
    ]);
  }
  for (const connections of [64, 256]) {
    const of = (name: string) =>
      closed.find((r) => r.connections === connections && r.target === name)!.per_round as Round[];
    // autocannon reports whole milliseconds: a floor of 1 ms keeps a 0 from dividing.
    const ratios = of('llm-router').map((x, i) => x.added_p99_ms / Math.max(1, of('minimal-proxy')[i]!.added_p99_ms));
    goals.push([
      `added p99 <= 2x the minimal proxy's (${connections} conns)`,
      `${fmt(median(of('llm-router').map((x) => x.added_p99_ms)), 0)} vs ${fmt(median(of('minimal-proxy').map((x) => x.added_p99_ms)), 0)} ms (medians); per round ${fmt(median(ratios), 2)}x (${range(ratios, 2)})`,
      median(ratios) <= 2,
    ]);
  }
  const at5k = (name: string) => open.find((r) => r.rate === 5000 && r.target === name)!;
  const rounds5k = (name: string) => at5k(name).per_round_added_p99_ms as number[];
  // A floor of 50 µs under the minimal proxy's added p99 keeps a near-zero (or negative) one from dividing.
  const ratios5k = rounds5k('llm-router').map((x, i) => x / Math.max(0.05, rounds5k('minimal-proxy')[i]!));
  goals.push([
    "added p99 <= 2x the minimal proxy's (5,000 req/s)",
    `${fmt(at5k('llm-router').added_p99_ms as number, 1)} vs ${fmt(at5k('minimal-proxy').added_p99_ms as number, 1)} ms (medians); per round ${fmt(median(ratios5k), 2)}x (${range(ratios5k, 2)})`,
    median(ratios5k) <= 2,
  ]);
  if (targets.some((t) => t.name === 'portkey')) {
    const ratio = best('llm-router') / best('portkey');
    goals.push([
      '>= 1.5x Portkey req/s (best of each)',
      `${fmt(best('llm-router'), 0)} vs ${fmt(best('portkey'), 0)} = ${fmt(ratio, 2)}x`,
      ratio >= 1.5,
    ]);
    results.router_vs_portkey_rps_ratio = ratio;
  }
  console.log('\nGoals');
  table(
    ['goal', 'measured', 'met'],
    goals.map(([g, m, ok]) => [g, m, ok === null ? '-' : ok ? 'yes' : 'NO']),
  );
  results.goals = goals.map(([goal, measured, met]) => ({ goal, measured, met }));
  if (values.json) writeFileSync(values.json, JSON.stringify(results, null, 2));
} finally {
  await stopAll();
}
