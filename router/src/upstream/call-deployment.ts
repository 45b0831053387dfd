// One attempt against one deployment. Classifies the outcome as data (a success to serve, or a typed failure)
// so the attempts loop can decide: serve it, pass it on, or retry elsewhere. Holds a lease on the deployment
// while the call is open.
import type { IncomingHttpHeaders } from 'node:http';
import type { Dispatcher } from 'undici';
import { errors as undiciErrors } from 'undici';
import type { TransportReason, UpstreamFailure } from './failures.ts';
import type { Lease } from './deployment-state.ts';
import type { AbortEmitter } from './abort-emitter.ts';
import { AttemptSignal } from './attempt-signal.ts';
import type { Deployment } from './deployments.ts';
import { type Answer, ERROR_BODY_LIMIT, readAnswer } from './read-answer.ts';
import { SseEventTooLargeError } from '@llm-router/common/sse-tap';
import { jsonObject } from '../providers/translate.ts';

export type AttemptResult =
  /** Non-stream success: the whole body, already read and parsed. `passHeaders`: the provider's rate-limit headers. */
  | {
      kind: 'body';
      status: number;
      text: string;
      json: { usage?: unknown };
      /** The upstream's own text, where `text` and `json` are its translation to OpenAI's shape. */
      raw?: string;
      upstreamSeconds: number;
      passHeaders: Record<string, string>;
      /** Give the text's bytes back to the router's answer budget, once the client has it. */
      release(): void;
    }
  /**
   * Stream success: the caller reads the body (telling `attempt` of each chunk, and of waits for the client)
   * and must end the lease. `attempt` aborts on a time limit.
   */
  | {
      kind: 'stream';
      status: number;
      response: Dispatcher.ResponseData;
      lease: Lease;
      startedAt: bigint;
      attempt: AttemptSignal;
      passHeaders: Record<string, string>;
    }
  /** The attempt failed (isRetryable() says whether another deployment may do better). */
  | { kind: 'failed'; failure: UpstreamFailure }
  | { kind: 'client_closed' }
  /** The router holds as many answer bytes as server.max_response_bytes_in_flight allows: no deployment's fault. */
  | { kind: 'busy' };

/**
 * Name a transport failure that is not one of the attempt's own limits (those are AttemptSignal's: undici's
 * headersTimeout/bodyTimeout are off); bounded set, used as a metric label.
 */
export function transportReason(err: unknown): TransportReason {
  if (err instanceof undiciErrors.ConnectTimeoutError) return 'connect_timeout';
  return 'connection_error';
}

/** A failed attempt's reason: its own time limits win over whatever undici reports for the abort they caused. */
export function failureOf(attempt: AttemptSignal, err: unknown): UpstreamFailure {
  return err instanceof SseEventTooLargeError
    ? { type: 'event_too_large', limit: err.limit }
    : { type: 'transport', reason: attempt.timedOut ?? transportReason(err) };
}

