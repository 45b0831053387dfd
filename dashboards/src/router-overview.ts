import { ROUTER_METRICS as M } from '@llm-router/common/metric-names';
import { ALERT_THRESHOLDS as T, SLO } from '@llm-router/prometheus-config';
import { buildDashboard, heatmap, labelVariable, Layout, stat, timeseries, type DashboardSpec } from './panels.ts';

// Every panel honours the variables its series can: policy and model where the metric has them, policy alone
// where it has only that (overhead, baseline cost), none for process-wide series (in flight, auth).
const sel = 'policy=~"$policy", model=~"$model"';
const byPolicy = 'policy=~"$policy"';
const byModel = 'model=~"$model"';
const rate = (metric: string, by: string, filter = sel) =>
  `sum by (${by}) (rate(${metric}{${filter}}[$__rate_interval]))`;
const quantile = (q: number, histogram: string, by: string, filter: string) =>
  `histogram_quantile(${q}, sum by (le${by ? `, ${by}` : ''}) (rate(${histogram}_bucket{${filter}}[$__rate_interval])))`;
const mean = (histogram: string, by: string, filter: string) =>
  `sum by (${by}) (rate(${histogram}_sum{${filter}}[$__rate_interval])) / sum by (${by}) (rate(${histogram}_count{${filter}}[$__rate_interval]))`;
/** p50, p95, p99 and mean of a histogram per model, for one panel. */
const perModelLatency = (histogram: string, filter: string) => [
  ...[0.5, 0.95, 0.99].map((q) => ({ expr: quantile(q, histogram, 'model', filter), legend: `{{model}} p${q * 100}` })),
  { expr: mean(histogram, 'model', filter), legend: '{{model}} mean' },
];
/** Share of judged answers as good as the reference's (same or better); 0, not "no data", when all were worse. */
const retained = (by: string, window: string, fn: 'rate' | 'increase') =>
  `(sum by (${by}) (${fn}(${M.shadowVerdicts}{${byPolicy}, verdict=~"same|better"}[${window}])) or sum by (${by}) (${fn}(${M.shadowVerdicts}{${byPolicy}}[${window}])) * 0) / clamp_min(sum by (${by}) (${fn}(${M.shadowVerdicts}{${byPolicy}}[${window}])), 1e-9)`;
/** Quality retained under this fires LLMRouterQualityRetainedLow (its stat turns red there). */
const qualityFloor = 1 - (1 - SLO.qualityRetained.target) * SLO.qualityRetained.burn;

/** 5xx share of requests; 0 (not "No data") when there were none. */
const errorRatio = (by: string) =>
  `(sum by (${by}) (rate(${M.requests}{${sel}, status=~"5.."}[$__rate_interval])) or ${by ? `sum by (${by}) (rate(${M.requests}{${sel}}[$__rate_interval])) * 0` : 'vector(0)'}) / clamp_min(sum by (${by}) (rate(${M.requests}{${sel}}[$__rate_interval])), 1e-9)`;

