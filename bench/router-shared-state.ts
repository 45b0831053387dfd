// Shared state on Redis vs in-process state, same run, same upstream: what one Redis round trip per request
// (the rpm/tpm window script) costs. The deployment has an rpm limit far above the load, so every request takes
// the shared path and none is refused. Rounds alternate the order (memory first, then redis first).
// Usage: node --import tsx bench/router-shared-state.ts [--rounds 3] [--seconds 5] [--rate 1000] [--connections 64]
import { parseArgs } from 'node:util';
import { closedLoop, openLoop, type Target } from './lib/drivers.ts';
import { cpuSeconds } from '../test-support/proc-stats.ts';
import { startRedis } from '../test-support/redis.ts';
import { startBenchRouter, startNodeService, stopAll, type Service } from './lib/services.ts';
import { fmt, table } from './lib/table.ts';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' },
    seconds: { type: 'string', default: '5' },
    rate: { type: 'string', default: '1000' },
    connections: { type: 'string', default: '64' },
  },
});
const rounds = Number(values.rounds);
const seconds = Number(values.seconds);
const rate = Number(values.rate);
const connections = Number(values.connections);

type Backend = 'memory' | 'redis';
interface Sample {
  p50: number;
  p99: number;
  rps: number;
  cpuPerRequestMs: number;
  perCpuSecond: number;
  redisCpuPerRequestMs: number;
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const range = (xs: number[], digits: number) => `${fmt(Math.min(...xs), digits)}..${fmt(Math.max(...xs), digits)}`;

const redis = await startRedis();
const redisPid = redis.pid()!;
try {
  const upstream = await startNodeService('fast upstream', 'bench/fast-upstream.ts', []);
  const limited = ', rpm: 100000000';
  const routers: Record<Backend, Service> = {
    memory: await startBenchRouter(upstream.url, { deploymentYaml: limited, logLevel: 'warn' }),
    redis: await startBenchRouter(upstream.url, {
      deploymentYaml: limited,
      logLevel: 'warn',
      extraYaml: `state: { backend: redis, url: "${redis.url}", replicas: 1 }`,
    }),
  };
  const ready = (await (await fetch(`${routers.redis.url}/ready`)).json()) as { state: string };
  if (ready.state !== 'shared') throw new Error(`the redis router is not on shared state (${ready.state})`);
  const target = (b: Backend): Target => ({ name: b, url: routers[b].url, headers: {}, pid: routers[b].pid });
  for (const b of ['memory', 'redis'] as const) await closedLoop(target(b), connections, 2); // warm-up (JIT, pools)

  const samples: Record<Backend, Sample[]> = { memory: [], redis: [] };
  for (let round = 0; round < rounds; round++) {
    const order: Backend[] = round % 2 === 0 ? ['memory', 'redis'] : ['redis', 'memory'];
    for (const b of order) {
      const open = await openLoop(target(b), rate, seconds);
      const cpu0 = cpuSeconds(routers[b].pid);
      const redis0 = cpuSeconds(redisPid);
      const closed = await closedLoop(target(b), connections, seconds);
      const cpu = cpuSeconds(routers[b].pid) - cpu0;
      const redisCpu = cpuSeconds(redisPid) - redis0;
      if (open.errors || closed.errors)
        throw new Error(`${b}: ${open.errors + closed.errors} errors (${open.first_error})`);
      samples[b].push({
        p50: open.p50_ms,
        p99: open.p99_ms,
        rps: closed.rps,
        cpuPerRequestMs: (cpu * 1000) / closed.requests,
        perCpuSecond: closed.requests / cpu,
        redisCpuPerRequestMs: (redisCpu * 1000) / closed.requests,
      });
    }
  }
  const rows = (['memory', 'redis'] as const).map((b) => {
    const s = samples[b];
    return [
      b,
      fmt(median(s.map((x) => x.p50)), 3),
      range(
        s.map((x) => x.p50),
        3,
      ),
      fmt(median(s.map((x) => x.p99)), 2),
      fmt(median(s.map((x) => x.rps)), 0),
      fmt(median(s.map((x) => x.perCpuSecond)), 0),
      fmt(median(s.map((x) => x.cpuPerRequestMs)), 4),
      b === 'redis' ? fmt(median(s.map((x) => x.redisCpuPerRequestMs)), 4) : '-',
    ];
  });
  console.log(
    `\n${rounds} rounds; open loop ${rate} req/s for ${seconds}s, then closed loop ${connections} connections for ${seconds}s (2 cores shared by driver, upstream, router and Redis)\n`,
  );
  table(
    [
      'state',
      `p50 ms at ${rate}/s`,
      'p50 range',
      'p99 ms',
      'req/s (closed)',
      'req per router CPU-s',
      'router CPU ms/req',
      'Redis CPU ms/req',
    ],
    rows,
  );
  const added = samples.redis.map((r, i) => r.p50 - samples.memory[i]!.p50);
  const ratio = samples.redis.map((r, i) => r.perCpuSecond / samples.memory[i]!.perCpuSecond);
  console.log(
    `\nredis - memory, added p50 at ${rate} req/s: ${fmt(median(added), 3)} ms (rounds ${range(added, 3)}; goal <= +0.1 ms)`,
  );
  console.log(
    `redis / memory, requests per router CPU-second: ${fmt(median(ratio), 2)}x (rounds ${range(ratio, 2)}; goal >= 0.80x)`,
  );
} finally {
  await stopAll();
  await redis.stop();
}
