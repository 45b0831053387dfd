import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { collectProcessMetrics } from '@llm-router/process-metrics';
import type { RouterConfig } from '../config/schema.ts';
import { ROUTER_METRICS as M, ROUTER_PROCESS_PREFIX, SHADOW_DROP_REASONS } from '@llm-router/common/metric-names';

// Latency of an LLM call spans 50 ms to minutes; router overhead and classification are sub-millisecond.
const LLM_BUCKETS = [0.05, 0.1, 0.25, 0.5, 0.75, 1, 1.5, 2, 3, 5, 7.5, 10, 15, 20, 30, 60, 120];
const OVERHEAD_BUCKETS = [0.0001, 0.00025, 0.0005, 0.00075, 0.001, 0.0015, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1];
// Time per output token of a stream after its first: 1 ms (1,000 tokens/s) to 1 s.
const ITL_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.015, 0.02, 0.03, 0.04, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.5, 1];
// Prompt and completion lengths, in tokens: powers of two up to a 128K context.
const TOKEN_BUCKETS = Array.from({ length: 14 }, (_, i) => 2 ** (i + 4));
const CLASSIFY_BUCKETS = [0.000005, 0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.005];

/** Live deployment rows, read at scrape time. */
export interface DeploymentSnapshot {
  model: string;
  deployment: string;
  health: 'healthy' | 'cooling';
  inFlight: number;
  /** null when the deployment has no rpm limit. */
  rpmRemaining: number | null;
}

/** What each request leaves: counts and latencies. */
function requestMetrics(registers: Registry[]) {
  return {
    requests: new Counter({
      name: M.requests,
      help: 'Requests by endpoint (chat, completions, responses, embeddings), routing policy, class, model and HTTP status.',
      labelNames: ['endpoint', 'policy', 'class', 'model', 'status'] as const,
      registers,
    }),
    requestDuration: new Histogram({
      name: M.requestDuration,
      help: 'End-to-end request latency seen by the router, to the last byte.',
      labelNames: ['policy', 'model'] as const,
      buckets: LLM_BUCKETS,
      registers,
    }),
    overhead: new Histogram({
      name: M.overhead,
      help: 'Time the router adds: end-to-end latency minus time waiting on the upstream.',
      labelNames: ['policy'] as const,
      buckets: OVERHEAD_BUCKETS,
      registers,
    }),
    upstreamDuration: new Histogram({
      name: M.upstreamDuration,
      help: 'Upstream call latency, to the last byte, by model and deployment.',
      labelNames: ['model', 'deployment'] as const,
      buckets: LLM_BUCKETS,
      registers,
    }),
    timeToFirstToken: new Histogram({
      name: M.timeToFirstToken,
      help: 'Time from request arrival to the first content token of a stream.',
      labelNames: ['model'] as const,
      buckets: LLM_BUCKETS,
      registers,
    }),
    interTokenLatency: new Histogram({
      name: M.interTokenLatency,
      help: 'Time per output token of a stream after the first: (end - first token) / (completion tokens - 1).',
      labelNames: ['model'] as const,
      buckets: ITL_BUCKETS,
      registers,
    }),
    inFlight: new Gauge({ name: M.inFlight, help: 'Chat completion requests being served right now.', registers }),
  };
}

/** What requests used and cost, and who sent them. */
function usageMetrics(registers: Registry[]) {
  return {
    promptTokens: new Histogram({
      name: M.promptTokens,
      help: 'Prompt length of served requests, in tokens (upstream usage).',
      labelNames: ['model'] as const,
      buckets: TOKEN_BUCKETS,
      registers,
    }),
    completionTokens: new Histogram({
      name: M.completionTokens,
      help: 'Completion length of served requests, in tokens (upstream usage).',
      labelNames: ['model'] as const,
      buckets: TOKEN_BUCKETS,
      registers,
    }),
    tokens: new Counter({
      name: M.tokens,
      help: 'Tokens by model and type (prompt or completion), from upstream usage.',
      labelNames: ['model', 'type'] as const,
      registers,
    }),
    cost: new Counter({
      name: M.cost,
      help: 'Cost in USD of routed requests, from usage and deployment prices.',
      labelNames: ['policy', 'model'] as const,
      registers,
    }),
    baselineCost: new Counter({
      name: M.baselineCost,
      help: 'What the same requests would have cost on the policy baseline model, in USD.',
      labelNames: ['policy'] as const,
      registers,
    }),
    clientRequests: new Counter({
      name: M.clientRequests,
      help: 'Chat completion requests by client API key name (anonymous without auth).',
      labelNames: ['client'] as const,
      registers,
    }),
    authFailures: new Counter({
      name: M.authFailures,
      help: 'Requests refused with 401, by reason (missing_api_key or invalid_api_key).',
      labelNames: ['reason'] as const,
      registers,
    }),

    // 1 per worker process; summed when workers' metrics are aggregated, so it counts live workers.
    workers: new Gauge({
      name: M.workers,
      help: 'Router worker processes serving requests (1 unless started with --workers).',
      registers,
      aggregator: 'sum',
      collect() {
        this.set(1);
      },
    }),
  };
}

