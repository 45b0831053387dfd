import { ROUTER_METRICS as M } from '@llm-router/router/metrics-names';
import { RECORDED } from '@llm-router/prometheus-config';
import { buildDashboard, labelVariable, Layout, stat, timeseries, type DashboardSpec } from './panels.ts';

const sel = 'policy=~"$policy", model=~"$model"';
const rate = (metric: string, by: string, filter = sel) =>
  `sum by (${by}) (rate(${metric}{${filter}}[$__rate_interval]))`;

export function routerOverview() {
  const layout = new Layout()
    .row('Now')
    .add(
      stat({
        title: 'Requests/s',
        description: 'Chat completion requests per second, all statuses.',
        unit: 'reqps',
        w: 4,
        queries: [{ expr: `sum(rate(${M.requests}{${sel}}[$__rate_interval]))` }],
      }),
      stat({
        title: 'Error ratio',
        description: 'Share of requests answered 5xx (recorded over 1m).',
        unit: 'percentunit',
        w: 4,
        decimals: 2,
        queries: [{ expr: RECORDED.errorRatio }],
      }),
      stat({
        title: 'Latency p95',
        description: 'End-to-end latency p95 seen by the router (recorded over 1m).',
        unit: 's',
        w: 4,
        queries: [{ expr: `${RECORDED.latencyQuantile}{quantile="0.95"}` }],
      }),
      stat({
        title: 'Router overhead p99',
        description: 'Time the router adds (not waiting on upstreams), p99 over 1m.',
        unit: 's',
        w: 4,
        queries: [{ expr: `${RECORDED.overheadQuantile}{quantile="0.99"}` }],
      }),
      stat({
        title: 'Cost per hour',
        description: 'USD per hour at the current request rate (5m).',
        unit: 'currencyUSD',
        w: 4,
        decimals: 4,
        queries: [{ expr: `sum(${RECORDED.costPerHour})` }],
      }),
      stat({
        title: 'Savings vs baseline',
        description:
          'Share of cost saved compared with sending everything to each policy baseline model, since the router started.',
        unit: 'percentunit',
        w: 4,
        decimals: 1,
        queries: [{ expr: `1 - sum(${M.cost}) / sum(${M.baselineCost})` }],
      }),
    )
    .row('Traffic')
    .add(
      timeseries({
        title: 'Requests by model',
        description: 'Requests per second by the model that served them.',
        unit: 'reqps',
        w: 12,
        stacked: true,
        queries: [{ expr: rate(M.requests, 'model'), legend: '{{model}}' }],
      }),
      timeseries({
        title: 'Requests by policy',
        description: 'Requests per second by routing policy (manual = routed by model name).',
        unit: 'reqps',
        w: 12,
        stacked: true,
        queries: [{ expr: rate(M.requests, 'policy'), legend: '{{policy}}' }],
      }),
      timeseries({
        title: 'Class distribution per policy',
        description: 'What the classifiers decided: requests per second by policy and class.',
        unit: 'reqps',
        w: 12,
        stacked: true,
        queries: [{ expr: rate(M.requests, 'policy, class'), legend: '{{policy}} / {{class}}' }],
      }),
      timeseries({
        title: 'Responses by status',
        description: 'Requests per second by HTTP status.',
        unit: 'reqps',
        w: 12,
        stacked: true,
        queries: [{ expr: rate(M.requests, 'status'), legend: '{{status}}' }],
      }),
    )
    .row('Latency')
    .add(
      timeseries({
        title: 'End-to-end latency',
        description: 'p50 / p95 / p99 latency of chat completions at the router (recorded).',
        unit: 's',
        w: 12,
        queries: [{ expr: RECORDED.latencyQuantile, legend: 'p{{quantile}}' }],
      }),
      timeseries({
        title: 'Router overhead',
        description: 'Time the router adds: end-to-end latency minus upstream time. Sub-millisecond is normal.',
        unit: 's',
        w: 12,
        queries: [{ expr: `${RECORDED.overheadQuantile}{quantile=~"0.5|0.99"}`, legend: 'p{{quantile}}' }],
      }),
      timeseries({
        title: 'LLM response time by model (p95)',
        description: 'Upstream call latency to the last byte, p95 by model.',
        unit: 's',
        w: 8,
        queries: [
          {
            expr: `histogram_quantile(0.95, sum by (le, model) (rate(${M.upstreamDuration}_bucket{model=~"$model"}[$__rate_interval])))`,
            legend: '{{model}}',
          },
        ],
      }),
      timeseries({
        title: 'Time to first token by model (p50)',
        description: 'From request arrival to the first streamed token, p50 by model.',
        unit: 's',
        w: 8,
        queries: [
          {
            expr: `histogram_quantile(0.5, sum by (le, model) (rate(${M.timeToFirstToken}_bucket{model=~"$model"}[$__rate_interval])))`,
            legend: '{{model}}',
          },
        ],
      }),
      timeseries({
        title: 'Classification time (p99)',
        description: 'Time to classify a request, p99 by classifier.',
        unit: 's',
        w: 8,
        queries: [
          {
            expr: `histogram_quantile(0.99, sum by (le, classifier) (rate(${M.classificationDuration}_bucket[$__rate_interval])))`,
            legend: '{{classifier}}',
          },
        ],
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
            expr: `sum by (model, type) (rate(${M.tokens}{model=~"$model"}[$__rate_interval]))`,
            legend: '{{model}} {{type}}',
          },
        ],
      }),
      timeseries({
        title: 'Cost per hour by model',
        description: 'USD per hour at the current rate (recorded over 5m).',
        unit: 'currencyUSD',
        w: 8,
        stacked: true,
        queries: [{ expr: `${RECORDED.costPerHour}{model=~"$model"}`, legend: '{{model}}' }],
      }),
      timeseries({
        title: 'Cumulative cost vs baseline',
        description: 'Total USD spent, and what the same tokens would have cost on each policy baseline model.',
        unit: 'currencyUSD',
        w: 8,
        queries: [
          { expr: `sum(${M.cost})`, legend: 'routed' },
          { expr: `sum(${M.baselineCost})`, legend: 'baseline' },
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
    variables: [labelVariable('policy', 'Policy', M.requests), labelVariable('model', 'Model', M.requests)],
    layout,
  };
  return { spec, dashboard: buildDashboard(spec) };
}
