// What can go wrong with one upstream attempt, as data. upstream/ never builds HTTP errors: the handler maps
// a failure to the client's ApiError once, at the edge (http/upstream-errors.ts).

export type TransportReason =
  | 'connect_timeout'
  | 'first_byte_timeout'
  | 'stream_idle_timeout'
  | 'timeout'
  | 'connection_error';

export type UpstreamFailure =
  /** The upstream answered an HTTP error. `body` is its raw text (not yet scrubbed: never shown as is). */
  | { type: 'status'; status: number; body: string; retryAfterSeconds?: number; headers: Record<string, string> }
  /** No answer: refused, reset, or a timeout. */
  | { type: 'transport'; reason: TransportReason }
  /** An answer that is not a usable completion: a redirect, HTML, invalid JSON, too large. */
  | { type: 'bad_response'; what: string }
  /** A stream event over the deployment's max_event_bytes. */
  | { type: 'event_too_large'; limit: number };

/** Worth another deployment: 429, 5xx, the router's credentials refused (401/403), no answer, an unusable one. */
export function isRetryable(f: UpstreamFailure): boolean {
  if (f.type !== 'status') return true;
  return f.status === 429 || f.status >= 500 || f.status === 401 || f.status === 403;
}

/** A bounded metric label for the failure. */
export function failureLabel(f: UpstreamFailure): string {
  switch (f.type) {
    case 'status':
      return f.status === 401 || f.status === 403 ? 'auth' : String(f.status);
    case 'transport':
      return f.reason;
    case 'bad_response':
      return 'bad_response';
    case 'event_too_large':
      return 'event_too_large';
  }
}

/** The OpenAI error code in an upstream error body, if any (e.g. context_length_exceeded). */
export function upstreamErrorCode(f: UpstreamFailure): string | null {
  if (f.type !== 'status') return null;
  try {
    const code = (JSON.parse(f.body) as { error?: { code?: unknown } }).error?.code;
    return typeof code === 'string' ? code : null;
  } catch {
    return null;
  }
}
