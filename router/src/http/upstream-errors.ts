// Upstream failures (upstream/failures.ts) as the client sees them, mapped once, here: OpenAI's error shape,
// the upstream's status where it is the client's business, secrets scrubbed, the deployment named.
import type { Deployment } from '../upstream/deployments.ts';
import type { UpstreamFailure } from '../upstream/failures.ts';
import { ApiError, apiError } from './errors.ts';

// What upstream error text must never carry to a caller: provider keys, bearer tokens, key=value secrets.
const SECRET_PATTERNS = [
  /\bsk-[A-Za-z0-9_-]{6,}/g,
  /\bBearer\s+[A-Za-z0-9._~+/=-]{6,}/gi,
  /\b(api[_-]?key|token|secret|password)(["']?\s*[:=]\s*["']?)[^\s"',}]{4,}/gi,
];

/** `text` with secrets (and this deployment's own key, whatever its shape) replaced by [redacted]. */
export function scrubSecrets(text: string, apiKey?: string): string {
  let out = apiKey && apiKey.length >= 4 ? text.split(apiKey).join('[redacted]') : text;
  for (const re of SECRET_PATTERNS)
    out = out.replace(re, (_m, name?: string, sep?: string) =>
      name && sep !== undefined ? `${name}${sep}[redacted]` : '[redacted]',
    );
  return out;
}

const where = (dep: Deployment) => `upstream deployment '${dep.config.id}' of model '${dep.routerModel}'`;

/**
 * The client's error for an upstream failure. An HTTP error passes through with its status and OpenAI shape,
 * scrubbed; a 401/403 is the router's credentials failing, not the caller's: a 502 naming the deployment.
 */
export function upstreamApiError(f: UpstreamFailure, dep: Deployment): ApiError {
  switch (f.type) {
    case 'transport':
      return f.reason.endsWith('timeout')
        ? apiError('upstream_timeout', `Timed out (${f.reason}) waiting for ${where(dep)}`)
        : apiError('upstream_unavailable', `Could not reach ${where(dep)}`);
    case 'bad_response':
      return apiError(
        'bad_upstream_response',
        `Upstream deployment '${dep.config.id}' of model '${dep.routerModel}' sent ${f.what}`,
      );
    case 'event_too_large':
      return apiError(
        'bad_upstream_response',
        `Upstream deployment '${dep.config.id}' of model '${dep.routerModel}' sent a server-sent event over max_event_bytes (${f.limit})`,
      );
    case 'status': {
      if (f.status === 401 || f.status === 403) {
        return apiError(
          'upstream_auth_failed',
          `Upstream deployment '${dep.config.id}' of model '${dep.routerModel}' refused the router's credentials (HTTP ${f.status}); check that deployment's api_key`,
        );
      }
      const headers = { ...f.headers, ...(f.retryAfterSeconds ? { 'retry-after': String(f.retryAfterSeconds) } : {}) };
      try {
        const e = (
          JSON.parse(f.body) as { error?: { message?: unknown; type?: unknown; code?: unknown; param?: unknown } }
        ).error;
        if (e && typeof e.message === 'string') {
          const str = (v: unknown) => (typeof v === 'string' ? scrubSecrets(v, dep.config.api_key) : null);
          // The upstream's own error, passed through (scrubbed): its type and code are the provider's, not ours.
          return new ApiError(
            f.status,
            scrubSecrets(e.message, dep.config.api_key),
            str(e.type) ?? 'upstream_error',
            str(e.code),
            str(e.param),
            headers,
          );
        }
      } catch {
        /* not JSON */
      }
      return apiError(
        'upstream_error',
        `Upstream deployment '${dep.config.id}' of model '${dep.routerModel}' returned HTTP ${f.status}`,
        { status: f.status, headers },
      );
    }
  }
}

/** What to log of a refused request: the upstream's own words, scrubbed and bounded. */
export const failureDetail = (f: UpstreamFailure, dep: Deployment) =>
  f.type === 'status' ? scrubSecrets(f.body.slice(0, 500), dep.config.api_key) : undefined;