/** How requests were routed: classification time, strong-need scores, sessions, external classifiers. */
function routingMetrics(registers: Registry[]) {
  return {
    classificationDuration: new Histogram({
      name: M.classificationDuration,
      help: 'Time to classify a request.',
      labelNames: ['classifier'] as const,
      buckets: CLASSIFY_BUCKETS,
      registers,
    }),
    strongNeedScore: new Histogram({
      name: M.strongNeedScore,
      help: 'Strong-need score of requests routed by a quality policy (0..1: how likely the cheapest model fails where the strongest succeeds).',
      labelNames: ['policy'] as const,
      // Fine where scores sit (calibrated probabilities are mostly under 0.3): make routing-calibrate METRICS=...
      // interpolates thresholds within these buckets.
      buckets: [
        0.02, 0.04, 0.06, 0.08, 0.1, 0.12, 0.14, 0.16, 0.18, 0.2, 0.22, 0.24, 0.26, 0.28, 0.3, 0.35, 0.4, 0.5, 0.6, 0.7,
        0.8, 0.9, 1,
      ],
      registers,
    }),
    sessionDecisions: new Counter({
      name: M.sessionDecisions,
      help: 'Later turns of policy-routed conversations by what their session did: new (none yet), kept (same model), up (moved to a pricier model), held (a cheaper decision overruled: the session kept its model).',
      labelNames: ['policy', 'outcome'] as const,
      registers,
    }),
    externalClassifierFallbacks: new Counter({
      name: M.externalClassifierFallbacks,
      help: 'Requests classified by the built-in classifier because the external one (KServe v2) failed, by policy and reason (timeout, unavailable, http_error, malformed).',
      labelNames: ['policy', 'reason'] as const,
      registers,
    }),
  };
}

/** Quality beside the savings: client feedback and shadow evaluation. */
function qualityMetrics(registers: Registry[]) {
  return {
    feedbackScore: new Histogram({
      name: M.feedbackScore,
      help: 'Scores clients gave answers (POST /v1/feedback; 0 bad .. 1 good, thumbs down = 0, up = 1), by the policy, class and model that answered.',
      labelNames: ['policy', 'class', 'model'] as const,
      buckets: [0, 0.25, 0.5, 0.75, 1],
      registers,
    }),
    shadowVerdicts: new Counter({
      name: M.shadowVerdicts,
      help: "Shadow evaluation: a judge model's verdict on the routed answer against the policy's reference model's answer to the same request (better, same, worse), by policy, class and the model that answered.",
      labelNames: ['policy', 'class', 'model', 'verdict'] as const,
      registers,
    }),
    shadowCost: new Counter({
      name: M.shadowCost,
      help: 'What shadow evaluation spent (reference answers and judge calls), USD, by policy: counted apart from the requests.',
      labelNames: ['policy'] as const,
      registers,
    }),
    shadowDropped: new Counter({
      name: M.shadowDropped,
      help: 'Sampled requests shadow evaluation did not judge, by policy and reason (queue_full, rate_limit, budget, failed).',
      labelNames: ['policy', 'reason'] as const,
      registers,
    }),
  };
}

/** Upstream trouble: failures, cooldowns, retries, fallbacks, rate limits. */
function resilienceMetrics(registers: Registry[]) {
  return {
    deploymentFailures: new Counter({
      name: M.deploymentFailures,
      help: 'Failed upstream attempts by deployment and reason (HTTP status, timeout, connection_error).',
      labelNames: ['model', 'deployment', 'reason'] as const,
      registers,
    }),
    deploymentCooldowns: new Counter({
      name: M.deploymentCooldowns,
      help: 'Times a deployment was taken out of rotation, by reason.',
      labelNames: ['model', 'deployment', 'reason'] as const,
      registers,
    }),
    retries: new Counter({
      name: M.retries,
      help: 'Retries on another deployment of the same model, by the failure that caused them.',
      labelNames: ['model', 'reason'] as const,
      registers,
    }),
    fallbacks: new Counter({
      name: M.fallbacks,
      help: 'Requests served by a fallback model, by original model, fallback and reason.',
      labelNames: ['from', 'to', 'reason'] as const,
      registers,
    }),
    rateLimited: new Counter({
      name: M.rateLimited,
      help: 'Rate limiting met: source=local (deployment at its rpm/tpm, skipped) or upstream (429).',
      labelNames: ['model', 'source'] as const,
      registers,
    }),
  };
}

