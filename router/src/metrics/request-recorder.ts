// Everything one request leaves in the metrics, from one value: what was asked, how it was routed, what served
// it, how it ended. Called once per request, on every path.
import { costUsd, type Price, type Usage } from '../pricing/cost.ts';
import type { Deployment } from '../upstream/deployments.ts';
import type { RouterMetrics } from './router-metrics.ts';

export const NONE = 'none';

export interface RequestOutcome {
  endpoint: string;
  /** Set once the request was routed. */
  routing?: { policy: string; class: string; model: string; baselinePrice: Price };
  /** The deployment that served it, if one did. */
  served?: Deployment;
  status: number;
  totalSeconds: number;
  upstreamSeconds: number;
  ttftSeconds?: number;
  usage?: Usage;
}

export function recordRequest(metrics: RouterMetrics, o: RequestOutcome): void {
  const policy = o.routing?.policy ?? NONE;
  const model = o.served?.model ?? o.routing?.model ?? NONE;
  metrics.requests.inc({
    endpoint: o.endpoint,
    policy,
    class: o.routing?.class ?? NONE,
    model,
    status: String(o.status),
  });
  if (!o.routing || !o.served) return;
  const dep = o.served;
  metrics.requestDuration.observe({ policy, model }, o.totalSeconds);
  metrics.overhead.observe({ policy }, Math.max(0, o.totalSeconds - o.upstreamSeconds));
  metrics.upstreamDuration.observe({ model, deployment: dep.config.id }, o.upstreamSeconds);
  if (o.ttftSeconds !== undefined) metrics.timeToFirstToken.observe({ model }, o.ttftSeconds);
  if (o.usage) {
    metrics.promptTokens.observe({ model }, o.usage.prompt_tokens);
    metrics.completionTokens.observe({ model }, o.usage.completion_tokens);
    if (o.ttftSeconds !== undefined && o.usage.completion_tokens > 1)
      metrics.interTokenLatency.observe(
        { model },
        Math.max(0, o.totalSeconds - o.ttftSeconds) / (o.usage.completion_tokens - 1),
      );
    dep.state.recordCompletionTokens(o.usage.completion_tokens);
    metrics.tokens.inc({ model, type: 'prompt' }, o.usage.prompt_tokens);
    metrics.tokens.inc({ model, type: 'completion' }, o.usage.completion_tokens);
    metrics.cost.inc({ policy, model }, costUsd(o.usage, dep.config.price));
    metrics.baselineCost.inc({ policy }, costUsd(o.usage, o.routing.baselinePrice));
  }
}