/** The body as text, or null (and the body abandoned) past `limit` bytes. */
async function readCapped(
  body: Dispatcher.ResponseData['body'],
  limit: number,
  declaredLength?: unknown,
): Promise<string | null> {
  // A declared length within the limit (the usual case) is read in one go; otherwise counted as it arrives.
  const declared = Number(declaredLength);
  if (declaredLength !== undefined && Number.isFinite(declared)) {
    if (declared > limit) {
      body.destroy();
      return null;
    }
    return body.text();
  }
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

/** OpenAI's rate-limit headers (what other providers send too), looked up by name: cheaper than a scan. */
const RATE_LIMIT_HEADERS = ['limit', 'remaining', 'reset'].flatMap((k) => [
  `x-ratelimit-${k}-requests`,
  `x-ratelimit-${k}-tokens`,
]);
const NO_HEADERS: Record<string, string> = Object.freeze({}) as Record<string, string>;

/** The provider's x-ratelimit-* headers, passed on to the client (it may pace itself by them). */
function rateLimitHeaders(headers: Dispatcher.ResponseData['headers']): Record<string, string> {
  let out: Record<string, string> | undefined;
  for (const name of RATE_LIMIT_HEADERS) {
    const v = headers[name];
    if (typeof v === 'string') (out ??= {})[name] = v;
  }
  return out ?? NO_HEADERS;
}

/** A 3xx or an error status as a typed failure (`text`: the error body; a redirect's body is not used). */
const EVENT_STREAM = /^\s*text\/event-stream\b/i;

/** An upstream status as the client sees it (a provider may map its own, e.g. Anthropic's 529 overloaded -> 503). */
const statusOf = (dep: Deployment, status: number) => dep.provider.status?.(status) ?? status;

function failedStatus(status: number, headers: IncomingHttpHeaders, text: string): AttemptResult {
  if (status < 400)
    return {
      kind: 'failed',
      failure: {
        type: 'bad_response',
        what: `HTTP ${status} (a redirect${headers.location ? '' : ' with no Location'})`,
      },
    };
  const ra = Number(headers['retry-after']);
  return {
    kind: 'failed',
    failure: {
      type: 'status',
      status,
      body: text,
      headers: rateLimitHeaders(headers),
      ...(Number.isFinite(ra) && ra > 0 ? { retryAfterSeconds: ra } : {}),
    },
  };
}

/** A non-stream attempt's answer (read whole by read-answer.ts) checked, and parsed once. */
function answerResult(dep: Deployment, answer: Answer, attempt: AttemptSignal, startedAt: bigint): AttemptResult {
  const result = checkedAnswer(dep, answer, attempt, startedAt);
  if (result.kind !== 'body') answer.release();
  return result;
}

function checkedAnswer(dep: Deployment, answer: Answer, attempt: AttemptSignal, startedAt: bigint): AttemptResult {
  const { status } = answer;
  if (answer.overBudget) return { kind: 'busy' };
  dep.state.recordLatency(Number(answer.headersAt - startedAt) / 1e6);
  if (status >= 300) return failedStatus(statusOf(dep, status), answer.headers, answer.text ?? '');
  if (answer.bodyError) return { kind: 'failed', failure: failureOf(attempt, answer.bodyError) };
  if (answer.text === null)
    return {
      kind: 'failed',
      failure: { type: 'bad_response', what: `an answer over max_response_bytes (${dep.config.max_response_bytes})` },
    };
  // A completion is a JSON object (a truncated or HTML body is a failed attempt, not a 200): parsed once, here.
  const json = jsonObject(answer.text);
  if (!json)
    return {
      kind: 'failed',
      failure: {
        type: 'bad_response',
        what: `HTTP ${status} that is not a JSON object (${String(answer.headers['content-type'] ?? 'no content-type')})`,
      },
    };
  // A provider with its own answer shape (Anthropic) is read back as OpenAI's; OpenAI-compatible text passes as it is.
  const translated = dep.provider.answer?.(json, dep.config.model);
  return {
    kind: 'body',
    status,
    text: translated ? JSON.stringify(translated) : answer.text,
    json: translated ?? json,
    ...(translated ? { raw: answer.text } : {}),
    upstreamSeconds: Number(process.hrtime.bigint() - startedAt) / 1e9,
    passHeaders: rateLimitHeaders(answer.headers),
    release: answer.release,
  };
}

/** A stream request's answer: an event stream to pass on (holding the lease until it ends), or a failed attempt. */
async function streamResult(
  dep: Deployment,
  response: Dispatcher.ResponseData,
  attempt: AttemptSignal,
  startedAt: bigint,
  depLease: Lease,
): Promise<AttemptResult> {
  attempt.received();
  dep.state.recordLatency(Number(process.hrtime.bigint() - startedAt) / 1e6);
  const status = response.statusCode;
  if (status >= 300 && status < 400) {
    response.body.resume();
    return failedStatus(status, response.headers, '');
  }
  if (status >= 400) {
    const text = await readCapped(response.body, ERROR_BODY_LIMIT, response.headers['content-length']).catch(() => '');
    return failedStatus(statusOf(dep, status), response.headers, text ?? '');
  }
  // A 2xx that is not an event stream (a gateway's HTML page, a JSON body) is no stream to pass on: a failed
  // attempt, retried elsewhere like a non-stream answer that is not JSON. No content-type at all is let through.
  const type = response.headers['content-type'];
  if (typeof type === 'string' && !(dep.provider.streamContentType ?? EVENT_STREAM).test(type)) {
    response.body.resume();
    return {
      kind: 'failed',
      failure: {
        type: 'bad_response',
        what: `HTTP ${status} to a stream request that is not an event stream (${type})`,
      },
    };
  }
  return {
    kind: 'stream',
    status,
    response,
    // The timeout covers a stream until its last byte: it ends with the lease.
    lease: { end: () => (attempt.done(), depLease.end()) },
    startedAt,
    attempt,
    passHeaders: rateLimitHeaders(response.headers),
  };
}

export async function callDeployment(
  dep: Deployment,
  path: string,
  body: string,
  stream: boolean,
  promptTokens: number,
  clientGone: AbortEmitter,
  requestId?: string,
): Promise<AttemptResult> {
  const depLease = dep.state.begin(promptTokens);
  const attempt = new AttemptSignal(clientGone, dep.attemptLimits);
  const startedAt = process.hrtime.bigint();
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    accept: stream ? 'text/event-stream' : 'application/json',
  };
  Object.assign(headers, dep.authHeaders);
  if (requestId) headers['x-request-id'] = requestId;
  let keepLease = false;
  try {
    // A provider that signs requests (AWS SigV4) signs this one: path, headers and body as sent.
    if (dep.provider.sign)
      Object.assign(headers, await dep.provider.sign(dep.config, { origin: dep.config.api_base, path, headers, body }));
    // One async frame per non-stream attempt (this one), waiting on the answer read whole.
    if (!stream)
      return answerResult(
        dep,
        await readAnswer(dep.pool, { method: 'POST', path, headers, body }, attempt, dep.answerLimits, attempt),
        attempt,
        startedAt,
      );
    const response = await dep.pool.request({ method: 'POST', path, headers, body, signal: attempt });
    const result = await streamResult(dep, response, attempt, startedAt, depLease);
    keepLease = result.kind === 'stream';
    return result;
  } catch (err) {
    if (clientGone.aborted) return { kind: 'client_closed' };
    return { kind: 'failed', failure: failureOf(attempt, err) };
  } finally {
    if (!keepLease) {
      attempt.done();
      depLease.end();
    }
  }
}
