// The router's HTTP surface. POST /v1/chat/completions with a plain JSON body (the hot path) is served
// straight from Node's request listener; everything else, and chat bodies that need decoding, go through
// express 5. Profiling showed express's per-request middleware costing more than the proxying itself.
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import express, { type NextFunction, type Request, type Response } from 'express';
import type { RouterConfig } from './config/schema.ts';
import { TaskClassifier } from './classify/task-classifier.ts';
import { ApiError, sendApiError } from './http/errors.ts';
import { createRouterMetrics, initConfiguredSeries } from './metrics/router-metrics.ts';
import { buildPolicies } from './routing/policies.ts';
import { TargetResolver } from './routing/resolve-target.ts';
import { DeploymentRegistry } from './upstream/deployments.ts';
import { inferenceHandler } from './handlers/inference.ts';
import { ENDPOINT_SPECS, type Endpoint } from './http/endpoints.ts';
import { routeDecisionHandler } from './handlers/route-decision.ts';
import { deploymentsStatusHandler } from './handlers/deployments-status.ts';
import { clientAuth, clientAuthMiddleware } from './http/client-auth.ts';
import { BodyAbortedError, isPlainJsonRequest, readJsonBody } from './http/read-json-body.ts';
import { BodyBudget, markBusy, serverBusy } from './http/server-limits.ts';
import { assignRequestId, cors } from './http/request-meta.ts';
import { InProgress } from './http/drain.ts';
import { createLogs } from './log.ts';
import type { RouterContext } from './handlers/context.ts';
import { modelsHandlers } from './handlers/models.ts';
import { expressErrorHandler } from './http/express-errors.ts';
import { RedisSharedState } from './state/redis-state.ts';
import type { SharedState } from './state/shared-state.ts';

export interface RouterApp {
  /** The request listener to serve (the chat fast path in front of the express app). */
  handle: RequestListener;
  ctx: RouterContext;
  /** From now on /ready answers 503 (a drain has begun). */
  startDraining(): void;
  /** Requests being answered (what a drain waits for). */
  inProgress: InProgress;
  /** Release upstream connections and shared state; `force`: without waiting for upstream calls in progress. */
  close(force?: boolean): Promise<void>;
}

/** Each endpoint's path, with and without /v1 (clients configured with a bare base URL drop it). */
const ENDPOINT_BY_PATH = new Map<string, Endpoint>(
  Object.values(ENDPOINT_SPECS).flatMap(
    (e) =>
      [
        [`/v1${e.path}`, e],
        [e.path, e],
      ] as Array<[string, Endpoint]>,
  ),
);

