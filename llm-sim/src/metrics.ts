import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { collectProcessMetrics } from '@llm-router/process-metrics';

/** llm-sim's own metrics, prefixed llm_sim_ so they never clash with the router's. */
export function createSimMetrics() {
  const registry = new Registry();
  collectProcessMetrics(registry, 'llm_sim_');
  return {
    registry,
    requests: new Counter({
      name: 'llm_sim_requests_total',
      help: 'Chat completion requests answered by the simulator, by model and outcome.',
      labelNames: ['model', 'outcome'] as const,
      registers: [registry],
    }),
    tokens: new Counter({
      name: 'llm_sim_tokens_total',
      help: 'Tokens processed by the simulator, by model and type (prompt or completion).',
      labelNames: ['model', 'type'] as const,
      registers: [registry],
    }),
    duration: new Histogram({
      name: 'llm_sim_request_duration_seconds',
      help: 'Time from request to the last byte of the answer.',
      labelNames: ['model'] as const,
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 60],
      registers: [registry],
    }),
    inFlight: new Gauge({
      name: 'llm_sim_requests_in_flight',
      help: 'Requests being answered right now.',
      labelNames: ['model'] as const,
      registers: [registry],
    }),
  };
}
export type SimMetrics = ReturnType<typeof createSimMetrics>;
