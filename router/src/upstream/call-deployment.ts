// One attempt against one deployment. Classifies the outcome so the caller can decide: serve it,
// pass the error through, or retry elsewhere. Holds a lease on the deployment while the call is open.
import type { Dispatcher } from 'undici';
import { errors as undiciErrors } from 'undici';
import { ApiError } from '../http/errors.ts';
import type { Lease } from './deployment-state.ts';
import { AbortEmitter } from './abort-emitter.ts';
import type { Deployment } from './deployments.ts';

export type AttemptResult =
  /** Non-stream success: the whole body, already read and parsed. `passHeaders`: the provider's rate-limit headers. */
  | { kind: 'body'; status: number; text: string; json: { usage?: unknown }; upstreamSeconds: number; passHeaders: Record<string, string> }
  /** Stream success: the caller reads the body and must end the lease. `aborted` fires on the total timeout. */
  | { kind: 'stream'; status: number; response: Dispatcher.ResponseData; lease: Lease; startedAt: bigint; aborted: AbortEmitter; failureReason(err: unknown): string; passHeaders: Record<string, string> }
  /** Worth trying another deployment: 429, 5xx, timeouts, connection errors, unusable answers. */
  | { kind: 'retryable'; reason: string; error: ApiError; retryAfterSeconds?: number; detail?: string }
  /** The request itself is at fault (4xx): pass it through. */
  | { kind: 'client_error'; error: ApiError }
  | { kind: 'client_closed' };

// What upstream error text must never carry to a caller: provider keys, bearer tokens, key=value secrets.
const SECRET_PATTERNS = [/\bsk-[A-Za-z0-9_-]{6,}/g, /\bBearer\s+[A-Za-z0-9._~+/=-]{6,}/gi, /\b(api[_-]?key|token|secret|password)(["']?\s*[:=]\s*["']?)[^\s"',}]{4,}/gi];

/** `text` with secrets (and this deployment's own key, whatever its shape) replaced by [redacted]. */
export function scrubSecrets(text: string, apiKey?: string): string {
  let out = apiKey && apiKey.length >= 4 ? text.split(apiKey).join('[redacted]') : text;
  for (const re of SECRET_PATTERNS) out = out.replace(re, (m, name?: string, sep?: string) => (name && sep !== undefined ? `${name}${sep}[redacted]` : '[redacted]'));
  return out;
}

/**
 * Pass an upstream error through with its status, in OpenAI's shape whatever the upstream sent, with secrets
 * scrubbed. An upstream 401/403 is the router's credentials failing, not the caller's: a 502 naming the
 * deployment (the original goes to the log, scrubbed).
 */
export function upstreamError(status: number, text: string, dep: Deployment, headers: Record<string, string> = {}): ApiError {
  const where = `Upstream deployment '${dep.config.id}' of model '${dep.model}'`;
  if (status === 401 || status === 403) {
    return new ApiError(502, `${where} refused the router's credentials (HTTP ${status}); check that deployment's api_key`, 'upstream_error', 'upstream_auth_failed');
  }
  try {
    const e = (JSON.parse(text) as { error?: { message?: unknown; type?: unknown; code?: unknown; param?: unknown } }).error;
    if (e && typeof e.message === 'string') {
      const str = (v: unknown) => (typeof v === 'string' ? scrubSecrets(v, dep.config.api_key) : null);
      return new ApiError(status, scrubSecrets(e.message, dep.config.api_key), str(e.type) ?? 'upstream_error', str(e.code), str(e.param), headers);
    }
  } catch {
    /* not JSON */
  }
  return new ApiError(status, `${where} returned HTTP ${status}`, 'upstream_error', 'upstream_error', null, headers);
}

