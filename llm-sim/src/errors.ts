import type { ServerResponse } from 'node:http';
import type { Endpoint } from './endpoints.ts';

// Errors in the shape of the API that was called: OpenAI's (Azure's too), Anthropic's, Google's and Bedrock's.

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

export function sendError(
  res: ServerResponse,
  status: number,
  message: string,
  type: string,
  code: string | null,
  param: string | null = null,
  headers: Record<string, string> = {},
): void {
  sendJson(res, status, { error: { message, type, param, code } }, headers);
}

/** Anthropic's error types by status (its API reference: errors). */
const ANTHROPIC_ERROR_TYPES: Record<number, string> = {
  400: 'invalid_request_error',
  401: 'authentication_error',
  403: 'permission_error',
  404: 'not_found_error',
  413: 'request_too_large',
  429: 'rate_limit_error',
  500: 'api_error',
  529: 'overloaded_error',
};

/** Bedrock's exception names by HTTP status (its error type header). */
const BEDROCK_ERRORS: Record<number, string> = {
  400: 'ValidationException',
  403: 'AccessDeniedException',
  404: 'ResourceNotFoundException',
  429: 'ThrottlingException',
  500: 'InternalServerException',
  503: 'ServiceUnavailableException',
};

/** Google's status names by HTTP status (its API errors: {error: {code, message, status}}). */
const GOOGLE_STATUS: Record<number, string> = {
  400: 'INVALID_ARGUMENT',
  403: 'PERMISSION_DENIED',
  404: 'NOT_FOUND',
  429: 'RESOURCE_EXHAUSTED',
  500: 'INTERNAL',
  503: 'UNAVAILABLE',
};

/** An error in the shape of the endpoint's API: OpenAI's {error: {...}}, Anthropic's {type: "error", error}, or Google's. */
export function sendEndpointError(
  res: ServerResponse,
  endpoint: Endpoint,
  status: number,
  message: string,
  type: string,
  code: string | null,
  param: string | null = null,
  headers: Record<string, string> = {},
): void {
  if (endpoint === 'messages')
    sendJson(
      res,
      status,
      { type: 'error', error: { type: ANTHROPIC_ERROR_TYPES[status] ?? 'api_error', message } },
      headers,
    );
  else if (endpoint === 'converse')
    sendJson(
      res,
      status,
      { message },
      { 'x-amzn-errortype': BEDROCK_ERRORS[status] ?? 'InternalServerException', ...headers },
    );
  else if (endpoint === 'gemini')
    sendJson(res, status, { error: { code: status, message, status: GOOGLE_STATUS[status] ?? 'UNKNOWN' } }, headers);
  else sendError(res, status, message, type, code, param, headers);
}