export function routerOverview() {
  const layout = new Layout()
    .row('Now')
    .add(
      stat({
        title: 'Requests/s',
        description: 'Requests per second, all statuses, for the selected policies and models.',
        unit: 'reqps',
        w: 3,
        queries: [{ expr: `sum(rate(${M.requests}{${sel}}[$__rate_interval]))` }],
      }),
      stat({
        title: 'Error ratio',
        description: `Share of requests answered 5xx. Red from ${T.errorRatio * 100}%, where LLMRouterHighErrorRate fires.`,
        unit: 'percentunit',
        w: 3,
        decimals: 2,
        alertAt: T.errorRatio,
        queries: [{ expr: errorRatio('') }],
      }),
      stat({
        title: 'Latency p95',
        description: `End-to-end latency p95 seen by the router. Red from ${T.modelLatencyP95Seconds} s (LLMRouterModelLatencyHigh).`,
        unit: 's',
        w: 3,
        alertAt: T.modelLatencyP95Seconds,
        queries: [{ expr: quantile(0.95, M.requestDuration, '', sel) }],
      }),
      stat({
        title: 'TTFT p95',
        description: `Time to first token of streams, p95. Red from ${T.modelTtftP95Seconds} s (LLMRouterModelTTFTHigh).`,
        unit: 's',
        w: 3,
        alertAt: T.modelTtftP95Seconds,
        queries: [{ expr: quantile(0.95, M.timeToFirstToken, '', byModel) }],
      }),
      stat({
        title: 'Router overhead p99',
        description: `Time the router adds (not waiting on upstreams), p99, by policy only. Red from ${T.overheadP99Seconds * 1000} ms (LLMRouterOverheadP99High).`,
        unit: 's',
        w: 3,
        alertAt: T.overheadP99Seconds,
        queries: [{ expr: quantile(0.99, M.overhead, '', byPolicy) }],
      }),
      stat({
        title: 'In flight',
        description: 'Requests the router is serving right now (all replicas).',
        unit: 'short',
        w: 3,
        queries: [{ expr: `sum(${M.inFlight})` }],
      }),
      stat({
        title: 'Cost in range',
        description: 'USD spent on routed requests over the dashboard time range.',
        unit: 'currencyUSD',
        w: 3,
        decimals: 4,
        queries: [{ expr: `sum(increase(${M.cost}{${sel}}[$__range])) or vector(0)` }],
      }),
      stat({
        title: 'Savings vs baseline',
        description:
          'Share of cost saved over the time range, against sending the same requests to each policy baseline model (by policy).',
        unit: 'percentunit',
        w: 3,
        decimals: 1,
        queries: [
          {
            expr: `1 - sum(increase(${M.cost}{${byPolicy}}[$__range])) / clamp_min(sum(increase(${M.baselineCost}{${byPolicy}}[$__range])), 1e-12)`,
          },
        ],
      }),
    )
    .row('Traffic')
    .add(
      timeseries({
        title: 'Requests by model',
        description: 'Requests per second by the model that served them.',
        unit: 'reqps',
        w: 8,
        stacked: true,
        queries: [{ expr: rate(M.requests, 'model'), legend: '{{model}}' }],
      }),
      timeseries({
        title: 'Requests by policy',
        description: 'Requests per second by routing policy (manual = routed by model name).',
        unit: 'reqps',
        w: 8,
        stacked: true,
        queries: [{ expr: rate(M.requests, 'policy'), legend: '{{policy}}' }],
      }),
      timeseries({
        title: 'Class distribution per policy',
        description: 'What the classifiers decided: requests per second by policy and class.',
        unit: 'reqps',
        w: 8,
        stacked: true,
        queries: [{ expr: rate(M.requests, 'policy, class'), legend: '{{policy}} / {{class}}' }],
      }),
      timeseries({
        title: 'Responses by status',
        description: 'Requests per second by HTTP status.',
        unit: 'reqps',
        w: 8,
        stacked: true,
        queries: [{ expr: rate(M.requests, 'status'), legend: '{{status}}' }],
      }),
      timeseries({
        title: 'Error ratio by model',
        description: `Share of each model's requests answered 5xx (the alert threshold is ${T.errorRatio * 100}% overall).`,
        unit: 'percentunit',
        w: 8,
        queries: [{ expr: errorRatio('model'), legend: '{{model}}' }],
      }),
      timeseries({
        title: 'Requests by client key',
        description: 'Requests per second by client API key name (anonymous without auth).',
        unit: 'reqps',
        w: 4,
        stacked: true,
        queries: [{ expr: `sum by (client) (rate(${M.clientRequests}[$__rate_interval]))`, legend: '{{client}}' }],
      }),
      timeseries({
        title: 'Auth failures',
        description: 'Requests refused 401, by reason (missing or invalid key).',
        unit: 'reqps',
        w: 4,
        stacked: true,
        queries: [{ expr: `sum by (reason) (rate(${M.authFailures}[$__rate_interval]))`, legend: '{{reason}}' }],
      }),
    )
    .row('Routing quality')
    .add(
      stat({
        title: 'Strong-model calls',
        description:
          'Share of the requests of quality policies (those that score prompts) sent to their strongest model over the time range. The thresholds set it: make routing-calibrate SHARE=... computes them for a share you choose.',
        unit: 'percentunit',
        w: 4,
        decimals: 1,
        queries: [
          {
            // 0, not "no data", when quality policies served traffic and none of it went to the strongest model.
            expr: `(sum(increase(${M.requests}{${byPolicy}, class="strong"}[$__range])) or sum(increase(${M.strongNeedScore}_count{${byPolicy}}[$__range])) * 0) / clamp_min(sum(increase(${M.strongNeedScore}_count{${byPolicy}}[$__range])), 1e-9)`,
          },
        ],
      }),
      timeseries({
        title: 'Strong-model share by policy',
        description: 'Share of each quality policy\'s requests sent to its strongest model (class "strong").',
        unit: 'percentunit',
        w: 7,
        queries: [
          {
            expr: `(sum by (policy) (rate(${M.requests}{${byPolicy}, class="strong"}[$__rate_interval])) or sum by (policy) (rate(${M.strongNeedScore}_count{${byPolicy}}[$__rate_interval])) * 0) / clamp_min(sum by (policy) (rate(${M.strongNeedScore}_count{${byPolicy}}[$__rate_interval])), 1e-9)`,
            legend: '{{policy}}',
          },
        ],
      }),
      timeseries({
        title: 'Strong-need score',
        description:
          'How much prompts need the strong model (0..1: the learned probability that the cheap model fails where the strong one succeeds), p50 and p90 by quality policy. A shift means the traffic changed: recalibrate the thresholds.',
        unit: 'short',
        w: 7,
        queries: [0.5, 0.9].map((q) => ({
          expr: quantile(q, M.strongNeedScore, 'policy', byPolicy),
          legend: `{{policy}} p${q * 100}`,
        })),
      }),
      timeseries({
        title: 'Conversation sessions',
        description:
          'Later turns of policy-routed conversations by what their session did: kept (same model), up (a stronger model), held (a cheaper decision overruled, so the conversation did not drop mid-task), new (no session found).',
        unit: 'reqps',
        w: 6,
        stacked: true,
        queries: [
          {
            expr: `sum by (outcome) (rate(${M.sessionDecisions}{${byPolicy}}[$__rate_interval]))`,
            legend: '{{outcome}}',
          },
        ],
      }),
    )
    .row('Quality')
    .add(
      stat({
        title: 'Saved at quality retained',
        description:
          'The headline: USD routing saved over the time range (what the same requests would have cost on each policy baseline model, less what they cost), beside the share of judged answers as good as the reference model (shadow evaluation).',
        unit: 'currencyUSD',
        w: 8,
        decimals: 4,
        queries: [
          {
            expr: `(sum(increase(${M.baselineCost}{${byPolicy}}[$__range])) - sum(increase(${M.cost}{${byPolicy}}[$__range]))) or vector(0)`,
            legend: 'saved',
          },
          { expr: retained('', '$__range', 'increase'), legend: 'quality retained', unit: 'percentunit' },
        ],
      }),
      stat({
        title: 'Quality retained',
        description: `Share of the answers shadow evaluation judged (a policy's shadow: the reference model answers the same request, a judge compares both orders) that were as good as the reference model's: same or better, over the time range. Red under ${qualityFloor * 100}%, where LLMRouterQualityRetainedLow fires (objective ${SLO.qualityRetained.target * 100}%).`,
        unit: 'percentunit',
        w: 5,
        decimals: 1,
        alertAt: qualityFloor,
        alertBelow: true,
        queries: [{ expr: retained('', '$__range', 'increase') }],
      }),
      stat({
        title: 'Shadow spend in range',
        description:
          'USD shadow evaluation spent on reference answers and judge calls over the time range (capped per policy by max_usd_per_hour), counted apart from the requests.',
        unit: 'currencyUSD',
        w: 5,
        decimals: 4,
        queries: [{ expr: `sum(increase(${M.shadowCost}{${byPolicy}}[$__range])) or vector(0)` }],
      }),
      stat({
        title: 'Feedback score',
        description:
          'Mean score clients gave answers over the time range (POST /v1/feedback: 0 bad .. 1 good; thumbs down 0, up 1).',
        unit: 'percentunit',
        w: 6,
        decimals: 1,
        queries: [
          {
            expr: `sum(increase(${M.feedbackScore}_sum{${byPolicy}}[$__range])) / clamp_min(sum(increase(${M.feedbackScore}_count{${byPolicy}}[$__range])), 1e-9)`,
          },
        ],
      }),
      timeseries({
        title: 'Quality retained by policy and model',
        description:
          "Share of judged answers as good as the reference model's (same or better), by policy and the model that answered, over 5-minute windows.",
        unit: 'percentunit',
        w: 12,
        queries: [{ expr: retained('policy, model', '5m', 'rate'), legend: '{{policy}} / {{model}}' }],
      }),
      timeseries({
        title: 'Feedback score by model and class',
        description:
          'Mean client feedback score (0..1) by the model that answered and the class the policy chose, over 5-minute windows.',
        unit: 'percentunit',
        w: 12,
        queries: [
          {
            expr: `sum by (model, class) (rate(${M.feedbackScore}_sum{${byPolicy}}[5m])) / sum by (model, class) (rate(${M.feedbackScore}_count{${byPolicy}}[5m]))`,
            legend: '{{model}} / {{class}}',
          },
        ],
      }),
      timeseries({
        title: 'Shadow spend vs savings',
        description:
          'USD per hour: what routing saves against the baseline models, and what shadow evaluation spends to measure its quality.',
        unit: 'currencyUSD',
        w: 12,
        queries: [
          {
            expr: `(sum(rate(${M.baselineCost}{${byPolicy}}[5m])) - sum(rate(${M.cost}{${byPolicy}}[5m]))) * 3600`,
            legend: 'saved by routing',
          },
          { expr: `sum(rate(${M.shadowCost}{${byPolicy}}[5m])) * 3600`, legend: 'shadow evaluation' },
        ],
      }),
      timeseries({
        title: 'Shadow verdicts and drops',
        description:
          'Judged answers per second by verdict against the reference (better, same, worse), and sampled answers not judged by reason (queue_full, rate_limit, budget, failed).',
        unit: 'reqps',
        w: 12,
        queries: [
          { expr: `sum by (verdict) (rate(${M.shadowVerdicts}{${byPolicy}}[5m]))`, legend: '{{verdict}}' },
          { expr: `sum by (reason) (rate(${M.shadowDropped}{${byPolicy}}[5m]))`, legend: 'dropped: {{reason}}' },
        ],
      }),
    )
    .row('Latency')
    .add(
      timeseries({
        title: 'End-to-end latency by model',
        description: 'p50 / p95 / p99 and mean latency of requests at the router, to the last byte, by serving model.',
        unit: 's',
        w: 12,
        queries: perModelLatency(M.requestDuration, sel),
      }),
      timeseries({
        title: 'Time to first token by model',
        description: 'From request arrival to the first streamed token: p50 / p95 / p99 and mean by model.',
        unit: 's',
        w: 12,
        queries: perModelLatency(M.timeToFirstToken, byModel),
      }),
      timeseries({
        title: 'Inter-token latency by model',
        description: `Time per output token of streams after the first, p50 / p95 and mean (LLMRouterModelInterTokenLatencyHigh above ${T.modelInterTokenP95Seconds * 1000} ms at p95).`,
        unit: 's',
        w: 8,
        queries: [
          ...[0.5, 0.95].map((q) => ({
            expr: quantile(q, M.interTokenLatency, 'model', byModel),
            legend: `{{model}} p${q * 100}`,
          })),
          { expr: mean(M.interTokenLatency, 'model', byModel), legend: '{{model}} mean' },
        ],
      }),
      timeseries({
        title: 'Router overhead',
        description: 'Time the router adds: end-to-end latency minus upstream time, p50 / p99 by policy.',
        unit: 's',
        w: 8,
        queries: [0.5, 0.99].map((q) => ({
          expr: quantile(q, M.overhead, 'policy', byPolicy),
          legend: `{{policy}} p${q * 100}`,
        })),
      }),
      timeseries({
        title: 'Classification time (p99)',
        description: 'Time to classify a request, p99 by classifier.',
        unit: 's',
        w: 8,
        queries: [{ expr: quantile(0.99, M.classificationDuration, 'classifier', ''), legend: '{{classifier}}' }],
      }),
    )
    .row('Lengths')
    .add(
      heatmap({
        title: 'Prompt length',
        description: 'Prompt tokens of served requests (upstream usage), per time bucket.',
        unit: 'short',
        w: 12,
        queries: [{ expr: `sum by (le) (increase(${M.promptTokens}_bucket{${byModel}}[$__rate_interval]))` }],
      }),
      heatmap({
        title: 'Completion length',
        description: 'Completion tokens of served requests (upstream usage), per time bucket.',
        unit: 'short',
        w: 12,
        queries: [{ expr: `sum by (le) (increase(${M.completionTokens}_bucket{${byModel}}[$__rate_interval]))` }],
      }),
    )
    .row('Tokens and cost')
    .add(
      timeseries({
        title: 'Tokens/s by model',
        description: 'Prompt and completion tokens per second, from upstream usage.',
        unit: 'short',
        w: 8,
        stacked: true,
        queries: [
          {
            expr: `sum by (model, type) (rate(${M.tokens}{${byModel}}[$__rate_interval]))`,
            legend: '{{model}} {{type}}',
          },
        ],
      }),
      timeseries({
        title: 'Cost per hour by model',
        description: 'USD per hour at the current request rate, stacked: the top line is the total.',
        unit: 'currencyUSD',
        w: 8,
        stacked: true,
        queries: [{ expr: `sum by (model) (rate(${M.cost}{${sel}}[$__rate_interval])) * 3600`, legend: '{{model}}' }],
      }),
      timeseries({
        title: 'Cost per hour vs baseline',
        description:
          'USD per hour routed, and what the same requests would cost on each policy baseline model (by policy).',
        unit: 'currencyUSD',
        w: 8,
        queries: [
          { expr: `sum(rate(${M.cost}{${byPolicy}}[$__rate_interval])) * 3600`, legend: 'routed' },
          { expr: `sum(rate(${M.baselineCost}{${byPolicy}}[$__rate_interval])) * 3600`, legend: 'baseline' },
        ],
      }),
    )
    .row('Fleet')
    .add(
      stat({
        title: 'Router replicas up',
        description: 'Router replicas Prometheus scrapes successfully (ROUTER_REPLICAS, or the Kubernetes Deployment).',
        unit: 'short',
        w: 4,
        queries: [{ expr: 'count(up{job="llm-router"} == 1)' }],
      }),
      stat({
        title: 'Replicas on shared state',
        description:
          'Replicas whose rate limits and cooldowns are shared through Redis; one that cannot reach Redis enforces limit / replicas on its own until it can.',
        unit: 'short',
        w: 4,
        queries: [{ expr: `sum(${M.sharedStateConnected})` }],
      }),
      timeseries({
        title: 'Requests/s by replica',
        description: 'How the load balancer spreads requests over the replicas.',
        unit: 'reqps',
        w: 8,
        queries: [{ expr: rate(M.requests, 'instance'), legend: '{{instance}}' }],
      }),
      timeseries({
        title: 'Decisions on local limits',
        description:
          'Requests to rate-limited deployments decided without Redis (it did not answer), per second by replica.',
        unit: 'reqps',
        w: 8,
        queries: [
          {
            expr: `sum by (instance) (rate(${M.sharedStateLocalDecisions}[$__rate_interval]))`,
            legend: '{{instance}}',
          },
        ],
      }),
    );

  const spec: DashboardSpec = {
    uid: 'llm-router-overview',
    title: 'LLM Router overview',
    description: 'Requests, latency, router overhead, tokens and cost of the LLM router.',
    folder: 'llm-router',
    tags: ['llm-router'],
    // Policies and models that served requests (not "none", the label of requests refused before routing).
    variables: [
      labelVariable('policy', 'Policy', `${M.requestDuration}_count`),
      labelVariable('model', 'Model', `${M.requestDuration}_count`),
    ],
    layout,
  };
  return { spec, dashboard: buildDashboard(spec) };
}
