// Router memory with many concurrent streams: N clients hold a stream open at once (the upstream sends
// a token every --chunk-delay-ms), and the router's resident set size is sampled throughout.
// Usage: node --import tsx bench/router-memory.ts [--streams 1000] [--chunks 50] [--chunk-delay-ms 100] [--workers 1] [--runtime build|tsx]
import { parseArgs } from 'node:util';
import { Pool } from 'undici';
import { CHAT_PATH, chatBody } from './lib/drivers.ts';
import { rssBytes } from '../test-support/proc-stats.ts';
import { startBenchRouter, startNodeService, stopAll, type Service } from './lib/services.ts';
import { fmt, table } from './lib/table.ts';

const { values } = parseArgs({
  options: {
    streams: { type: 'string', default: '1000' },
    chunks: { type: 'string', default: '50' },
    'chunk-delay-ms': { type: 'string', default: '100' },
    workers: { type: 'string', default: '1' },
    runtime: { type: 'string', default: 'build' },
  },
});
if (values.runtime !== 'build' && values.runtime !== 'tsx')
  throw new Error('--runtime is build (router/dist, what production runs) or tsx (the TypeScript sources)');
const streams = Number(values.streams);
const chunks = Number(values.chunks);
const MB = 2 ** 20;

interface StreamRun {
  complete: number;
  peakOpen: number;
  seconds: number;
  idle: number;
  peak: number;
  heapIdle: number;
  heapAtPeak: number;
}

/** Open every stream at once through `proxy`, read them to the end, and sample its RSS meanwhile. */
async function holdStreams(proxy: Service, hasRouterMetrics: boolean): Promise<StreamRun> {
  const idle = rssBytes(proxy.pid);
  // Heap figures come from the router's own metrics (absent on the minimal proxy).
  const heapUsed = async () => {
    if (!hasRouterMetrics) return NaN;
    const res = await fetch(`${proxy.url}/metrics`, { signal: AbortSignal.timeout(5_000) });
    return Number(/^llm_router_nodejs_heap_size_used_bytes (\S+)/m.exec(await res.text())?.[1] ?? NaN);
  };
  const heapIdle = await heapUsed().catch(() => NaN);
  let heapAtPeak = NaN;
  const pool = new Pool(proxy.url, { connections: streams, pipelining: 1 });
  let peak = idle;
  let open = 0;
  let peakOpen = 0;
  const sampler = setInterval(() => {
    const rss = rssBytes(proxy.pid);
    if (rss > peak)
      (peak = rss),
        void heapUsed().then(
          (h) => (heapAtPeak = Number.isNaN(heapAtPeak) ? h : Math.max(heapAtPeak, h)),
          () => {},
        );
    peakOpen = Math.max(peakOpen, open);
  }, 100);
  const started = performance.now();
  const outcomes = await Promise.all(
    Array.from({ length: streams }, async () => {
      const res = await pool.request({
        method: 'POST',
        path: CHAT_PATH,
        headers: { 'content-type': 'application/json' },
        body: chatBody(true),
      });
      open++;
      let tokens = 0;
      for await (const chunk of res.body) tokens += (chunk.toString().match(/"content":"tok /g) ?? []).length;
      open--;
      return res.statusCode === 200 && tokens === chunks;
    }),
  );
  clearInterval(sampler);
  const seconds = (performance.now() - started) / 1000;
  await pool.close();
  return { complete: outcomes.filter(Boolean).length, peakOpen, seconds, idle, peak, heapIdle, heapAtPeak };
}

try {
  const upstream = await startNodeService('slow streaming upstream', 'bench/fast-upstream.ts', [
    '--chunks',
    String(chunks),
    '--chunk-delay-ms',
    values['chunk-delay-ms']!,
  ]);
  const router = await startBenchRouter(upstream.url, {
    workers: Number(values.workers),
    deploymentYaml: `, max_connections: ${streams + 100}, timeout_ms: 600000`,
    runtime: values.runtime,
  });
  const routerRun = await holdStreams(router, true);
  await router.stop();
  // The same streams through the minimal Node proxy: what node:http + undici alone cost per stream here.
  const floor = await startNodeService('minimal proxy', 'bench/minimal-proxy.mjs', [
    '--upstream',
    upstream.url,
    '--connections',
    String(streams + 100),
  ]);
  const floorRun = await holdStreams(floor, false);

  console.log(
    `${streams} concurrent streams of ${chunks} tokens, ${values['chunk-delay-ms']} ms apart (router: ${values.workers} worker(s), ${values.runtime === 'build' ? 'production build on node' : 'sources on tsx'})\n`,
  );
  const row = (label: string, f: (r: StreamRun) => string) => [label, f(routerRun), f(floorRun)];
  table(
    ['measure', 'llm-router', 'minimal proxy'],
    [
      row('streams complete (all tokens, 200)', (r) => `${r.complete} / ${streams}`),
      row('most streams open at once', (r) => String(r.peakOpen)),
      row('wall time, s', (r) => fmt(r.seconds, 1)),
      row('RSS idle, MB', (r) => fmt(r.idle / MB, 0)),
      row('RSS peak, MB', (r) => fmt(r.peak / MB, 0)),
      row('RSS per open stream, KB', (r) => fmt((r.peak - r.idle) / Math.max(1, r.peakOpen) / 1024, 1)),
    ],
  );
  console.log(
    `\nrouter JS heap used idle / near peak: ${fmt(routerRun.heapIdle / MB, 0)} / ${fmt(routerRun.heapAtPeak / MB, 0)} MB`,
  );
  console.log(`goal: router peak RSS <= 150 MB: ${routerRun.peak / MB <= 150 ? 'met' : 'NOT met'}`);
  const complete = routerRun.complete;
  if (complete !== streams) process.exitCode = 1;
} finally {
  await stopAll();
}
