// Every route the router serves, in one table (http/route-table.ts matches them; http/edge.ts serves them):
// inference, then routing and feedback, then what people and dashboards read, then probes.
import { countTokens } from './handlers/count-tokens.ts';
import type { RouterContext } from './handlers/context.ts';
import { deploymentsStatusHandler } from './handlers/deployments-status.ts';
import { feedbackHandler } from './handlers/feedback.ts';
import { indexPage } from './handlers/index-page.ts';
import { inferenceHandler } from './handlers/inference.ts';
import { modelsHandlers } from './handlers/models.ts';
import { probeHandlers } from './handlers/probes.ts';
import { routeDecisionHandler } from './handlers/route-decision.ts';
import type { Lifecycle } from './http/edge.ts';
import { ENDPOINT_SPECS } from './http/endpoints.ts';
import type { Route } from './http/route-table.ts';

/** Where the API lives: an unknown path under these asks for the client key before its 404. */
export const API_PREFIXES = ['/v1', '/chat', '/models', '/completions', '/responses', '/embeddings'] as const;

export function routes(ctx: RouterContext, lifecycle: Lifecycle, metricsText: () => Promise<string>): Route[] {
  const post = (path: Route['path'], handler: Route['handler'], extra: Partial<Route> = {}): Route => ({
    method: 'POST',
    path,
    auth: true,
    body: true,
    handler,
    ...extra,
  });
  const get = (path: Route['path'], handler: Route['handler'], auth = true): Route => ({
    method: 'GET',
    path,
    auth,
    body: false,
    handler,
  });
  const models = modelsHandlers(ctx.config);
  const probes = probeHandlers(ctx, lifecycle, metricsText);
  return [
    // Each inference endpoint with and without /v1 (clients configured with a bare base URL drop it).
    ...Object.values(ENDPOINT_SPECS).map((e) =>
      post([`/v1${e.path}`, e.path], inferenceHandler(ctx, e), {
        onAbandoned: () => ctx.events.requestAbandoned(e.name),
      }),
    ),
    post('/v1/messages/count_tokens', countTokens),
    post('/v1/route', routeDecisionHandler(ctx)),
    post('/v1/feedback', feedbackHandler(ctx)),
    get(['/v1/models', '/models'], models.list),
    get(/^\/(?:v1\/)?models\/(.+)$/i, models.retrieve), // ids may hold "/" (router/task_router)
    get('/v1/deployments', deploymentsStatusHandler(ctx)),
    get(['/', '/v1'], indexPage, false),
    get('/health', probes.health, false),
    get('/ready', probes.ready, false),
    get('/metrics', probes.metrics, false),
  ];
}
