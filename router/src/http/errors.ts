// OpenAI's error shape: {"error": {"message", "type", "param", "code"}}.
import type { ServerResponse } from 'node:http';
import { ERROR_CATALOG, type ErrorCode, type ErrorSpec } from './error-catalog.ts';
import { withRequestId } from './request-meta.ts';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly type: string = 'invalid_request_error',
    readonly code: string | null = null,
    readonly param: string | null = null,
    /** Extra response headers, e.g. retry-after. */
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
  /** The client went away: counted as 499 (nginx's convention); nothing is sent. */
  static clientClosed(): ApiError {
    return apiError('client_closed', 'client closed the request');
  }

  /** A bug in the router: the client gets a plain 500, the log gets the error. */
  static internal(): ApiError {
    return apiError('internal_error', 'Internal router error');
  }

  toJSON() {
    return { error: { message: this.message, type: this.type, param: this.param, code: this.code } };
  }
}

/**
 * An error from the catalog (error-catalog.ts): its status, type and default param, with this call's message.
 * `status` only where the catalog lets the cause decide it (an upstream's status passed through, a body parser's 4xx).
 */
export function apiError(
  code: ErrorCode,
  message: string,
  o: { param?: string | null; headers?: Record<string, string>; status?: number } = {},
): ApiError {
  const spec: ErrorSpec = ERROR_CATALOG[code];
  return new ApiError(
    o.status ?? spec.status,
    message,
    spec.type,
    code,
    o.param !== undefined ? o.param : (spec.param ?? null),
    o.headers ?? {},
  );
}

/**
 * An error answer. `headers`: more response headers (a flat name, value list), e.g. the routing headers of a
 * request that was routed.
 */
export function sendApiError(res: ServerResponse, err: ApiError, headers: string[] = [], body?: unknown): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  for (const k in err.headers) headers.push(k, err.headers[k]!);
  // `body`: the error in another API's shape (Anthropic's, for /v1/messages); OpenAI's by default.
  sendJson(res, err.status, body ?? err.toJSON(), headers);
}

/** A JSON answer (UTF-8, with its length), with the request id (request-meta.ts) and `headers`. */
export function sendJson(res: ServerResponse, status: number, value: unknown, headers: string[] = []): void {
  const body = JSON.stringify(value);
  headers.push('content-type', 'application/json; charset=utf-8', 'content-length', String(Buffer.byteLength(body)));
  res.writeHead(status, withRequestId(res, headers)).end(body);
}

/**
 * The error of a stream that already started (status and headers sent): an OpenAI-style error event, then
 * the end, so clients see why instead of a bare "terminated". A client that stopped reading (its buffer is
 * full) is cut instead: there is no one to tell, and the memory must go.
 */
export function sendStreamError(res: ServerResponse, err: ApiError): void {
  if (res.destroyed || res.writableEnded) return;
  if (res.writableNeedDrain) {
    res.destroy();
    return;
  }
  res.end(`data: ${JSON.stringify(err.toJSON())}\n\n`);
}
