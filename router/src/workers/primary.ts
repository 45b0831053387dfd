// Multi-core mode: the primary process forks N router workers that share the listening socket
// (node:cluster), and serves their metrics aggregated. Without aggregation each scrape would see one
// worker's counters only (LiteLLM's known multi-worker metrics bug); here any worker answering /metrics
// asks the primary, which collects every serving worker's registry and merges them with prom-client's
// AggregatorRegistry (counters and histograms summed, gauges by their declared aggregator).
import cluster, { type Worker } from 'node:cluster';
import { AggregatorRegistry } from 'prom-client';
import {
  CLUSTER_METRICS_REQUEST,
  CLUSTER_METRICS_RESPONSE,
  WORKER_METRICS_REQUEST,
  WORKER_METRICS_RESPONSE,
  type ClusterMessage,
  type WorkerMetrics,
} from './messages.ts';

const RESPAWN_DELAY_MS = 1_000;
const WORKER_METRICS_TIMEOUT_MS = 3_000;
/** A worker exits with this when it cannot listen (port in use, no permission): respawning cannot help. */
export const EXIT_LISTEN_FAILED = 78;
/** worker -> primary, just before that exit: the one line to print. */
export const LISTEN_FAILED = 'llm-router:listen-failed';

/** Counters and histograms only: a dead worker's gauges (in flight, heap) are no longer true. */
// (prom-client's JSON says type: 'counter' etc.; its typings say a numeric enum, hence the String().)
const cumulative = (metrics: WorkerMetrics): WorkerMetrics =>
  metrics.filter((m) => ['counter', 'histogram'].includes(String(m.type)));

/**
 * The cluster's metrics: every serving worker asked for its registry, merged. What each worker reported at its last
 * scrape, and what workers that died had counted by then, is kept in every later aggregate, so cluster counters only
 * grow (a drop reads as a reset to Prometheus, and increase() would count the survivors' whole lifetime again).
 * Counts a worker made after the last scrape before it died are lost; nothing is counted twice.
 */
class ClusterMetrics {
  /** Only workers that listen are asked: a freshly forked one cannot answer until it has loaded. */
  readonly serving = new Set<Worker>();
  private nextId = 0;
  private readonly pending = new Map<number, (metrics: WorkerMetrics) => void>();
  private readonly lastSeen = new Map<Worker, WorkerMetrics>();
  private retired: WorkerMetrics[] = [];

  /** A worker's answer to its metrics request. */
  answered(id: number, metrics: WorkerMetrics): void {
    this.pending.get(id)?.(metrics);
    this.pending.delete(id);
  }

  private ask(w: Worker): Promise<WorkerMetrics> {
    return new Promise<WorkerMetrics>((resolve, reject) => {
      const id = this.nextId++;
      const timer = setTimeout(
        () => (this.pending.delete(id), reject(new Error(`worker ${w.id} did not send its metrics`))),
        WORKER_METRICS_TIMEOUT_MS,
      );
      this.pending.set(id, (m) => (clearTimeout(timer), resolve(m)));
      // A worker dying right now has a closed channel: fail this scrape at once instead of at the timeout.
      w.send({ type: WORKER_METRICS_REQUEST, id } satisfies ClusterMessage, (err: Error | null) => {
        if (err) clearTimeout(timer), this.pending.delete(id), reject(err);
      });
    });
  }

  /** A worker that exited: its last counters join the retired total. */
  async retire(w: Worker): Promise<void> {
    this.serving.delete(w);
    const last = this.lastSeen.get(w);
    this.lastSeen.delete(w);
    if (!last) return;
    this.retired = [
      (await AggregatorRegistry.aggregate([...this.retired, cumulative(last)]).getMetricsAsJSON()) as WorkerMetrics,
    ];
  }

  /** A scrape fails rather than report part of the workers: partial counters would read as resets. */
  async text(): Promise<string> {
    const live = await Promise.all(
      [...this.serving].map(async (w) => {
        const m = await this.ask(w);
        this.lastSeen.set(w, m);
        return m;
      }),
    );
    return AggregatorRegistry.aggregate([...this.retired, ...live]).metrics();
  }
}

/** drainMs: how long workers may take to drain on SIGTERM before the primary stops them. */
export function runPrimary(workers: number, listeningLine: (port: number) => string, drainMs = 30_000): void {
  let stopping = false;
  let listening = 0;
  const metrics = new ClusterMetrics();

  let listenFailureSaid = false;
  const fork = (index: number): Worker => {
    const worker = cluster.fork({ ROUTER_WORKER_INDEX: String(index), ROUTER_WORKERS: String(workers) });
    worker.on('message', (msg: ClusterMessage | { type: typeof LISTEN_FAILED; message: string }) => {
      if (msg?.type === LISTEN_FAILED) {
        if (!listenFailureSaid) console.error(msg.message);
        listenFailureSaid = true;
        return;
      }
      if (msg?.type === WORKER_METRICS_RESPONSE) return metrics.answered(msg.id, msg.metrics);
      if (msg?.type !== CLUSTER_METRICS_REQUEST) return;
      metrics.text().then(
        (text) => worker.isConnected() && worker.send({ type: CLUSTER_METRICS_RESPONSE, id: msg.id, text }),
        (err: Error) =>
          worker.isConnected() && worker.send({ type: CLUSTER_METRICS_RESPONSE, id: msg.id, error: err.message }),
      );
    });
    worker.once('listening', (address) => {
      metrics.serving.add(worker);
      // One machine-readable line, once every worker listens (port 0 gives all workers the same port).
      if (++listening === workers) console.log(listeningLine(address.port));
    });
    worker.once('exit', (code, signal) => {
      void metrics.retire(worker);
      if (stopping) return;
      if (code === EXIT_LISTEN_FAILED) {
        // The worker said why on stderr; a new one would fail the same way, every second, forever.
        stop(1);
        return;
      }
      console.error(
        JSON.stringify({ level: 50, msg: 'router worker exited; starting a new one', worker: index, code, signal }),
      );
      setTimeout(() => !stopping && fork(index), RESPAWN_DELAY_MS);
    });
    return worker;
  };
  for (let i = 0; i < workers; i++) fork(i);

  function stop(exitCode = 0) {
    if (stopping) return;
    stopping = true;
    const alive = Object.values(cluster.workers ?? {}).filter((w): w is Worker => !!w && !w.isDead());
    if (alive.length === 0) process.exit(exitCode);
    let left = alive.length;
    for (const w of alive) {
      w.once('exit', () => --left === 0 && process.exit(exitCode));
      // The signal itself, not worker.kill(): that disconnects first, which closes the worker's server and waits
      // on keep-alive connections; the worker's own SIGTERM handler drains instead.
      w.process.kill('SIGTERM');
    }
    // Workers drain their requests (they exit when done); past the drain time and a margin, the primary goes.
    setTimeout(() => process.exit(exitCode), drainMs + 5_000).unref();
  }
  // A signal to the primary drains every worker; Ctrl-C twice stops at once.
  process.on('SIGTERM', () => stop());
  process.on('SIGINT', () => (stopping ? process.exit(1) : stop()));
}
