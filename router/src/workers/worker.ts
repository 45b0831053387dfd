// The worker side of multi-core mode: metrics come from the primary, aggregated over all workers, and
// each worker enforces its share of every deployment's rpm/tpm limit (state is per process).
import type { Registry } from 'prom-client';
import type { RouterConfig } from '../config/schema.ts';
import {
  CLUSTER_METRICS_REQUEST,
  CLUSTER_METRICS_RESPONSE,
  WORKER_METRICS_REQUEST,
  WORKER_METRICS_RESPONSE,
  type ClusterMessage,
} from './messages.ts';

const METRICS_TIMEOUT_MS = 5_000;

let nextId = 0;
const pending = new Map<number, { resolve(text: string): void; reject(err: Error): void }>();

/** Answer the primary's requests for this worker's metrics, and take its answers to ours. */
export function joinClusterMetrics(registry: Registry): void {
  process.on('message', (msg: ClusterMessage) => {
    if (msg?.type === WORKER_METRICS_REQUEST) {
      void registry
        .getMetricsAsJSON()
        .then((metrics) =>
          process.send!({ type: WORKER_METRICS_RESPONSE, id: msg.id, metrics } satisfies ClusterMessage),
        );
      return;
    }
    if (msg?.type !== CLUSTER_METRICS_RESPONSE) return;
    const p = pending.get(msg.id);
    if (!p) return;
    pending.delete(msg.id);
    if (msg.error !== undefined) p.reject(new Error(msg.error));
    else p.resolve(msg.text ?? '');
  });
}

/** Every worker's metrics, aggregated by the primary (what this worker's /metrics serves). */
export function clusterMetricsText(): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    const id = nextId++;
    const timer = setTimeout(
      () => (pending.delete(id), reject(new Error('the primary did not answer with aggregated metrics'))),
      METRICS_TIMEOUT_MS,
    );
    pending.set(id, {
      resolve: (t) => (clearTimeout(timer), resolve(t)),
      reject: (e) => (clearTimeout(timer), reject(e)),
    });
    process.send!({ type: CLUSTER_METRICS_REQUEST, id } satisfies ClusterMessage);
  });
}

/**
 * Each worker gets 1/N of every rpm/tpm limit: the primary hands connections to workers round-robin, so
 * together they stay within the deployment's quota without shared state (a few long-lived keep-alive
 * connections can skew the split; the limit is then reached early, never exceeded).
 */
export function shareOfLimits(config: RouterConfig, workers: number): RouterConfig {
  const share = (limit: number) => (limit === 0 ? 0 : Math.max(1, Math.floor(limit / workers)));
  return {
    ...config,
    models: config.models.map((m) => ({
      ...m,
      deployments: m.deployments.map((d) => ({ ...d, rpm: share(d.rpm), tpm: share(d.tpm) })),
    })),
  };
}