/** A 2xx/3xx answer that is not a usable completion (a redirect, HTML, invalid JSON, too large). */
export function badResponse(what: string, dep: Deployment): ApiError {
  return new ApiError(502, `Upstream deployment '${dep.config.id}' of model '${dep.model}' sent ${what}`, 'upstream_error', 'bad_upstream_response');
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

/** The body as text, or null (and the body abandoned) past `limit` bytes. */
async function readCapped(body: Dispatcher.ResponseData['body'], limit: number): Promise<string | null> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += (chunk as Buffer).length;
    if (size > limit) {
      body.destroy();
      return null;
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** A completion is a JSON object (a truncated or HTML body is a failed attempt, not a 200): parsed once, here. */
function jsonObject(text: string): { usage?: unknown } | null {
  if (text.trimStart().charCodeAt(0) !== 123 /* { */) return null;
  try {
    return JSON.parse(text) as { usage?: unknown };
  } catch {
    return null;
  }
}

/** The provider's x-ratelimit-* headers, passed on to the client (it may pace itself by them). */
function rateLimitHeaders(headers: Dispatcher.ResponseData['headers']): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) if (k.startsWith('x-ratelimit-') && typeof v === 'string') out[k] = v;
  return out;
}

export async function callDeployment(dep: Deployment, path: string, body: string, stream: boolean, promptTokens: number, clientGone: AbortEmitter, requestId?: string): Promise<AttemptResult> {
  const depLease = dep.state.begin(promptTokens);
  const attempt = attemptSignal(clientGone, dep.config.timeout_ms);
  // The timeout covers a stream until its last byte: it ends with the lease.
  const lease: Lease = { end: () => (attempt.done(), depLease.end()) };
  const startedAt = process.hrtime.bigint();
  const seconds = () => Number(process.hrtime.bigint() - startedAt) / 1e9;
  const headers: Record<string, string> = { 'content-type': 'application/json', accept: stream ? 'text/event-stream' : 'application/json' };
  if (dep.config.api_key) headers.authorization = `Bearer ${dep.config.api_key}`;
  if (requestId) headers['x-request-id'] = requestId;
  let keepLease = false;
  try {
    const response = await dep.pool.request({
      method: 'POST',
      path,
      headers,
      body,
      signal: attempt.signal,
    });
    dep.state.recordLatency(seconds() * 1000);
    const status = response.statusCode;
    if (status >= 300 && status < 400) {
      response.body.resume();
      return { kind: 'retryable', reason: 'bad_response', error: badResponse(`HTTP ${status} (a redirect${response.headers.location ? '' : ' with no Location'})`, dep) };
    }
    if (status >= 400) {
      const text = (await readCapped(response.body, 64 * 1024).catch(() => '')) ?? '';
      const ra = Number(response.headers['retry-after']);
      const hasRetryAfter = Number.isFinite(ra) && ra > 0;
      const error = upstreamError(status, text, dep, { ...rateLimitHeaders(response.headers), ...(hasRetryAfter ? { 'retry-after': String(ra) } : {}) });
      if (status === 429 || status >= 500 || status === 401 || status === 403) {
        const reason = status === 401 || status === 403 ? 'auth' : String(status);
        return { kind: 'retryable', reason, error, ...(hasRetryAfter ? { retryAfterSeconds: ra } : {}), detail: scrubSecrets(text.slice(0, 500), dep.config.api_key) };
      }
      return { kind: 'client_error', error };
    }
    if (stream) {
      keepLease = true;
      return { kind: 'stream', status, response, lease, startedAt, aborted: attempt.signal, failureReason: attempt.failureReason, passHeaders: rateLimitHeaders(response.headers) };
    }
    const text = await readCapped(response.body, dep.config.max_response_bytes);
    if (text === null) return { kind: 'retryable', reason: 'bad_response', error: badResponse(`an answer over max_response_bytes (${dep.config.max_response_bytes})`, dep) };
    const json = jsonObject(text);
    if (!json) return { kind: 'retryable', reason: 'bad_response', error: badResponse(`HTTP ${status} that is not a JSON object (${String(response.headers['content-type'] ?? 'no content-type')})`, dep) };
    return { kind: 'body', status, text, json, upstreamSeconds: seconds(), passHeaders: rateLimitHeaders(response.headers) };
  } catch (err) {
    if (clientGone.aborted) return { kind: 'client_closed' };
    const reason = attempt.failureReason(err);
    return { kind: 'retryable', reason, error: transportError(reason, dep) };
  } finally {
    if (!keepLease) lease.end();
  }
}
