// Per-request conventions of the HTTP edge: a request id on every response (the client's, or a new one) that
// logs and the upstream see too, and CORS for browser clients of allowed origins.
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RouterConfig } from '../config/schema.ts';

/** A client-supplied id is kept when it is short and plain (it is echoed in headers and logs). */
const CLIENT_REQUEST_ID = /^[\w.:@/+=-]{1,128}$/;

const REQUEST_ID = Symbol('llm-router.requestId');
type WithId = IncomingMessage & { [REQUEST_ID]?: string };

/**
 * The request's id: the client's x-request-id when usable, else a new UUID; kept on the request. Every answer
 * carries it: the router's writers add it to their single writeHead (withRequestId).
 */
export function assignRequestId(req: IncomingMessage): string {
  const given = req.headers['x-request-id'];
  const id = typeof given === 'string' && CLIENT_REQUEST_ID.test(given) ? given : randomUUID();
  (req as WithId)[REQUEST_ID] = id;
  return id;
}

export const requestIdOf = (req: IncomingMessage) => (req as WithId)[REQUEST_ID];

/**
 * `headers`, a flat [name, value, ...] list for writeHead, with the request's x-request-id added. An answer's
 * headers are written as one list, with no setHeader before it: Node then builds no header object for the
 * response (a null-prototype dictionary, filled and walked again by writeHead), which showed in a same-run A/B
 * of CPU per request. Headers set earlier with setHeader (CORS) are still merged by Node.
 */
export function withRequestId(res: ServerResponse, headers: string[]): string[] {
  const id = requestIdOf(res.req);
  if (id !== undefined) headers.push('x-request-id', id);
  return headers;
}

/** Headers a browser client may read. */
const EXPOSED =
  'x-request-id, x-router-policy, x-router-class, x-router-model, x-router-fallback-from, x-router-fallback-reason, server-timing, retry-after, x-ratelimit-limit-requests, x-ratelimit-remaining-requests, x-ratelimit-reset-requests, x-ratelimit-limit-tokens, x-ratelimit-remaining-tokens, x-ratelimit-reset-tokens';

/**
 * CORS for the allowed origins. Returns true when it answered the request itself (a preflight).
 * Nothing is added for other origins: the browser then refuses the response, as it should.
 */
export function cors(config: RouterConfig['server']['cors']): (req: IncomingMessage, res: ServerResponse) => boolean {
  const any = config.allowed_origins.includes('*');
  const allowed = new Set(config.allowed_origins);
  if (!any && allowed.size === 0) return () => false;
  return (req, res) => {
    const origin = req.headers.origin;
    if (!origin || (!any && !allowed.has(origin))) return false;
    res.setHeader('access-control-allow-origin', any ? '*' : origin);
    if (!any) res.setHeader('vary', 'Origin');
    res.setHeader('access-control-expose-headers', EXPOSED);
    if (req.method !== 'OPTIONS' || !req.headers['access-control-request-method']) return false;
    res.writeHead(
      204,
      withRequestId(res, [
        'access-control-allow-methods',
        'GET, POST, OPTIONS',
        'access-control-allow-headers',
        req.headers['access-control-request-headers'] ?? 'authorization, content-type',
        'access-control-max-age',
        String(config.max_age_s),
        'content-length',
        '0',
      ]),
    );
    res.end();
    return true;
  };
}
