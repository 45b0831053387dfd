// The router's HTTP surface. POST inference with a plain JSON body (the hot path), /health, /ready and /metrics
// are served straight from Node's request listener; everything else goes through express 5, loaded on first
// use (http/express-app.ts). Profiling showed express's per-request middleware costing more than the proxying.
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import type { RouterConfig } from './config/schema.ts';
import { TaskClassifier } from './classify/task-classifier.ts';
import { ApiError, sendApiError, sendJson, sendStreamError } from './http/errors.ts';
import { createRouterMetrics, initConfiguredSeries } from './metrics/router-metrics.ts';
import { buildPolicies } from './routing/policies.ts';
import { ConversationSessions } from './routing/sessions.ts';
import { RecentDecisions } from './quality/recent-decisions.ts';
import { modelCaller } from './quality/call-model.ts';
import { ShadowEvaluator } from './quality/shadow.ts';
import { blendedPrice, modelPrice } from './pricing/cost.ts';
import { TargetResolver } from './routing/resolve-target.ts';
import { DeploymentRegistry } from './upstream/deployments.ts';
import { inferenceHandler } from './handlers/inference.ts';
import { ENDPOINT_SPECS, type Endpoint } from './http/endpoints.ts';
import { clientAuth } from './http/client-auth.ts';
import { expressApp } from './http/express-app.ts';
import { BodyAbortedError, isPlainJsonRequest, readJsonBody } from './http/read-json-body.ts';
import { markBusy, serverBusy } from './http/server-limits.ts';
import { ByteBudget } from './upstream/byte-budget.ts';
import { assignRequestId, cors, requestIdOf, withRequestId } from './http/request-meta.ts';
import { InProgress } from './http/drain.ts';
import { createLogs } from './log.ts';
import type { RouterContext } from './handlers/context.ts';
import { RedisSharedState } from './state/redis-state.ts';
import type { SharedState } from './state/shared-state.ts';
import { apiError } from './http/errors.ts';

export interface RouterApp {
  /** The request listener to serve (the chat fast path in front of the express app). */
  handle: RequestListener;
  ctx: RouterContext;
  /** From now on /ready answers 503 (a drain has begun). */
  startDraining(): void;
  /** End every stream in progress with an error event (a drain out of time). */
  cutStreams(): void;
  /** Requests being answered (what a drain waits for). */
  inProgress: InProgress;
  /** Release upstream connections and shared state; `force`: without waiting for upstream calls in progress. */
  close(force?: boolean): Promise<void>;
}

/** A path as routes are matched: letter case and one trailing slash ignored, as express matches them. */
function routeKey(path: string): string {
  const lower = path.toLowerCase();
  return lower.length > 1 && lower.endsWith('/') ? lower.slice(0, -1) : lower;
}

/** Each endpoint's path, with and without /v1 (clients configured with a bare base URL drop it). */
const ENDPOINT_BY_KEY = new Map<string, Endpoint>(
  Object.values(ENDPOINT_SPECS).flatMap(
    (e) =>
      [
        [`/v1${e.path}`, e],
        [e.path, e],
      ] as Array<[string, Endpoint]>,
  ),
);
/** The inference endpoint at `path` (exact first: the common case costs no lowercasing). */
const endpointOf = (path: string): Endpoint | undefined =>
  ENDPOINT_BY_KEY.get(path) ?? ENDPOINT_BY_KEY.get(routeKey(path));