export function createRouterApp(
  config: RouterConfig,
  options: {
    classifier?: TaskClassifier;
    metricsText?: () => Promise<string>;
    /** Router processes on this host (workers): with shared state, the fallback limit is divided by them too. */
    localProcesses?: number;
  } = {},
): RouterApp {
  const { log, requests: requestLog } = createLogs();
  const classifier = options.classifier ?? TaskClassifier.load();
  const deployments = new DeploymentRegistry(config);
  let shared: SharedState | undefined;
  const ctx: RouterContext = {
    config,
    policies: buildPolicies(config, classifier),
    resolver: new TargetResolver(config),
    deployments,
    metrics: createRouterMetrics(
      () =>
        deployments.all().map((d) => ({
          model: d.model,
          deployment: d.config.id,
          health: d.state.health(),
          inFlight: d.state.inFlight,
          rpmRemaining: d.config.rpm > 0 ? Math.max(0, d.config.rpm - d.state.usage().requests) : null,
        })),
      config.state.backend === 'redis' ? { connected: () => shared?.connected ?? false } : undefined,
    ),
    log,
    requestLog,
  };
  initConfiguredSeries(ctx.metrics, config);
  if (config.state.backend === 'redis' && config.state.url) {
    shared = new RedisSharedState(
      { ...config.state, url: config.state.url },
      deployments,
      options.localProcesses ?? 1,
      log,
      {
        localDecision: () => ctx.metrics.sharedStateLocalDecisions.inc(),
      },
    );
    ctx.shared = shared;
  }

  for (const d of deployments.all()) {
    d.state.onCooldown = (seconds, reason) => {
      ctx.metrics.deploymentCooldowns.inc({ model: d.model, deployment: d.config.id, reason });
      log.warn({ model: d.model, deployment: d.config.id, seconds, reason }, 'deployment cooling down');
      shared?.publishCooldown(d, seconds, reason);
    };
    if (shared) d.state.onCompletionTokens = (tokens) => shared.addTokens(d, tokens);
  }

  const checkClient = clientAuth(config.auth, (reason) => ctx.metrics.authFailures.inc({ reason }));
  const handlers = new Map(Object.values(ENDPOINT_SPECS).map((e) => [e, inferenceHandler(ctx, e)]));
  const countAbandoned = (endpoint: Endpoint) =>
    ctx.metrics.requests.inc({ endpoint: endpoint.name, policy: 'none', class: 'none', model: 'none', status: '499' });
  const serveInference = (
    endpoint: Endpoint,
    req: IncomingMessage,
    res: ServerResponse,
    body: unknown,
    client: string,
  ) =>
    handlers.get(endpoint)!(req, res, body, client).catch((err: unknown) => {
      log.error({ err }, 'unhandled error serving a request');
      sendApiError(res, ApiError.internal());
    });

  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  // Parse any content type as JSON: some clients omit the header; errors become OpenAI-shaped 400s below.
  // Auth first: an unauthenticated caller gets 401 before any body is read.
  app.use(['/v1', '/chat', '/models', '/completions', '/responses', '/embeddings'], clientAuthMiddleware(checkClient));
  app.use(express.json({ limit: config.server.max_body_bytes, type: () => true, strict: true }));

  app.post([...ENDPOINT_BY_PATH.keys()], (req: Request, res: Response) =>
    serveInference(ENDPOINT_BY_PATH.get(req.path)!, req, res, req.body, res.locals.client as string),
  );
  app.post('/v1/route', routeDecisionHandler(ctx));
  app.get('/v1/deployments', deploymentsStatusHandler(ctx));
  const models = modelsHandlers(config);
  app.get(['/v1/models', '/models'], models.list);
  app.get(/^\/(?:v1\/)?models\/(.+)$/, models.retrieve); // ids may hold "/" (router/task_router)
  app.get('/health', (_req, res) => void res.json({ status: 'ok' }));
  let draining = false;
  app.get(
    '/ready',
    (_req, res) =>
      void res.status(draining ? 503 : 200).json({
        status: draining ? 'draining' : 'ready',
        models: config.models.length,
        policies: config.policies.length,
        // memory: limits are this process's; shared: on Redis; local: Redis unreachable, limit / replicas here.
        state: !shared ? 'memory' : shared.connected ? 'shared' : 'local',
      }),
  );
  // With several workers, metricsText returns every worker's metrics aggregated by the primary.
  const metricsText = options.metricsText ?? (() => ctx.metrics.registry.metrics());
  app.get('/metrics', async (_req, res) => {
    res.type(ctx.metrics.registry.contentType).send(await metricsText());
  });

  app.use((req: Request, _res: Response, next: NextFunction) => {
    next(new ApiError(404, `Unknown route ${req.method} ${req.path}`, 'invalid_request_error', 'not_found'));
  });
  app.use(
    expressErrorHandler(config.server.max_body_bytes, log, (path) => {
      const endpoint = ENDPOINT_BY_PATH.get(path);
      if (endpoint) countAbandoned(endpoint); // the client left while still sending: counted once, like every request
    }),
  );

  const bodyBudget = new BodyBudget(config.server.max_body_bytes_in_flight);
  const inProgress = new InProgress();
  /** Same auth, body limits and error shapes as the express route, minus express. */
  async function fastPath(
    endpoint: Endpoint,
    req: IncomingMessage,
    res: ServerResponse,
    reserve: (bytes: number) => boolean,
  ): Promise<void> {
    const client = checkClient(req);
    if (client instanceof ApiError) return void (req.resume(), sendApiError(res, client));
    let body: unknown;
    try {
      body = await readJsonBody(req, config.server.max_body_bytes, reserve, serverBusy);
    } catch (err) {
      if (err instanceof BodyAbortedError) return void countAbandoned(endpoint); // counted once, like every request
      return sendApiError(res, err as ApiError);
    }
    await serveInference(endpoint, req, res, body, client);
  }

  const applyCors = cors(config.server.cors);
  const handle: RequestListener = (req, res) => {
    // One 'close' listener per request for what the edge holds: the socket's busy mark (the idle-connection
    // timeout leaves a socket with a request in progress alone) and the request's share of the body budget.
    const idle = markBusy(req.socket);
    let held = 0;
    inProgress.begin();
    // A connection that asks during a drain is not kept alive after its answer.
    if (draining) res.shouldKeepAlive = false;
    res.once('close', () => {
      idle();
      if (held > 0) bodyBudget.release(held);
      inProgress.end();
    });
    const reserve = (n: number) => bodyBudget.reserve(n) && ((held += n), true);
    assignRequestId(req, res);
    if (applyCors(req, res)) return;
    const url = req.url ?? '';
    const q = url.indexOf('?');
    const endpoint = req.method === 'POST' ? ENDPOINT_BY_PATH.get(q === -1 ? url : url.slice(0, q)) : undefined;
    if (endpoint && isPlainJsonRequest(req.headers)) return void fastPath(endpoint, req, res, reserve);
    // Other bodies (express's body-parser) are held against the budget by their declared length.
    const declared = Number(req.headers['content-length']);
    if (declared > 0 && declared <= config.server.max_body_bytes && !reserve(declared))
      return void (req.resume(), sendApiError(res, serverBusy()));
    app(req, res);
  };

  // External classifiers are checked once, in the background: a problem is logged, the router starts anyway.
  for (const p of ctx.policies.values()) {
    void p.external?.probe().then((problems) => {
      for (const problem of problems)
        log.warn(
          { policy: p.name, classifier: p.external!.kind },
          `external classifier: ${problem}; the built-in classifier answers until it works`,
        );
    });
  }
  const close = async (force = false) => {
    await Promise.all([
      deployments.close(force),
      shared?.close(),
      ...[...ctx.policies.values()].map((p) => p.external?.close()),
    ]);
  };
  return { handle, ctx, close, inProgress, startDraining: () => void (draining = true) };
}