/** Deployments' live state, read at scrape time; the shared state store's only with state.backend redis. */
function deploymentMetrics(
  registers: Registry[],
  snapshot: () => DeploymentSnapshot[],
  sharedState: { connected(): boolean } | undefined,
) {
  const sharedRegisters = sharedState ? registers : [];
  return {
    deploymentState: new Gauge({
      name: M.deploymentState,
      help: 'Deployment state: 1 for the current state (healthy or cooling), 0 for the other; with several workers, the fraction of workers that see it so.',
      labelNames: ['model', 'deployment', 'state'] as const,
      registers,
      aggregator: 'average',
      collect() {
        this.reset();
        for (const d of snapshot())
          for (const state of ['healthy', 'cooling'] as const)
            this.set({ model: d.model, deployment: d.deployment, state }, d.health === state ? 1 : 0);
      },
    }),
    deploymentInFlight: new Gauge({
      name: M.deploymentInFlight,
      help: 'Requests in flight per deployment.',
      labelNames: ['model', 'deployment'] as const,
      registers,
      collect() {
        for (const d of snapshot()) this.set({ model: d.model, deployment: d.deployment }, d.inFlight);
      },
    }),
    deploymentRpmRemaining: new Gauge({
      name: M.deploymentRpmRemaining,
      help: 'Requests left in the current minute under the deployment rpm limit (only limited deployments).',
      labelNames: ['model', 'deployment'] as const,
      registers,
      collect() {
        for (const d of snapshot())
          if (d.rpmRemaining !== null) this.set({ model: d.model, deployment: d.deployment }, d.rpmRemaining);
      },
    }),
    // With several workers, the least connected worker: 0 when any of them runs on local limits.
    sharedStateConnected: new Gauge({
      name: M.sharedStateConnected,
      help: '1 while the shared state store (Redis) answers and rate limits and cooldowns are shared; 0 while this router enforces local limits (limit / replicas).',
      registers: sharedRegisters,
      aggregator: 'min',
      collect() {
        this.set(sharedState?.connected() ? 1 : 0);
      },
    }),
    sharedStateLocalDecisions: new Counter({
      name: M.sharedStateLocalDecisions,
      help: 'Requests to rate-limited deployments decided on local limits because the shared state store did not answer.',
      registers: sharedRegisters,
    }),
  };
}

/**
 * `sharedState`: whether the shared store (Redis) answers now; given only with state.backend redis, so a router
 * on in-process state has no shared-state series.
 */
export function createRouterMetrics(
  snapshot: () => DeploymentSnapshot[] = () => [],
  sharedState?: { connected(): boolean },
) {
  const registry = new Registry();
  collectProcessMetrics(registry, ROUTER_PROCESS_PREFIX);
  const registers = [registry];
  return {
    registry,
    ...requestMetrics(registers),
    ...usageMetrics(registers),
    ...routingMetrics(registers),
    ...qualityMetrics(registers),
    ...resilienceMetrics(registers),
    ...deploymentMetrics(registers, snapshot, sharedState),
  };
}
export type RouterMetrics = ReturnType<typeof createRouterMetrics>;

/** Failure and retry reasons most worth seeing from the first one (the rest start at their first event). */
const COMMON_FAILURES = ['429', '500', '502', '503', 'timeout', 'connection_error'];

/**
 * Series whose labels the config decides start at 0: rate() and increase() need a sample before the first event
 * to count it, and panels filtered to one model show 0 rather than "No data".
 */
export function initConfiguredSeries(metrics: RouterMetrics, config: RouterConfig): void {
  for (const reason of ['missing_api_key', 'invalid_api_key']) metrics.authFailures.inc({ reason }, 0);
  if (config.sessions.mode !== 'off')
    for (const p of config.policies)
      for (const outcome of ['new', 'kept', 'up', 'held']) metrics.sessionDecisions.inc({ policy: p.name, outcome }, 0);
  for (const p of config.policies)
    if (p.shadow) {
      metrics.shadowCost.inc({ policy: p.name }, 0);
      for (const reason of SHADOW_DROP_REASONS) metrics.shadowDropped.inc({ policy: p.name, reason }, 0);
    }
  for (const m of config.models) {
    for (const source of ['local', 'upstream']) metrics.rateLimited.inc({ model: m.name, source }, 0);
    for (const reason of COMMON_FAILURES) metrics.retries.inc({ model: m.name, reason }, 0);
    for (const to of m.fallbacks)
      for (const reason of ['error', 'unavailable', 'context_window'])
        metrics.fallbacks.inc({ from: m.name, to, reason }, 0);
    for (const d of m.deployments) {
      const labels = { model: m.name, deployment: d.id };
      for (const reason of COMMON_FAILURES) metrics.deploymentFailures.inc({ ...labels, reason }, 0);
      for (const reason of ['retry_after', ...COMMON_FAILURES])
        metrics.deploymentCooldowns.inc({ ...labels, reason }, 0);
    }
  }
}
