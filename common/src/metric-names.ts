// Every router metric name, defined once. The dashboards and Prometheus rules import these.
export const ROUTER_METRICS = {
  requests: 'llm_router_requests_total',
  requestDuration: 'llm_router_request_duration_seconds',
  overhead: 'llm_router_overhead_seconds',
  classificationDuration: 'llm_router_classification_duration_seconds',
  upstreamDuration: 'llm_router_upstream_duration_seconds',
  timeToFirstToken: 'llm_router_time_to_first_token_seconds',
  interTokenLatency: 'llm_router_inter_token_latency_seconds',
  promptTokens: 'llm_router_request_prompt_tokens',
  completionTokens: 'llm_router_request_completion_tokens',
  tokens: 'llm_router_tokens_total',
  cost: 'llm_router_cost_usd_total',
  baselineCost: 'llm_router_baseline_cost_usd_total',
  inFlight: 'llm_router_requests_in_flight',
  clientRequests: 'llm_router_client_requests_total',
  authFailures: 'llm_router_auth_failures_total',
  workers: 'llm_router_workers',
  externalClassifierFallbacks: 'llm_router_external_classifier_fallbacks_total',
  strongNeedScore: 'llm_router_strong_need_score',
  sessionDecisions: 'llm_router_session_decisions_total',
  // Quality: feedback on answers and shadow evaluation against a reference model
  feedbackScore: 'llm_router_feedback_score',
  shadowVerdicts: 'llm_router_shadow_verdicts_total',
  shadowCost: 'llm_router_shadow_cost_usd_total',
  shadowDropped: 'llm_router_shadow_dropped_total',
  // Resilience
  deploymentFailures: 'llm_router_deployment_failures_total',
  deploymentCooldowns: 'llm_router_deployment_cooldowns_total',
  deploymentState: 'llm_router_deployment_state',
  deploymentInFlight: 'llm_router_deployment_in_flight',
  deploymentRpmRemaining: 'llm_router_deployment_rpm_remaining',
  retries: 'llm_router_retries_total',
  fallbacks: 'llm_router_fallbacks_total',
  rateLimited: 'llm_router_rate_limited_total',
  // Shared state (state.backend redis)
  sharedStateConnected: 'llm_router_shared_state_connected',
  sharedStateLocalDecisions: 'llm_router_shared_state_local_decisions_total',
} as const;

/** Prefix of the default Node.js process metrics (CPU, memory, event loop lag, GC). */
export const ROUTER_PROCESS_PREFIX = 'llm_router_';

/** Why a sampled answer was not judged (llm_router_shadow_dropped_total's reason). */
export const SHADOW_DROP_REASONS = ['queue_full', 'rate_limit', 'budget', 'failed'] as const;

/** Label values for requests that no policy routed. */
export const MANUAL = 'manual';
