// The router's HTTP edge, one request listener for every route: what the edge holds per request (the socket's busy
// mark, the request's share of the body budget, the drain's count), the request id and CORS, then the route
// table's route — the client key checked, the body read, the handler called — and errors in OpenAI's shape.
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { RouterConfig } from '../config/schema.ts';
import { ByteBudget } from '../upstream/byte-budget.ts';
import { ANONYMOUS_CLIENT, type clientAuth } from './client-auth.ts';
import { InProgress } from './drain.ts';
import { ApiError, apiError, sendApiError } from './errors.ts';
import { BodyAbortedError, readJsonBody } from './read-body.ts';
import { assignRequestId, cors } from './request-meta.ts';
import type { Route, RouteTable } from './route-table.ts';
import { markBusy, serverBusy } from './server-limits.ts';

/** Whether the router is draining: /ready says so, and connections are not kept alive after their answer. */
export interface Lifecycle {
  draining: boolean;
}

export interface EdgeOptions {
  server: RouterConfig['server'];
  table: RouteTable;
  checkClient: ReturnType<typeof clientAuth>;
  lifecycle: Lifecycle;
  log: Logger;
  /** Path prefixes of the API: an unknown route there asks for the client key before its 404. */
  authPrefixes: readonly string[];
}

export interface Edge {
  handle: RequestListener;
  /** Requests being answered (what a drain waits for). */
  inProgress: InProgress;
}

const pathOf = (url: string) => {
  const q = url.indexOf('?');
  return q === -1 ? url : url.slice(0, q);
};

export function createEdge({ server, table, checkClient, lifecycle, log, authPrefixes }: EdgeOptions): Edge {
  // Request body bytes held at once: a request reserves as its body arrives and releases when answered.
  const bodyBudget = new ByteBudget(server.max_body_bytes_in_flight);
  const inProgress = new InProgress();
  const applyCors = cors(server.cors);

  /** A handler's error: an ApiError is the client's answer; anything else is logged and a 500. */
  const failed =
    (res: ServerResponse) =>
    (err: unknown): void => {
      if (!(err instanceof ApiError)) log.error({ err }, 'unhandled error serving a request');
      if (res.headersSent) res.destroy();
      else sendApiError(res, err instanceof ApiError ? err : ApiError.internal());
    };

  /** A path no route has: the client key first under the API's prefixes (as its routes ask), then 404. */
  function unknown(req: IncomingMessage, res: ServerResponse, path: string) {
    req.resume();
    const lower = path.toLowerCase();
    if (authPrefixes.some((p) => lower === p || lower.startsWith(`${p}/`))) {
      const client = checkClient(req);
      if (client instanceof ApiError) return sendApiError(res, client);
    }
    sendApiError(res, apiError('not_found', `Unknown route ${req.method} ${path}`));
  }

  async function serve(
    route: Route,
    params: string[],
    req: IncomingMessage,
    res: ServerResponse,
    reserve: (bytes: number) => boolean,
  ): Promise<void> {
    let client = ANONYMOUS_CLIENT;
    if (route.auth) {
      const checked = checkClient(req);
      if (checked instanceof ApiError) return void (req.resume(), sendApiError(res, checked));
      client = checked;
    }
    let body: unknown;
    let text: string | undefined;
    if (route.body) {
      try {
        ({ value: body, text } = await readJsonBody(req, server.max_body_bytes, reserve, serverBusy));
      } catch (err) {
        if (err instanceof BodyAbortedError) return route.onAbandoned?.();
        return failed(res)(err);
      }
    } else req.resume();
    // Not awaited: this frame ends here instead of staying suspended for the whole upstream call.
    const done = route.handler({ req, res, body, text, client, params });
    if (done) done.catch(failed(res));
  }

  const handle: RequestListener = (req, res) => {
    // One 'close' listener per request for what the edge holds: the socket's busy mark (the idle-connection
    // timeout leaves a socket with a request in progress alone) and the request's share of the body budget.
    const idle = markBusy(req.socket);
    let held = 0;
    inProgress.begin();
    // A connection that asks during a drain is not kept alive after its answer.
    if (lifecycle.draining) res.shouldKeepAlive = false;
    res.on('close', () => {
      idle();
      if (held > 0) bodyBudget.release(held);
      inProgress.end();
    });
    const reserve = (n: number) => bodyBudget.reserve(n) && ((held += n), true);
    assignRequestId(req);
    if (applyCors(req, res)) return;
    const path = pathOf(req.url ?? '/');
    const found = table.match(req.method ?? 'GET', path);
    if (!found) return unknown(req, res, path);
    serve(found.route, found.params, req, res, reserve).catch(failed(res));
  };
  return { handle, inProgress };
}