/** A model's blended price by name: what "a stronger model" means to sessions. */
function modelPriceOf(config: RouterConfig): (model: string) => number {
  const prices = new Map(config.models.map((m) => [m.name, blendedPrice(modelPrice(m))]));
  return (model) => prices.get(model) ?? 0;
}

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
  /** A model's blended price: what "stronger" means to sessions and "cheaper" to shadow evaluation. */
  const priceOf = modelPriceOf(config);
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
    sessions: new ConversationSessions(config.sessions, priceOf, () => shared),
    decisions: new RecentDecisions(config.feedback.ttl_s * 1000, config.feedback.max_decisions, () => shared),
    openStreams: new Set(),
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

  if (config.policies.some((p) => p.shadow))
    ctx.shadow = new ShadowEvaluator(
      config,
      ctx.metrics,
      modelCaller({
        deployments,
        resilience: config.resilience,
        metrics: ctx.metrics,
        log,
        ...(shared ? { shared } : {}),
      }),
      priceOf,
      Math.random,
      Date.now,
      (policy, err) => log.warn({ policy, err: String(err) }, 'shadow evaluation failed'),
    );

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

  // Express serves the rare routes; it is loaded by the first request that needs it (http/express-app.ts).
  let expressRoutes: Promise<RequestListener> | undefined;
  const viaExpress: RequestListener = (req, res) => {
    // Express writes its own answers: the request id goes on the response now (our writers add it themselves).
    res.setHeader('x-request-id', requestIdOf(req)!);
    expressRoutes ??= expressApp({
      ctx,
      endpointOf,
      checkClient,
      serveInference,
      countAbandoned,
    });
    expressRoutes.then(
      (app) => app(req, res),
      (err: unknown) => (log.error({ err }, 'cannot load the express routes'), sendApiError(res, ApiError.internal())),
    );
  };

  // The routes every probe and scrape hits, served without express.
  let draining = false;
  // With several workers, metricsText returns every worker's metrics aggregated by the primary.
  const metricsText = options.metricsText ?? (() => ctx.metrics.registry.metrics());
  const probes = new Map<string, (res: ServerResponse) => void | Promise<void>>([
    ['/health', (res) => sendJson(res, 200, { status: 'ok' })],
    [
      '/ready',
      (res) =>
        sendJson(res, draining ? 503 : 200, {
          status: draining ? 'draining' : 'ready',
          models: config.models.length,
          policies: config.policies.length,
          // memory: limits are this process's; shared: on Redis; local: Redis unreachable, limit / replicas here.
          state: !shared ? 'memory' : shared.connected ? 'shared' : 'local',
        }),
    ],
    [
      '/metrics',
      async (res) => {
        const text = await metricsText();
        res
          .writeHead(
            200,
            withRequestId(res, [
              'content-type',
              ctx.metrics.registry.contentType,
              'content-length',
              String(Buffer.byteLength(text)),
            ]),
          )
          .end(text);
      },
    ],
  ]);
  const serveProbe = (
    probe: (res: ServerResponse) => void | Promise<void>,
    req: IncomingMessage,
    res: ServerResponse,
  ) => {
    req.resume();
    Promise.resolve(probe(res)).catch((err: unknown) => {
      log.error({ err }, 'unexpected error serving a probe');
      if (!res.headersSent) sendApiError(res, ApiError.internal());
    });
  };

  // Request body bytes held at once: a request reserves as its body arrives and releases when answered.
  const bodyBudget = new ByteBudget(config.server.max_body_bytes_in_flight);
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
    // Not awaited: this frame ends here instead of staying suspended for the whole upstream call.
    void serveInference(endpoint, req, res, body, client);
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
    res.on('close', () => {
      idle();
      if (held > 0) bodyBudget.release(held);
      inProgress.end();
    });
    const reserve = (n: number) => bodyBudget.reserve(n) && ((held += n), true);
    assignRequestId(req);
    if (applyCors(req, res)) return;
    const url = req.url ?? '';
    const q = url.indexOf('?');
    const path = q === -1 ? url : url.slice(0, q);
    const endpoint = req.method === 'POST' ? endpointOf(path) : undefined;
    if (endpoint && isPlainJsonRequest(req.headers)) return void fastPath(endpoint, req, res, reserve);
    const probe = req.method === 'GET' || req.method === 'HEAD' ? probes.get(routeKey(path)) : undefined;
    if (probe) return serveProbe(probe, req, res);
    // Other bodies (express's body-parser) are held against the budget by their declared length.
    const declared = Number(req.headers['content-length']);
    if (declared > 0 && declared <= config.server.max_body_bytes && !reserve(declared))
      return void (req.resume(), sendApiError(res, serverBusy()));
    viaExpress(req, res);
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
    ctx.shadow?.close();
    await Promise.all([
      deployments.close(force),
      shared?.close(),
      ...[...ctx.policies.values()].map((p) => p.external?.close()),
    ]);
  };
  const cutStreams = () => {
    const err = apiError(
      'server_shutting_down',
      `The router is shutting down and its drain time (server.drain_timeout_ms) is over; retry the request`,
    );
    for (const res of ctx.openStreams) sendStreamError(res, err);
  };
  return { handle, ctx, close, inProgress, startDraining: () => void (draining = true), cutStreams };
}
