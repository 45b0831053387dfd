// The router, wired: the context every handler shares (config, policies, deployments, metrics, logs, sessions,
// shared state, shadow evaluation), the route table (routes.ts) behind one HTTP edge (http/edge.ts), and what a
// shutdown needs (drain, cut streams, close).
import type { RequestListener } from 'node:http';
import { TaskClassifier } from './classify/task-classifier.ts';
import type { RouterConfig } from './config/schema.ts';
import type { RouterContext } from './handlers/context.ts';
import { clientAuth } from './http/client-auth.ts';
import type { InProgress } from './http/drain.ts';
import { createEdge, type Lifecycle } from './http/edge.ts';
import { apiError, sendStreamError } from './http/errors.ts';
import { RouteTable } from './http/route-table.ts';
import { createLogs } from './log.ts';
import { logSink } from './events/log-sink.ts';
import { metricsSink } from './events/metrics-sink.ts';
import { fanOut } from './events/router-events.ts';
import { sharedStateSink } from './events/shared-state-sink.ts';
import { createRouterMetrics, initConfiguredSeries } from './metrics/router-metrics.ts';
import { blendedPrice, modelPrice } from '@llm-router/common/pricing';
import { modelCaller } from './quality/call-model.ts';
import { RecentDecisions } from './quality/recent-decisions.ts';
import { ShadowEvaluator } from './quality/shadow.ts';
import { API_PREFIXES, routes } from './routes.ts';
import { buildPolicies } from './routing/policies.ts';
import { TargetResolver } from './routing/resolve-target.ts';
import { ConversationSessions } from './routing/sessions.ts';
import { RedisSharedState } from './state/redis-state.ts';
import { DeploymentRegistry } from './upstream/deployments.ts';

export interface RouterApp {
  /** The request listener to serve. */
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

export interface RouterAppOptions {
  classifier?: TaskClassifier;
  /** With several workers, every worker's metrics aggregated by the primary. */
  metricsText?: () => Promise<string>;
  /** Router processes on this host (workers): with shared state, the fallback limit is divided by them too. */
  localProcesses?: number;
}

/** A model's blended price by name: what "stronger" means to sessions and "cheaper" to shadow evaluation. */
function modelPriceOf(config: RouterConfig): (model: string) => number {
  const prices = new Map(config.models.map((m) => [m.name, blendedPrice(modelPrice(m))]));
  return (model) => prices.get(model) ?? 0;
}

/** What every handler shares, built once. Shared state (Redis) and shadow evaluation only where configured. */
function buildContext(config: RouterConfig, options: RouterAppOptions): RouterContext {
  const { log, requests: requestLog } = createLogs();
  const priceOf = modelPriceOf(config);
  const metrics = createRouterMetrics(
    () =>
      ctx.deployments.all().map((d) => ({
        model: d.routerModel,
        deployment: d.config.id,
        health: d.state.health(),
        inFlight: d.state.inFlight,
        rpmRemaining: d.config.rpm > 0 ? Math.max(0, d.config.rpm - d.state.usage().requests) : null,
      })),
    config.state.backend === 'redis' ? { connected: () => ctx.shared?.connected ?? false } : undefined,
  );
  initConfiguredSeries(metrics, config);
  const events = fanOut(
    metricsSink(metrics),
    logSink(log),
    sharedStateSink(() => ctx.shared),
  );
  const deployments = new DeploymentRegistry(config, events);
  const ctx: RouterContext = {
    config,
    policies: buildPolicies(config, options.classifier ?? TaskClassifier.load()),
    resolver: new TargetResolver(config),
    deployments,
    metrics,
    events,
    log,
    requestLog,
    sessions: new ConversationSessions(config.sessions, priceOf, () => ctx.shared),
    decisions: new RecentDecisions(config.feedback.ttl_s * 1000, config.feedback.max_decisions, () => ctx.shared),
    openStreams: new Set(),
  };
  if (config.state.backend === 'redis' && config.state.url)
    ctx.shared = new RedisSharedState(
      { ...config.state, url: config.state.url },
      deployments,
      options.localProcesses ?? 1,
      events,
    );
  if (config.policies.some((p) => p.shadow))
    ctx.shadow = new ShadowEvaluator(
      config,
      events,
      modelCaller({
        deployments,
        resilience: config.resilience,
        events,
        ...(ctx.shared ? { shared: ctx.shared } : {}),
      }),
      priceOf,
      Math.random,
      Date.now,
    );
  return ctx;
}

/** External classifiers are checked once, in the background: a problem is logged, the router starts anyway. */
function probeExternalClassifiers(ctx: RouterContext): void {
  for (const p of ctx.policies.values())
    void p.external?.probe().then((problems) => {
      for (const problem of problems)
        ctx.log.warn(
          { policy: p.name, classifier: p.external!.kind },
          `external classifier: ${problem}; the built-in classifier answers until it works`,
        );
    });
}

export function createRouterApp(config: RouterConfig, options: RouterAppOptions = {}): RouterApp {
  const ctx = buildContext(config, options);
  const lifecycle: Lifecycle = { draining: false };
  const metricsText = options.metricsText ?? (() => ctx.metrics.registry.metrics());
  const { handle, inProgress } = createEdge({
    server: config.server,
    table: new RouteTable(routes(ctx, lifecycle, metricsText)),
    checkClient: clientAuth(config.auth, ctx.events.authFailed),
    lifecycle,
    log: ctx.log,
    authPrefixes: API_PREFIXES,
  });
  probeExternalClassifiers(ctx);
  const close = async (force = false) => {
    ctx.shadow?.close();
    await Promise.all([
      ctx.deployments.close(force),
      ctx.shared?.close(),
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
  return { handle, ctx, close, inProgress, startDraining: () => void (lifecycle.draining = true), cutStreams };
}
