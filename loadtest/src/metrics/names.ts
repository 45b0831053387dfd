// Every load generator metric name, defined once (dashboards and alert rules import these).
// Prefixed loadtest_ so they never clash with the router's llm_router_*.
export const LOADTEST_METRICS = {
  requests: 'loadtest_requests_total',
  requestDuration: 'loadtest_request_duration_seconds',
  timeToFirstToken: 'loadtest_time_to_first_token_seconds',
  tokens: 'loadtest_tokens_total',
  cost: 'loadtest_cost_usd_total',
  feedback: 'loadtest_feedback_total',
  users: 'loadtest_users',
  inFlight: 'loadtest_requests_in_flight',
} as const;
export const LOADTEST_PROCESS_PREFIX = 'loadtest_';
