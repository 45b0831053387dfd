// What one client can hold on the router, bounded: idle connections that never send a request (Node closes
// none of them by itself: headersTimeout only starts with a request), the number of open connections (so
// file descriptors stay for upstream calls and real requests), and request body bytes held at once.
import { readFileSync } from 'node:fs';
import { STATUS_CODES, type Server, type ServerOptions } from 'node:http';
import type { Socket } from 'node:net';
import type { RouterConfig } from '../config/schema.ts';
import { apiError } from './errors.ts';

/** Requests in progress on a socket: the idle timeout leaves it alone (an LLM call can be silent for minutes). */
const BUSY = Symbol('llm-router.busy');
/** Requests a socket has finished, and when it was accepted: a drain closes only sockets that are really idle. */
const SERVED = Symbol('llm-router.served');
const BORN = Symbol('llm-router.born');
type Tracked = Socket & { [BUSY]?: number; [SERVED]?: number; [BORN]?: number };

/** Count a request on its socket; call the returned function once when its response closes. */
export function markBusy(socket: Socket): () => void {
  (socket as Tracked)[BUSY] = ((socket as Tracked)[BUSY] ?? 0) + 1;
  return () => {
    (socket as Tracked)[BUSY] = ((socket as Tracked)[BUSY] ?? 1) - 1;
    (socket as Tracked)[SERVED] = ((socket as Tracked)[SERVED] ?? 0) + 1;
  };
}

/** The server's open connections, each stamped with when it was accepted. */
export function trackConnections(server: Server): Set<Socket> {
  const open = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    (socket as Tracked)[BORN] = Date.now();
    open.add(socket);
    socket.once('close', () => open.delete(socket));
  });
  return open;
}

/**
 * Whether a drain may close the connection now: no request in progress, and either one answered already (an idle
 * keep-alive connection) or no request within `graceMs` of being accepted. A connection accepted a moment ago whose
 * request is still on its way is not idle: closing it (as Node's server.close() does) resets that request.
 */
export function idleForDrain(socket: Socket, now: number, graceMs: number): boolean {
  const t = socket as Tracked;
  if (t[BUSY]) return false;
  return (t[SERVED] ?? 0) > 0 || now - (t[BORN] ?? 0) >= graceMs;
}

/** The soft limit on open files of this process (Linux), or undefined. */
function openFilesLimit(): number | undefined {
  try {
    const m = /^Max open files\s+(\d+)/m.exec(readFileSync('/proc/self/limits', 'utf8'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

export function connectionCap(configured: number): number {
  if (configured > 0) return configured;
  const files = openFilesLimit();
  return files === undefined ? 10_000 : Math.max(64, files - 64);
}

/**
 * Node's own limits on receiving a request: all of it (headers and body) within request_timeout_ms, checked every
 * second (Node's default check runs every 30 s, so a trickled body lived up to its 300 s default). Answered with an
 * OpenAI-shaped 408 (the clientError handler below).
 */
export function serverOptions(limits: RouterConfig['server']): ServerOptions {
  return {
    requestTimeout: limits.request_timeout_ms,
    headersTimeout: Math.min(limits.request_timeout_ms, 60_000),
    connectionsCheckingInterval: 1_000,
  };
}

export function applyServerLimits(server: Server, limits: RouterConfig['server']): void {
  server.maxConnections = connectionCap(limits.max_connections);
  // Node's socket timeout, with a server 'timeout' listener so Node does not destroy busy sockets itself.
  server.timeout = limits.idle_timeout_ms;
  server.on('timeout', (socket: Socket) => {
    if (!(socket as Tracked)[BUSY]) socket.destroy();
  });
  // Requests Node refuses before any handler runs (headers over its limit, malformed HTTP) still get an
  // answer in OpenAI's shape: Node's own is an empty body.
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
    if (err.code === 'ECONNRESET' || !socket.writable) return void socket.destroy();
    const refusal =
      err.code === 'HPE_HEADER_OVERFLOW'
        ? apiError('headers_too_large', 'Request headers are larger than the router accepts (16 KiB in all)')
        : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
          ? apiError(
              'request_timeout',
              `The request was not received in full within ${limits.request_timeout_ms} ms (server.request_timeout_ms)`,
            )
          : apiError('bad_request', 'Malformed HTTP request');
    const body = JSON.stringify(refusal.toJSON());
    socket.end(
      `HTTP/1.1 ${refusal.status} ${STATUS_CODES[refusal.status]}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
    );
  });
}

export const serverBusy = () =>
  apiError(
    'server_busy',
    'The router is holding as many request bodies as it is allowed to (server.max_body_bytes_in_flight); retry shortly',
    { headers: { 'retry-after': '1' } },
  );
