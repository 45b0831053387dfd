import { collectDefaultMetrics, type Registry } from 'prom-client';

// prom-client names three gauges *_total, which Prometheus reserves for counters (promtool rejects them).
const NON_CONFORMING = ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'];

/** Default Node.js process metrics under `prefix`, minus the gauges that break Prometheus naming rules. */
export function collectProcessMetrics(registry: Registry, prefix: string): void {
  collectDefaultMetrics({ register: registry, prefix });
  for (const name of NON_CONFORMING) registry.removeSingleMetric(prefix + name);
}
