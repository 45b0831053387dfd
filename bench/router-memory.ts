// Router memory with many concurrent streams: N clients hold a stream open at once (the upstream sends
// a token every --chunk-delay-ms), and the router's resident set size is sampled throughout.
// Usage: node --import tsx bench/router-memory.ts [--streams 1000] [--chunks 50] [--chunk-delay-ms 100] [--workers 1] [--runtime build|tsx]
import { parseArgs } from 'node:util';
import { Pool } from 'undici';
import { CHAT_PATH, chatBody } from './lib/drivers.ts';
import { rssBytes } from './lib/proc-stats.ts';
import { startBenchRouter, startNodeService, stopAll } from './lib/services.ts';
import { fmt, table } from './lib/table.ts';

const { values } = parseArgs({ options: { streams: { type: 'string', default: '1000' }, chunks: { type: 'string', default: '50' }, 'chunk-delay-ms': { type: 'string', default: '100' }, workers: { type: 'string', default: '1' }, runtime: { type: 'string', default: 'build' } } });
if (values.runtime !== 'build' && values.runtime !== 'tsx') throw new Error('--runtime is build (router/dist, what production runs) or tsx (the TypeScript sources)');
const streams = Number(values.streams);
const chunks = Number(values.chunks);
const MB = 2 ** 20;

try {
  const upstream = await startNodeService('slow streaming upstream', 'bench/fast-upstream.ts', ['--chunks', String(chunks), '--chunk-delay-ms', values['chunk-delay-ms']!]);
  const router = await startBenchRouter(upstream.url, { workers: Number(values.workers), deploymentYaml: `, max_connections: ${streams + 100}, timeout_ms: 600000`, runtime: values.runtime });
  const idle = rssBytes(router.pid);

  const pool = new Pool(router.url, { connections: streams, pipelining: 1 });
  let peak = idle;
  let open = 0;
  let peakOpen = 0;
  let heapAtPeak = 0;
  const heapUsed = async () => {
    const text = await (await fetch(`${router.url}/metrics`, { signal: AbortSignal.timeout(5_000) })).text();
    return Number(/^llm_router_nodejs_heap_size_used_bytes (\S+)/m.exec(text)?.[1] ?? NaN);
  };
  const heapIdle = await heapUsed();
  const sampler = setInterval(() => {
    const rss = rssBytes(router.pid);
    if (rss > peak) (peak = rss), void heapUsed().then((h) => (heapAtPeak = Math.max(heapAtPeak, h)), () => {});
    peakOpen = Math.max(peakOpen, open);
  }, 100);
  const started = performance.now();
  const outcomes = await Promise.all(
    Array.from({ length: streams }, async () => {
      const res = await pool.request({ method: 'POST', path: CHAT_PATH, headers: { 'content-type': 'application/json' }, body: chatBody(true) });
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
  const complete = outcomes.filter(Boolean).length;

  console.log(`${streams} concurrent streams of ${chunks} tokens, ${values['chunk-delay-ms']} ms apart, through the router (${values.workers} worker(s), ${values.runtime === 'build' ? 'production build on node' : 'sources on tsx'})\n`);
  table(['measure', 'value'], [
    ['streams complete (all tokens, 200)', `${complete} / ${streams}`],
    ['most streams open at once', peakOpen],
    ['wall time, s', fmt(seconds, 1)],
    ['router RSS idle, MB', fmt(idle / MB, 0)],
    ['router RSS peak, MB', fmt(peak / MB, 0)],
    ['router JS heap used idle / near peak, MB', `${fmt(heapIdle / MB, 0)} / ${fmt(heapAtPeak / MB, 0)}`],
    ['RSS per open stream, KB', fmt(((peak - idle) / Math.max(1, peakOpen)) / 1024, 1)],
    ['goal: peak RSS <= 150 MB', peak / MB <= 150 ? 'met' : 'NOT met'],
  ]);
  if (complete !== streams) process.exitCode = 1;
} finally {
  await stopAll();
}
