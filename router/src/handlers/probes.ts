// GET /health (the process answers), /ready (configured, and not draining; where rate limits live) and /metrics
// (Prometheus's text; with workers, every worker's aggregated by the primary).
import type { Lifecycle } from '../http/edge.ts';
import { sendJson } from '../http/errors.ts';
import { withRequestId } from '../http/request-meta.ts';
import type { RouteCall } from '../http/route-table.ts';
import type { RouterContext } from './context.ts';

export function probeHandlers(ctx: RouterContext, lifecycle: Lifecycle, metricsText: () => Promise<string>) {
  const { config } = ctx;
  return {
    health: ({ res }: RouteCall) => sendJson(res, 200, { status: 'ok' }),
    ready: ({ res }: RouteCall) =>
      sendJson(res, lifecycle.draining ? 503 : 200, {
        status: lifecycle.draining ? 'draining' : 'ready',
        models: config.models.length,
        policies: config.policies.length,
        // memory: limits are this process's; shared: on Redis; local: Redis unreachable, limit / replicas here.
        state: !ctx.shared ? 'memory' : ctx.shared.connected ? 'shared' : 'local',
      }),
    metrics: async ({ res }: RouteCall) => {
      const text = await metricsText();
      const headers = [
        'content-type',
        ctx.metrics.registry.contentType,
        'content-length',
        String(Buffer.byteLength(text)),
      ];
      res.writeHead(200, withRequestId(res, headers)).end(text);
    },
  };
}
