// Every error the router answers, in one place: code -> HTTP status, OpenAI error type and the request field it is
// about (param) by default. Call sites give the message (and a param or headers when they know better) through
// apiError() in errors.ts; a new error is a line here. A leaf module: no imports.

export interface ErrorSpec {
  status: number;
  type: 'invalid_request_error' | 'rate_limit_error' | 'server_error' | 'upstream_error' | 'client_closed';
  /** The request field it is about, unless the call site names one. */
  param?: string;
  /** The status comes from the upstream at the call site (passed through); `status` is the fallback. */
  upstreamStatus?: true;
}

export const ERROR_CATALOG = {
  // The request itself.
  invalid_json: { status: 400, type: 'invalid_request_error' },
  invalid_body: { status: 400, type: 'invalid_request_error' },
  json_too_deep: { status: 400, type: 'invalid_request_error' },
  invalid_type: { status: 400, type: 'invalid_request_error' },
  invalid_value: { status: 400, type: 'invalid_request_error' },
  missing_required_parameter: { status: 400, type: 'invalid_request_error' },
  request_too_large: { status: 413, type: 'invalid_request_error' },
  unsupported_encoding: { status: 415, type: 'invalid_request_error' },
  request_timeout: { status: 408, type: 'invalid_request_error' },
  not_found: { status: 404, type: 'invalid_request_error' },
  // Refused by Node before any handler (http/server-limits.ts answers them on the socket).
  headers_too_large: { status: 431, type: 'invalid_request_error' },
  bad_request: { status: 400, type: 'invalid_request_error' },
  // Auth.
  missing_api_key: { status: 401, type: 'invalid_request_error' },
  invalid_api_key: { status: 401, type: 'invalid_request_error' },
  // Routing.
  model_not_found: { status: 404, type: 'invalid_request_error', param: 'model' },
  policy_not_found: { status: 404, type: 'invalid_request_error', param: 'model' },
  missing_model: { status: 400, type: 'invalid_request_error', param: 'model' },
  missing_policy: { status: 400, type: 'invalid_request_error' },
  policy_not_supported: { status: 400, type: 'invalid_request_error', param: 'model' },
  threshold_not_supported: { status: 400, type: 'invalid_request_error' },
  invalid_threshold: { status: 400, type: 'invalid_request_error' },
  model_not_supported: { status: 400, type: 'invalid_request_error', param: 'model' },
  no_capable_model: { status: 400, type: 'invalid_request_error' },
  context_length_exceeded: { status: 400, type: 'invalid_request_error', param: 'messages' },
  // Capacity.
  rate_limit_exceeded: { status: 429, type: 'rate_limit_error' },
  deployments_unavailable: { status: 503, type: 'server_error' },
  server_busy: { status: 503, type: 'server_error' },
  server_shutting_down: { status: 503, type: 'server_error' },
  // Upstreams.
  retry_budget_exhausted: { status: 504, type: 'upstream_error' },
  upstream_timeout: { status: 504, type: 'upstream_error' },
  upstream_unavailable: { status: 502, type: 'upstream_error' },
  bad_upstream_response: { status: 502, type: 'upstream_error' },
  upstream_auth_failed: { status: 502, type: 'upstream_error' },
  upstream_error: { status: 502, type: 'upstream_error', upstreamStatus: true },
  // Feedback.
  invalid_feedback: { status: 400, type: 'invalid_request_error' },
  feedback_request_not_found: { status: 404, type: 'invalid_request_error', param: 'request_id' },
  feedback_already_recorded: { status: 409, type: 'invalid_request_error', param: 'request_id' },
  // The router itself.
  client_closed: { status: 499, type: 'client_closed' },
  internal_error: { status: 500, type: 'server_error' },
} as const satisfies Record<string, ErrorSpec>;

export type ErrorCode = keyof typeof ERROR_CATALOG;
