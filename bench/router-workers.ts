// Multi-core: one router process vs --workers N (node:cluster) in the same run, same upstream, and a check
// that the aggregated /metrics counts every request (any status) whichever worker served it.
// Usage: node --import tsx bench/router-workers.ts [--seconds 5] [--workers 2] [--connections 256]
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { closedLoop } from './lib/drivers.ts';
import { cpuSeconds } from '../test-support/proc-stats.ts';
import { startBenchRouter, startNodeService, stopAll } from './lib/services.ts';
import { fmt, table } from './lib/table.ts';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '5' },
    workers: { type: 'string', default: '2' },
    connections: { type: 'string', default: '256' },
  },
});
const seconds = Number(values.seconds);
const connections = Number(values.connections);

const counted = async (url: string) => {
  const text = await (await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(10_000) })).text();
  return [...text.matchAll(/^llm_router_requests_total\{[^}]*\} (\S+)$/gm)].reduce((s, m) => s + Number(m[1]), 0);
};

try {
  const upstream = await startNodeService('fast upstream', 'bench/fast-upstream.ts', []);
  const rows: unknown[][] = [];
  const rps: Record<number, number> = {};
  for (const workers of [1, Number(values.workers)]) {
    const router = await startBenchRouter(upstream.url, workers > 1 ? { workers } : {});
    const target = { name: `${workers} worker(s)`, url: router.url, headers: {} };
    const warm = await closedLoop(target, connections, 2);
    const cpu0 = cpuSeconds(router.pid);
    const r = await closedLoop(target, connections, seconds);
    const cpu = cpuSeconds(router.pid) - cpu0;
    const metricsCount = await counted(router.url);
    rps[workers] = r.rps;
    rows.push([
      workers,
      fmt(r.rps, 0),
      r.p50_ms,
      r.p99_ms,
      r.errors,
      fmt(cpu / seconds, 2),
      `${metricsCount} / ${warm.sent + r.sent}`,
    ]);
    await router.stop();
  }
  console.log(
    `${availableParallelism()} cores shared by the driver (autocannon), the upstream and the router; ${connections} connections, ${seconds}s\n`,
  );
  table(['workers', 'req/s', 'p50 ms', 'p99 ms', 'errors', 'router cores busy', 'requests in /metrics / sent'], rows);
  console.log(`\nratio ${values.workers} workers / 1: ${fmt(rps[Number(values.workers)]! / rps[1]!, 2)}x`);
} finally {
  await stopAll();
}
