// One attempt against one deployment. Classifies the outcome so the caller can decide: serve it,
// pass the error through, or retry elsewhere. Holds a lease on the deployment while the call is open.
import type { Dispatcher } from 'undici';
import { errors as undiciErrors } from 'undici';
import { ApiError } from '../http/errors.ts';
import type { Lease } from './deployment-state.ts';
import { AbortEmitter } from './abort-emitter.ts';
import type { Deployment } from './deployments.ts';

export type AttemptResult =
  /** Non-stream success: the whole body, already read. */
  | { kind: 'body'; status: number; text: string; upstreamSeconds: number }
  /** Stream success: the caller reads the body and must end the lease. */
  | { kind: 'stream'; status: number; response: Dispatcher.ResponseData; lease: Lease; startedAt: bigint; failureReason(err: unknown): string }
  /** Worth trying another deployment: 429, 5xx, timeouts, connection errors. */
  | { kind: 'retryable'; reason: string; error: ApiError; retryAfterSeconds?: number }
  /** The request itself is at fault (4xx): pass it through. */
  | { kind: 'client_error'; error: ApiError }
  | { kind: 'client_closed' };

/** Pass an upstream error through with its status, in OpenAI's shape whatever the upstream sent. */
export function upstreamError(status: number, text: string, dep: Deployment, headers: Record<string, string> = {}): ApiError {
  try {
    const e = (JSON.parse(text) as { error?: { message?: unknown; type?: unknown; code?: unknown; param?: unknown } }).error;
    if (e && typeof e.message === 'string') {
      return new ApiError(status, e.message, typeof e.type === 'string' ? e.type : 'upstream_error', typeof e.code === 'string' ? e.code : null, typeof e.param === 'string' ? e.param : null, headers);
    }
  } catch {
    /* not JSON */
  }
  return new ApiError(status, `Upstream deployment '${dep.config.id}' of model '${dep.model}' returned HTTP ${status}`, 'upstream_error', 'upstream_error', null, headers);
}

/** Name a transport failure; bounded set, used as a metric label. */
export function failureReason(err: unknown): string {
  if (err instanceof undiciErrors.HeadersTimeoutError) return 'first_byte_timeout';
  if (err instanceof undiciErrors.BodyTimeoutError) return 'stream_idle_timeout';
  if (err instanceof undiciErrors.ConnectTimeoutError) return 'connect_timeout';
  return 'connection_error';
}

export function transportError(reason: string, dep: Deployment): ApiError {
  const where = `upstream deployment '${dep.config.id}' of model '${dep.model}'`;
  if (reason.endsWith('timeout')) return new ApiError(504, `Timed out (${reason}) waiting for ${where}`, 'upstream_error', 'upstream_timeout');
  return new ApiError(502, `Could not reach ${where}`, 'upstream_error', 'upstream_unavailable');
}

/**
 * Abort on client disconnect or after the deployment's total timeout. One emitter and one cleared timer
 * per attempt: AbortSignal.any + AbortSignal.timeout cost ~9% of the router's CPU in profiles, and their
 * unref'd timers lingered for the whole timeout after every request.
 */
function attemptSignal(client: AbortEmitter, timeoutMs: number): { signal: AbortEmitter; failureReason(err: unknown): string; done(): void } {
  const signal = new AbortEmitter();
  let timedOut = false;
  const onClientAbort = () => signal.abort();
  client.once('abort', onClientAbort);
  const timer = setTimeout(() => ((timedOut = true), signal.abort()), timeoutMs);
  return {
    signal,
    /** Our own total timeout wins over whatever undici reports for the abort it caused. */
    failureReason: (err) => (timedOut ? 'timeout' : failureReason(err)),
    done() {
      clearTimeout(timer);
      client.off('abort', onClientAbort);
    },
  };
}

export async function callDeployment(dep: Deployment, body: string, stream: boolean, promptTokens: number, clientGone: AbortEmitter): Promise<AttemptResult> {
  const depLease = dep.state.begin(promptTokens);
  const attempt = attemptSignal(clientGone, dep.config.timeout_ms);
  // The timeout covers a stream until its last byte: it ends with the lease.
  const lease: Lease = { end: () => (attempt.done(), depLease.end()) };
  const startedAt = process.hrtime.bigint();
  const seconds = () => Number(process.hrtime.bigint() - startedAt) / 1e9;
  const headers: Record<string, string> = { 'content-type': 'application/json', accept: stream ? 'text/event-stream' : 'application/json' };
  if (dep.config.api_key) headers.authorization = `Bearer ${dep.config.api_key}`;
  let keepLease = false;
  try {
    const response = await dep.pool.request({
      method: 'POST',
      path: dep.chatPath,
      headers,
      body,
      signal: attempt.signal,
    });
    dep.state.recordLatency(seconds() * 1000);
    const status = response.statusCode;
    if (status >= 400) {
      const text = await response.body.text().catch(() => '');
      const ra = Number(response.headers['retry-after']);
      const hasRetryAfter = Number.isFinite(ra) && ra > 0;
      const error = upstreamError(status, text, dep, hasRetryAfter ? { 'retry-after': String(ra) } : {});
      if (status === 429 || status >= 500) {
        return { kind: 'retryable', reason: String(status), error, ...(hasRetryAfter ? { retryAfterSeconds: ra } : {}) };
      }
      return { kind: 'client_error', error };
    }
    if (stream) {
      keepLease = true;
      return { kind: 'stream', status, response, lease, startedAt, failureReason: attempt.failureReason };
    }
    const text = await response.body.text();
    return { kind: 'body', status, text, upstreamSeconds: seconds() };
  } catch (err) {
    if (clientGone.aborted) return { kind: 'client_closed' };
    const reason = attempt.failureReason(err);
    return { kind: 'retryable', reason, error: transportError(reason, dep) };
  } finally {
    if (!keepLease) lease.end();
  }
}
