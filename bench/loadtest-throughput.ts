// Requests/s our load generator drives from one process vs autocannon, against the same fast upstream,
// measured in one run. Usage: node --import tsx bench/loadtest-throughput.ts [--seconds 10] [--connections 64]
import { spawn } from 'node:child_process';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { createLoadtestMetrics } from '../loadtest/src/metrics/loadtest-metrics.ts';
import { runOptionsSchema } from '../loadtest/src/options.ts';
import { PriceTable } from '../loadtest/src/price-table.ts';
import { LoadRun } from '../loadtest/src/runner.ts';

const { values } = parseArgs({
  options: { seconds: { type: 'string', default: '10' }, connections: { type: 'string', default: '64' } },
});
const seconds = Number(values.seconds);
const connections = Number(values.connections);

const upstream = spawn(process.execPath, ['--import', 'tsx', new URL('./fast-upstream.ts', import.meta.url).pathname], {
  stdio: ['ignore', 'pipe', 'inherit'],
});
const port = await new Promise<number>((resolve) =>
  upstream.stdout!.once('data', (d: Buffer) => resolve(JSON.parse(d.toString()).port)),
);
const host = `http://127.0.0.1:${port}`;
const body = JSON.stringify({ model: 'bench', messages: [{ role: 'user', content: 'hello' }] });

try {
  // Warm both paths (JIT, keep-alive sockets) before measuring.
  await autocannon({
    url: `${host}/v1/chat/completions`,
    method: 'POST',
    body,
    headers: { 'content-type': 'application/json' },
    connections,
    duration: 1,
  });

  const ac = await autocannon({
    url: `${host}/v1/chat/completions`,
    method: 'POST',
    body,
    headers: { 'content-type': 'application/json' },
    connections,
    duration: seconds,
  });
  const acRps = ac.requests.total / seconds;

  const options = runOptionsSchema.parse({
    host,
    users: connections,
    spawn_rate: 100_000,
    duration_s: seconds,
    think_time_s: [0, 0],
    targets: { bench: 1 },
    stream_ratio: 0,
  });
  const run = new LoadRun(options, createLoadtestMetrics(), PriceTable.empty());
  const s = await run.finished;
  const ourRps = s.total.requests / s.elapsed_s;

  console.log(
    `fast upstream, ${connections} connections, ${seconds}s each, cores: ${(await import('node:os')).availableParallelism()}`,
  );
  console.log(`  autocannon: ${acRps.toFixed(0)} req/s  (p99 ${ac.latency.p99} ms, errors ${ac.errors + ac.non2xx})`);
  console.log(`  loadtest:   ${ourRps.toFixed(0)} req/s  (p99 ${s.total.p99_ms} ms, failures ${s.total.failures})`);
  console.log(`  ratio loadtest/autocannon: ${(ourRps / acRps).toFixed(2)}`);
} finally {
  upstream.kill('SIGTERM');
}
