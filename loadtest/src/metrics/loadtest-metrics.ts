import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { collectProcessMetrics } from '@llm-router/process-metrics';
import { LOADTEST_METRICS as M, LOADTEST_PROCESS_PREFIX } from './names.ts';

const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 0.75, 1, 1.5, 2, 3, 5, 7.5, 10, 20, 30, 60];

export function createLoadtestMetrics() {
  const registry = new Registry();
  collectProcessMetrics(registry, LOADTEST_PROCESS_PREFIX);
  const registers = [registry];
  return {
    registry,
    requests: new Counter({
      name: M.requests,
      help: 'Requests sent by the load generator, by model, policy and outcome status (HTTP code or error).',
      labelNames: ['model', 'policy', 'status'] as const,
      registers,
    }),
    requestDuration: new Histogram({
      name: M.requestDuration,
      help: 'Client-side latency to the last byte (open loop: from the intended start time).',
      labelNames: ['model'] as const,
      buckets: LATENCY_BUCKETS,
      registers,
    }),
    timeToFirstToken: new Histogram({
      name: M.timeToFirstToken,
      help: 'Client-side time to the first content token of streamed answers.',
      labelNames: ['model'] as const,
      buckets: LATENCY_BUCKETS,
      registers,
    }),
    tokens: new Counter({
      name: M.tokens,
      help: 'Tokens reported in responses, by model and type (prompt or completion).',
      labelNames: ['model', 'type'] as const,
      registers,
    }),
    cost: new Counter({
      name: M.cost,
      help: 'Cost in USD of the responses, from usage and the router config price table.',
      labelNames: ['model'] as const,
      registers,
    }),
    feedback: new Counter({
      name: M.feedback,
      help: "Feedback posted to the router from a replayed prompt file's labels (the label of the model that answered), by model and outcome (posted, failed).",
      labelNames: ['model', 'outcome'] as const,
      registers,
    }),
    users: new Gauge({
      name: M.users,
      help: 'Simulated users running (closed loop) or requests in flight (open loop).',
      registers,
    }),
    inFlight: new Gauge({ name: M.inFlight, help: 'Requests waiting for an answer right now.', registers }),
  };
}
export type LoadtestMetrics = ReturnType<typeof createLoadtestMetrics>;
