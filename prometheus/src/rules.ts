// Recording rules (what dashboards and alerts share) and alert rules, written against the metric name
// modules so a renamed metric breaks the build, not a dashboard.
import { ROUTER_METRICS as R } from '@llm-router/router/metrics-names';
import { LOADTEST_METRICS as L } from '@llm-router/loadtest/metrics-names';

/** Recorded series names: dashboards import these too. */
export const RECORDED = {
  requestRate: 'llm_router:requests:rate1m',
  errorRatio: 'llm_router:error_ratio:rate1m',
  latencyQuantile: 'llm_router:request_duration_seconds:quantile1m',
  overheadQuantile: 'llm_router:overhead_seconds:quantile1m',
  costPerHour: 'llm_router:cost_usd_per_hour:rate5m',
  baselineCostPerHour: 'llm_router:baseline_cost_usd_per_hour:rate5m',
  loadtestRequestRate: 'loadtest:requests:rate1m',
  loadtestFailureRatio: 'loadtest:failure_ratio:rate1m',
} as const;

/** Alert thresholds, in one place for the rules and their tests. */
export const ALERT_THRESHOLDS = {
  errorRatio: 0.05,
  overheadP99Seconds: 0.05,
  loadtestFailureRatio: 0.05,
} as const;

const quantiles = (record: string, histogram: string, by: string) =>
  [0.5, 0.95, 0.99].map((q) => ({
    record,
    expr: `histogram_quantile(${q}, sum by (le${by ? `, ${by}` : ''}) (rate(${histogram}_bucket[1m])))`,
    labels: { quantile: String(q) },
  }));

export const recordingRules = {
  groups: [
    {
      name: 'llm_router_recording',
      interval: '15s',
      rules: [
        { record: RECORDED.requestRate, expr: `sum by (policy, class, model, status) (rate(${R.requests}[1m]))` },
        {
          record: RECORDED.errorRatio,
          expr: `sum(rate(${R.requests}{status=~"5.."}[1m])) / clamp_min(sum(rate(${R.requests}[1m])), 1e-9)`,
        },
        ...quantiles(RECORDED.latencyQuantile, R.requestDuration, ''),
        ...quantiles(RECORDED.overheadQuantile, R.overhead, ''),
        { record: RECORDED.costPerHour, expr: `sum by (model) (rate(${R.cost}[5m])) * 3600` },
        { record: RECORDED.baselineCostPerHour, expr: `sum(rate(${R.baselineCost}[5m])) * 3600` },
      ],
    },
    {
      name: 'loadtest_recording',
      interval: '15s',
      rules: [
        { record: RECORDED.loadtestRequestRate, expr: `sum by (model, policy, status) (rate(${L.requests}[1m]))` },
        {
          record: RECORDED.loadtestFailureRatio,
          expr: `sum(rate(${L.requests}{status!~"2.."}[1m])) / clamp_min(sum(rate(${L.requests}[1m])), 1e-9)`,
        },
      ],
    },
  ],
};

export const alertRules = {
  groups: [
    {
      name: 'llm_router_alerts',
      rules: [
        {
          alert: 'LLMRouterHighErrorRate',
          expr: `${RECORDED.errorRatio} > ${ALERT_THRESHOLDS.errorRatio}`,
          for: '2m',
          labels: { severity: 'critical' },
          annotations: {
            summary: 'More than 5% of router requests fail with 5xx',
            description: 'Error ratio is {{ $value | humanizePercentage }} over the last minute.',
          },
        },
        {
          alert: 'LLMRouterOverheadP99High',
          expr: `${RECORDED.overheadQuantile}{quantile="0.99"} > ${ALERT_THRESHOLDS.overheadP99Seconds}`,
          for: '5m',
          labels: { severity: 'warning' },
          annotations: {
            summary: 'Router overhead p99 above 50 ms',
            description:
              'The router adds {{ $value | humanizeDuration }} at p99 (time not spent waiting on upstreams).',
          },
        },
        {
          alert: 'LLMRouterDeploymentCoolingDown',
          expr: `${R.deploymentState}{state="cooling"} > 0`, // > 0: with several workers, the fraction of workers that see it cooling
          for: '1m',
          labels: { severity: 'warning' },
          annotations: {
            summary: 'Deployment {{ $labels.deployment }} of {{ $labels.model }} is cooling down',
            description:
              'It failed repeatedly and is out of rotation; traffic goes to its other deployments or fallbacks.',
          },
        },
        {
          alert: 'LLMRouterAllDeploymentsDown',
          expr: `sum by (model) (${R.deploymentState}{state="healthy"}) == 0`,
          for: '1m',
          labels: { severity: 'critical' },
          annotations: {
            summary: 'Every deployment of {{ $labels.model }} is cooling down',
            description: 'Requests for this model are answered 503 or served by fallbacks.',
          },
        },
        {
          alert: 'LLMRouterTargetDown',
          expr: 'up == 0',
          for: '1m',
          labels: { severity: 'critical' },
          annotations: {
            summary: '{{ $labels.job }} on {{ $labels.instance }} is not being scraped',
            description: 'Prometheus cannot reach the target.',
          },
        },
      ],
    },
    {
      name: 'loadtest_alerts',
      rules: [
        {
          alert: 'LoadtestFailureRatioHigh',
          expr: `${RECORDED.loadtestFailureRatio} > ${ALERT_THRESHOLDS.loadtestFailureRatio}`,
          for: '2m',
          labels: { severity: 'warning' },
          annotations: {
            summary: 'More than 5% of load test requests fail',
            description: 'Failure ratio is {{ $value | humanizePercentage }}.',
          },
        },
      ],
    },
  ],
};
