// Load drivers for the benchmarks. Closed loop (fixed concurrency) uses autocannon; fixed-rate runs use
// our own open-loop driver, because autocannon records latency in whole milliseconds and the router's
// added latency is a fraction of one.
import autocannon from 'autocannon';
import { Pool } from 'undici';

export interface Target {
  name: string;
  url: string;
  headers: Record<string, string>;
  /** Process to charge CPU to (the proxy); absent for the direct baseline. */
  pid?: number;
  /** The body's "model" (default "bench"). */
  model?: string;
}

export const CHAT_PATH = '/v1/chat/completions';
export const chatBody = (stream = false, model = 'bench', content = 'Say hello to the benchmark.') =>
  JSON.stringify({ model, messages: [{ role: 'user', content }], ...(stream ? { stream: true } : {}) });

export interface ClosedLoopResult {
  rps: number;
  p50_ms: number;
  p99_ms: number;
  errors: number;
  requests: number;
  sent: number;
}

export async function closedLoop(target: Target, connections: number, seconds: number): Promise<ClosedLoopResult> {
  const r = await autocannon({
    url: target.url + CHAT_PATH,
    method: 'POST',
    body: chatBody(false, target.model),
    headers: { 'content-type': 'application/json', ...target.headers },
    connections,
    duration: seconds,
  });
  return {
    rps: r.requests.total / seconds,
    p50_ms: r.latency.p50,
    p99_ms: r.latency.p99,
    errors: r.errors + r.non2xx + r.timeouts,
    requests: r.requests.total,
    sent: r.requests.sent,
  };
}

export interface OpenLoopResult {
  sent: number;
  errors: number;
  /** Percentiles over successful (200) requests, from the moment each was handed to the client, ms. */
  p50_ms: number;
  p99_ms: number;
  /** Streams only: time to the first body chunk, ms. */
  ttft_p50_ms?: number;
  ttft_p99_ms?: number;
  /** How late the driver sent, p99 ms (its own timer lag; large values mean the machine is saturated). */
  send_lag_p99_ms: number;
  /** The first failure seen, e.g. "HTTP 500 {...}". */
  first_error?: string;
}

const percentile = (sorted: Float64Array, q: number) =>
  sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]! : NaN;

export interface OpenLoopOptions {
  stream?: boolean;
  connections?: number;
  content?: string;
  /**
   * A client the caller keeps across runs (openLoopClient): its connections stay open between them, as an
   * SDK's keep-alive pool does (`connections` is then the client's). Without one, each run opens its own, so
   * every run starts by connecting.
   */
  client?: Pool;
}

/** The open-loop driver's HTTP client for `target`: up to `connections` keep-alive connections. */
export const openLoopClient = (target: Target, connections = 512) =>
  new Pool(target.url, { connections, pipelining: 1, keepAliveTimeout: 30_000 });

/**
 * Send `rate` requests/s for `seconds` regardless of how fast answers come back. Latency runs from the
 * send, not from the schedule: the driver's 1 ms timer would otherwise add up to 1 ms of noise to both
 * sides of a direct-vs-proxy comparison. Queueing in the proxy still counts (requests are not held back).
 */
export async function openLoop(
  target: Target,
  rate: number,
  seconds: number,
  options: OpenLoopOptions = {},
): Promise<OpenLoopResult> {
  const total = Math.round(rate * seconds);
  const pool = options.client ?? openLoopClient(target, options.connections);
  const body = chatBody(options.stream, target.model, options.content);
  const headers = { 'content-type': 'application/json', ...target.headers };
  const latency: number[] = [];
  const ttft: number[] = [];
  const lag = new Float64Array(total);
  let done = 0;
  let errors = 0;
  let firstError: string | undefined;
  let finished!: () => void;
  const allDone = new Promise<void>((r) => (finished = r));

  const fire = async (i: number, intendedAt: number) => {
    const sentAt = performance.now();
    lag[i] = sentAt - intendedAt;
    try {
      const res = await pool.request({ method: 'POST', path: CHAT_PATH, headers, body });
      let firstChunkAt = 0;
      let text = '';
      for await (const chunk of res.body) {
        if (!firstChunkAt) firstChunkAt = performance.now();
        if (res.statusCode !== 200 && text.length < 200) text += chunk.toString();
      }
      if (res.statusCode !== 200) errors++, (firstError ??= `HTTP ${res.statusCode} ${text.slice(0, 200)}`);
      else {
        latency.push(performance.now() - sentAt);
        if (options.stream) ttft.push(firstChunkAt - sentAt);
      }
    } catch (err) {
      errors++;
      firstError ??= String(err);
    }
    if (++done === total) finished();
  };

  const start = performance.now();
  let next = 0;
  // A 1 ms timer, not setImmediate: a busy-spinning driver would steal a core from the proxy it measures.
  await new Promise<void>((resolve) => {
    const tick = () => {
      const due = Math.min(total, Math.floor(((performance.now() - start) * rate) / 1000) + 1);
      for (; next < due; next++) void fire(next, start + (next * 1000) / rate);
      if (next < total) setTimeout(tick, 1);
      else resolve();
    };
    tick();
  });
  await allDone;
  if (!options.client) await pool.close();
  const lat = Float64Array.from(latency).sort();
  const first = Float64Array.from(ttft).sort();
  return {
    sent: total,
    errors,
    p50_ms: percentile(lat, 0.5),
    p99_ms: percentile(lat, 0.99),
    ...(options.stream ? { ttft_p50_ms: percentile(first, 0.5), ttft_p99_ms: percentile(first, 0.99) } : {}),
    send_lag_p99_ms: percentile(lag.sort(), 0.99),
    ...(firstError ? { first_error: firstError } : {}),
  };
}
