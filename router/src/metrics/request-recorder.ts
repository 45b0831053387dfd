// Everything one request leaves in the metrics, from one value: what was asked, how it was routed, what served
// it, how it ended. record() is called once per request, on every path. Built once per handler: the series of
// each label combination (all from the config) are resolved on first use (metrics/series.ts).
import { costUsd, type Price, type Usage } from '@llm-router/common/pricing';
import type { Deployment } from '../upstream/deployments.ts';
import type { RouterMetrics } from './router-metrics.ts';
import {
  type CounterSeries,
  counterSeries,
  gaugeSeries,
  type HistogramSeries,
  histogramSeries,
  SeriesCache,
} from './series.ts';

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

export class RequestRecorder {
  private readonly inFlight: ReturnType<typeof gaugeSeries>;
  private readonly requests: SeriesCache<[string, string, string, string, string], CounterSeries>;
  private readonly clients: SeriesCache<[string], CounterSeries>;
  private readonly classifiers: SeriesCache<[string], HistogramSeries>;
  private readonly strongNeed: SeriesCache<[string], HistogramSeries>;
  private readonly byPolicy: SeriesCache<[string], { overhead: HistogramSeries; baselineCost: CounterSeries }>;
  private readonly served: SeriesCache<[string, string, string], ReturnType<typeof servedSeries>>;

  constructor(metrics: RouterMetrics) {
    const m = metrics;
    this.inFlight = gaugeSeries(m.inFlight);
    this.requests = new SeriesCache((endpoint, policy, cls, model, status) =>
      counterSeries(m.requests, { endpoint, policy, class: cls, model, status }),
    );
    this.clients = new SeriesCache((client) => counterSeries(m.clientRequests, { client }));
    this.classifiers = new SeriesCache((classifier) => histogramSeries(m.classificationDuration, { classifier }));
    this.strongNeed = new SeriesCache((policy) => histogramSeries(m.strongNeedScore, { policy }));
    this.byPolicy = new SeriesCache((policy) => ({
      overhead: histogramSeries(m.overhead, { policy }),
      baselineCost: counterSeries(m.baselineCost, { policy }),
    }));
    this.served = new SeriesCache((policy, model, deployment) => servedSeries(m, policy, model, deployment));
  }

  /** A request arrived from `client` (the API key's name). */
  started(client: string): void {
    this.inFlight.inc();
    this.clients.get(client).inc();
  }

  /** It left (on every path, once). */
  left(): void {
    this.inFlight.dec();
  }

  classified(classifier: string, seconds: number): void {
    this.classifiers.get(classifier).observe(seconds);
  }

  /** A quality policy's strong-need score for the request. */
  scored(policy: string, score: number): void {
    this.strongNeed.get(policy).observe(score);
  }

  record(o: RequestOutcome): void {
    const policy = o.routing?.policy ?? NONE;
    const model = o.served?.routerModel ?? o.routing?.model ?? NONE;
    this.requests.get(o.endpoint, policy, o.routing?.class ?? NONE, model, String(o.status)).inc();
    if (!o.routing || !o.served) return;
    const dep = o.served;
    const s = this.served.get(policy, model, dep.config.id);
    const p = this.byPolicy.get(policy);
    s.duration.observe(o.totalSeconds);
    p.overhead.observe(Math.max(0, o.totalSeconds - o.upstreamSeconds));
    s.upstream.observe(o.upstreamSeconds);
    if (o.ttftSeconds !== undefined) s.ttft.observe(o.ttftSeconds);
    if (o.usage) {
      s.promptTokens.observe(o.usage.prompt_tokens);
      s.completionTokens.observe(o.usage.completion_tokens);
      if (o.ttftSeconds !== undefined && o.usage.completion_tokens > 1)
        s.interTokenLatency.observe(Math.max(0, o.totalSeconds - o.ttftSeconds) / (o.usage.completion_tokens - 1));
      s.promptTokenTotal.inc(o.usage.prompt_tokens);
      s.completionTokenTotal.inc(o.usage.completion_tokens);
      s.cost.inc(costUsd(o.usage, dep.config.price));
      p.baselineCost.inc(costUsd(o.usage, o.routing.baselinePrice));
    }
  }
}

/** The series a request served by `deployment` of `model` under `policy` adds to. */
function servedSeries(m: RouterMetrics, policy: string, model: string, deployment: string) {
  return {
    duration: histogramSeries(m.requestDuration, { policy, model }),
    upstream: histogramSeries(m.upstreamDuration, { model, deployment }),
    ttft: histogramSeries(m.timeToFirstToken, { model }),
    interTokenLatency: histogramSeries(m.interTokenLatency, { model }),
    promptTokens: histogramSeries(m.promptTokens, { model }),
    completionTokens: histogramSeries(m.completionTokens, { model }),
    promptTokenTotal: counterSeries(m.tokens, { model, type: 'prompt' }),
    completionTokenTotal: counterSeries(m.tokens, { model, type: 'completion' }),
    cost: counterSeries(m.cost, { policy, model }),
  };
}
