import { LOADTEST_METRICS as L } from '@llm-router/loadtest/metrics-names';
import { ALERT_THRESHOLDS as T } from '@llm-router/prometheus-config';
import { buildDashboard, labelVariable, Layout, stat, timeseries, type DashboardSpec } from './panels.ts';

const model = 'model=~"$model"';
const quantile = (q: number) =>
  `histogram_quantile(${q}, sum by (le) (rate(${L.requestDuration}_bucket{${model}}[$__rate_interval])))`;

export function loadtestDashboard() {
  const layout = new Layout()
    .row('Load')
    .add(
      stat({
        title: 'Users',
        description: 'Simulated users (closed loop) or requests in flight (open loop).',
        unit: 'short',
        w: 6,
        queries: [{ expr: `sum(${L.users})` }],
      }),
      stat({
        title: 'Client requests/s',
        description: 'Requests per second sent by the load generator.',
        unit: 'reqps',
        w: 6,
        queries: [{ expr: `sum(rate(${L.requests}{${model}}[$__rate_interval]))` }],
      }),
      stat({
        title: 'Failure ratio',
        description: `Share of load test requests that failed. Red from ${T.loadtestFailureRatio * 100}%, where LoadtestFailureRatioHigh fires.`,
        unit: 'percentunit',
        w: 6,
        decimals: 2,
        alertAt: T.loadtestFailureRatio,
        queries: [
          {
            expr: `(sum(rate(${L.requests}{status!~"2..", ${model}}[$__rate_interval])) or on() vector(0)) / clamp_min(sum(rate(${L.requests}{${model}}[$__rate_interval])), 1e-9)`,
          },
        ],
      }),
      stat({
        title: 'Load test cost in range',
        description: 'USD spent by the load test over the dashboard time range, from usage and router prices.',
        unit: 'currencyUSD',
        w: 6,
        decimals: 4,
        queries: [{ expr: `sum(increase(${L.cost}{${model}}[$__range])) or vector(0)` }],
      }),
      timeseries({
        title: 'Users and requests in flight',
        description: 'Simulated users and requests in flight over time.',
        unit: 'short',
        w: 8,
        queries: [
          { expr: `sum(${L.users})`, legend: 'users' },
          { expr: `sum(${L.inFlight})`, legend: 'in flight' },
        ],
      }),
      timeseries({
        title: 'Client requests/s by model',
        description: 'Requests per second by the model the router chose.',
        unit: 'reqps',
        w: 8,
        stacked: true,
        queries: [{ expr: `sum by (model) (rate(${L.requests}{${model}}[$__rate_interval]))`, legend: '{{model}}' }],
      }),
      timeseries({
        title: 'Client latency',
        description: 'Latency seen by the load generator (open loop: from the intended start).',
        unit: 's',
        w: 8,
        queries: [
          { expr: quantile(0.5), legend: 'p50' },
          { expr: quantile(0.95), legend: 'p95' },
          { expr: quantile(0.99), legend: 'p99' },
        ],
      }),
    )
    .row('Failures, tokens and cost')
    .add(
      timeseries({
        title: 'Failures by status',
        description: 'Failed requests per second by HTTP status or error (timeout, connection_error).',
        unit: 'reqps',
        w: 8,
        stacked: true,
        queries: [
          {
            // 0 rather than "No data" when nothing failed.
            expr: `sum by (status) (rate(${L.requests}{status!~"2..", ${model}}[$__rate_interval])) or on() vector(0)`,
            legend: '{{status}}',
          },
        ],
      }),
      timeseries({
        title: 'Prompt and completion tokens/s',
        description: 'Tokens per second reported in responses, by model and type.',
        unit: 'short',
        w: 8,
        stacked: true,
        queries: [
          {
            expr: `sum by (model, type) (rate(${L.tokens}{${model}}[$__rate_interval]))`,
            legend: '{{model}} {{type}}',
          },
        ],
      }),
      timeseries({
        title: 'Cost by model',
        description: 'Cumulative USD by model during the load test.',
        unit: 'currencyUSD',
        w: 8,
        stacked: true,
        queries: [{ expr: `sum by (model) (${L.cost}{${model}})`, legend: '{{model}}' }],
      }),
      timeseries({
        title: 'Time to first token (client, p50)',
        description: 'Streamed answers: time to the first content token seen by the client.',
        unit: 's',
        w: 12,
        queries: [
          {
            expr: `histogram_quantile(0.5, sum by (le, model) (rate(${L.timeToFirstToken}_bucket{${model}}[$__rate_interval])))`,
            legend: '{{model}}',
          },
        ],
      }),
      timeseries({
        title: 'Requests by policy',
        description: 'Requests per second by the policy that routed them.',
        unit: 'reqps',
        w: 12,
        stacked: true,
        queries: [{ expr: `sum by (policy) (rate(${L.requests}{${model}}[$__rate_interval]))`, legend: '{{policy}}' }],
      }),
    );
  const spec: DashboardSpec = {
    uid: 'llm-loadtest',
    title: 'Load test',
    description: 'The load generator: users, client-side request rate and latency, failures, tokens and cost.',
    folder: 'load-test',
    tags: ['loadtest'],
    variables: [labelVariable('model', 'Model', L.requests)],
    layout,
  };
  return { spec, dashboard: buildDashboard(spec) };
}
