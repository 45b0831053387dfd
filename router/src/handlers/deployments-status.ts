// GET /v1/deployments: each deployment's live state, for people and dashboards.
import { sendJson } from '../http/errors.ts';
import type { RouteCall } from '../http/route-table.ts';
import type { RouterContext } from './context.ts';

export function deploymentsStatusHandler(ctx: RouterContext) {
  return ({ res }: RouteCall) => {
    const now = Date.now();
    sendJson(res, 200, {
      object: 'list',
      data: ctx.deployments.all().map((d) => {
        const used = d.state.usage(now);
        return {
          id: d.config.id,
          model: d.routerModel,
          upstream_model: d.config.model,
          strategy: ctx.deployments.models.get(d.routerModel)!.strategy,
          state: d.state.health(now),
          cooldown_remaining_ms: d.state.cooldownRemainingMs(now),
          in_flight: d.state.inFlight,
          ewma_latency_ms: Math.round(d.state.ewmaLatencyMs * 10) / 10,
          rpm: { limit: d.config.rpm, used: used.requests },
          tpm: { limit: d.config.tpm, used: used.tokens },
          weight: d.config.weight,
        };
      }),
    });
  };
}
