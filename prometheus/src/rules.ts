// Recording rules (what dashboards and alerts share) and alert rules, written against the metric name
// modules so a renamed metric breaks the build, not a dashboard.
import { ROUTER_METRICS as R } from '@llm-router/common/metric-names';
import { LOADTEST_METRICS as L } from '@llm-router/loadtest/metrics-names';
import { RUNBOOKS_CONSOLE, runbookAnchor } from './runbooks.ts';

/** Recorded series names: dashboards import these too. */
export const RECORDED = {
  requestRate: 'llm_router:requests:rate1m',
  errorRatio: 'llm_router:error_ratio:rate1m',
  overheadQuantile: 'llm_router:overhead_seconds:quantile1m',
  /** Share of requests answered 5xx over each burn-rate window (availability SLO). */
  errorRatioOver: (w: BurnWindow) => `llm_router:request_errors:ratio_rate${w}`,
  /** Share of streams whose first token came later than the TTFT SLO threshold, over each window. */
  slowTtftRatioOver: (w: BurnWindow) => `llm_router:ttft_slow:ratio_rate${w}`,
  loadtestFailureRatio: 'loadtest:failure_ratio:rate1m',
  /** Share of judged answers as good as the reference model's (same or better), by policy, over each window. */
  qualityRetainedOver: (w: QualityWindow) => `llm_router:shadow_quality_retained:ratio_rate${w}`,
  /** Judged answers over the last hour, by policy: the alert's minimum sample. */
  judgedLastHour: 'llm_router:shadow_verdicts:increase1h',
} as const;

/** Service level objectives the burn-rate alerts defend. */
export const SLO = {
  /** 99.5% of requests are not answered 5xx. */
  availability: 0.995,
  /** 95% of streams get their first token within 2 s (a bucket boundary of the TTFT histogram). */
  ttft: { target: 0.95, thresholdSeconds: 2 },
  /**
   * 90% of the answers shadow evaluation judges are as good as the reference model's (same or better). The alert
   * fires at twice the budget of worse answers, over 1 h and 5 m, once at least `minJudged` were judged in the hour.
   */
  qualityRetained: { target: 0.9, burn: 2, minJudged: 20 },
} as const;
type QualityWindow = '5m' | '1h';
const QUALITY_WINDOWS: QualityWindow[] = ['5m', '1h'];

/** Alert thresholds, in one place for the rules, their tests and the dashboards' stat colours. */
export const ALERT_THRESHOLDS = {
  errorRatio: 0.05,
  overheadP99Seconds: 0.05,
  modelTtftP95Seconds: 5,
  modelLatencyP95Seconds: 60,
  modelInterTokenP95Seconds: 0.2,
  fallbackRatio: 0.1,
  /** A deployment (or every deployment of a model) out for more than this share of the last 5 minutes. */
  outShareOf5m: 0.25,
  loadtestFailureRatio: 0.05,
} as const;

/** Multiwindow, multi-burn-rate (the Google SRE workbook / kubernetes-mixin pattern): page fast, ticket slow. */
type BurnWindow = '5m' | '30m' | '1h' | '6h';
const BURN_RATES = [
  { severity: 'critical', long: '1h', short: '5m', factor: 14.4, for: '2m' },
  { severity: 'warning', long: '6h', short: '30m', factor: 6, for: '15m' },
] as const;
const BURN_WINDOWS: BurnWindow[] = ['5m', '30m', '1h', '6h'];

/**
 * Each alert links to its runbook section (docs/runbooks.md): by default the page the alert's own Prometheus serves
 * (an absolute link through its external URL, so any receiver can open it); RUNBOOK_BASE_URL at generation points
 * the links elsewhere (a wiki, the repository's file on its host).
 */
export const RUNBOOK_BASE = process.env.RUNBOOK_BASE_URL || `{{ $externalURL }}/${RUNBOOKS_CONSOLE}`;
const runbook = (alert: string) => `${RUNBOOK_BASE}#${runbookAnchor(alert)}`;

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
          // 0 (not an empty result) when requests came and none failed: an empty ratio reads as "no data".
          record: RECORDED.errorRatio,
          expr: `(sum(rate(${R.requests}{status=~"5.."}[1m])) or vector(0)) / clamp_min(sum(rate(${R.requests}[1m])), 1e-9)`,
        },
        ...quantiles(RECORDED.overheadQuantile, R.overhead, ''),
      ],
    },
    {
      // The SLO ratios over every window the burn-rate alerts compare (0 when there was no traffic).
      name: 'llm_router_slo',
      interval: '30s',
      rules: BURN_WINDOWS.flatMap((w) => [
        {
          record: RECORDED.errorRatioOver(w),
          expr: `(sum(rate(${R.requests}{status=~"5.."}[${w}])) or vector(0)) / clamp_min(sum(rate(${R.requests}[${w}])), 1e-9)`,
        },
        {
          record: RECORDED.slowTtftRatioOver(w),
          expr: `(sum(rate(${R.timeToFirstToken}_count[${w}])) - sum(rate(${R.timeToFirstToken}_bucket{le="${SLO.ttft.thresholdSeconds}"}[${w}]))) / clamp_min(sum(rate(${R.timeToFirstToken}_count[${w}])), 1e-9)`,
        },
      ]),
    },
    {
      // Quality retained: verdicts of shadow evaluation (0 when every judged answer was worse).
      name: 'llm_router_quality',
      interval: '30s',
      rules: [
        ...QUALITY_WINDOWS.map((w) => ({
          record: RECORDED.qualityRetainedOver(w),
          expr: `(sum by (policy) (rate(${R.shadowVerdicts}{verdict=~"same|better"}[${w}])) or sum by (policy) (rate(${R.shadowVerdicts}[${w}])) * 0) / clamp_min(sum by (policy) (rate(${R.shadowVerdicts}[${w}])), 1e-9)`,
        })),
        { record: RECORDED.judgedLastHour, expr: `sum by (policy) (increase(${R.shadowVerdicts}[1h]))` },
      ],
    },
    {
      name: 'loadtest_recording',
      interval: '15s',
      rules: [
        {
          record: RECORDED.loadtestFailureRatio,
          expr: `(sum(rate(${L.requests}{status!~"2.."}[1m])) or vector(0)) / clamp_min(sum(rate(${L.requests}[1m])), 1e-9)`,
        },
      ],
    },
  ],
};

interface AlertSpec {
  alert: string;
  expr: string;
  for: string;
  severity: 'critical' | 'warning';
  summary: string;
  description: string;
  labels?: Record<string, string>;
}
const alert = (a: AlertSpec) => ({
  alert: a.alert,
  expr: a.expr,
  for: a.for,
  labels: { severity: a.severity, ...a.labels },
  annotations: { summary: a.summary, description: a.description, runbook_url: runbook(a.alert) },
});

const T = ALERT_THRESHOLDS;
/** Quality retained under this (the objective's budget of worse answers burnt `burn` times over) fires the alert. */
const qualityFloor = Math.round((1 - (1 - SLO.qualityRetained.target) * SLO.qualityRetained.burn) * 1000) / 1000;
const pct = (x: number) => `${Math.round(x * 1000) / 10}%`;
const p95By = (histogram: string, by: string, window: string) =>
  `histogram_quantile(0.95, sum by (le, ${by}) (rate(${histogram}_bucket[${window}])))`;

/** The page and ticket alerts of one SLO: its bad-event ratio over the long and the short window both burn fast. */
const burnRateAlerts = (
  name: string,
  ratioOver: (w: BurnWindow) => string,
  target: number,
  text: (b: (typeof BURN_RATES)[number]) => { summary: string; description: string },
) =>
  BURN_RATES.map((b) => {
    const budget = `${b.factor} * ${(1 - target).toFixed(4)}`;
    return alert({
      alert: name,
      expr: `${ratioOver(b.long)} > ${budget} and ${ratioOver(b.short)} > ${budget}`,
      for: b.for,
      severity: b.severity,
      labels: { long: b.long, short: b.short },
      ...text(b),
    });
  });

export const alertRules = {
  groups: [
    {
      name: 'llm_router_alerts',
      rules: [
        alert({
          alert: 'LLMRouterHighErrorRate',
          expr: `${RECORDED.errorRatio} > ${T.errorRatio}`,
          for: '2m',
          severity: 'critical',
          summary: `More than ${pct(T.errorRatio)} of router requests fail with 5xx`,
          description: 'Error ratio is {{ $value | humanizePercentage }} over the last minute.',
        }),
        ...burnRateAlerts('LLMRouterErrorBudgetBurn', RECORDED.errorRatioOver, SLO.availability, (b) => ({
          summary: `The ${pct(SLO.availability)} availability SLO's error budget burns ${b.factor}x too fast`,
          description: `5xx answers over the last ${b.long} and ${b.short} are ${b.factor} times what the SLO allows ({{ $value | humanizePercentage }} over ${b.long}); at this rate the month's budget is gone in ${Math.round((30 * 24) / b.factor)} hours.`,
        })),
        ...burnRateAlerts('LLMRouterTTFTBudgetBurn', RECORDED.slowTtftRatioOver, SLO.ttft.target, (b) => ({
          summary: `Streams miss the time-to-first-token SLO (${pct(SLO.ttft.target)} within ${SLO.ttft.thresholdSeconds} s) ${b.factor}x too often`,
          description: `{{ $value | humanizePercentage }} of streams over the last ${b.long} got their first token later than ${SLO.ttft.thresholdSeconds} s.`,
        })),
        alert({
          alert: 'LLMRouterOverheadP99High',
          expr: `${RECORDED.overheadQuantile}{quantile="0.99"} > ${T.overheadP99Seconds}`,
          for: '5m',
          severity: 'warning',
          summary: `Router overhead p99 above ${T.overheadP99Seconds * 1000} ms`,
          description: 'The router adds {{ $value | humanizeDuration }} at p99 (time not spent waiting on upstreams).',
        }),
        alert({
          alert: 'LLMRouterModelTTFTHigh',
          expr: `${p95By(R.timeToFirstToken, 'model', '5m')} > ${T.modelTtftP95Seconds}`,
          for: '5m',
          severity: 'warning',
          summary: `Time to first token p95 of {{ $labels.model }} above ${T.modelTtftP95Seconds} s`,
          description:
            'Streams from {{ $labels.model }} wait {{ $value | humanizeDuration }} for their first token (p95, 5m).',
        }),
        alert({
          alert: 'LLMRouterModelLatencyHigh',
          expr: `${p95By(R.requestDuration, 'model', '5m')} > ${T.modelLatencyP95Seconds}`,
          for: '10m',
          severity: 'warning',
          summary: `End-to-end latency p95 of {{ $labels.model }} above ${T.modelLatencyP95Seconds} s`,
          description: 'Requests served by {{ $labels.model }} take {{ $value | humanizeDuration }} at p95 (5m).',
        }),
        alert({
          alert: 'LLMRouterModelInterTokenLatencyHigh',
          expr: `${p95By(R.interTokenLatency, 'model', '5m')} > ${T.modelInterTokenP95Seconds}`,
          for: '10m',
          severity: 'warning',
          summary: `Inter-token latency p95 of {{ $labels.model }} above ${T.modelInterTokenP95Seconds * 1000} ms`,
          description:
            '{{ $labels.model }} streams a token every {{ $value | humanizeDuration }} at p95 (5m): readers see text crawl.',
        }),
        alert({
          alert: 'LLMRouterFallbackRateHigh',
          expr: `sum by (from) (rate(${R.fallbacks}[10m])) / scalar(clamp_min(sum(rate(${R.requests}[10m])), 1e-9)) > ${T.fallbackRatio}`,
          for: '10m',
          severity: 'warning',
          summary: `More than ${pct(T.fallbackRatio)} of requests fall back from {{ $labels.from }}`,
          description:
            '{{ $value | humanizePercentage }} of all requests are served by a fallback of {{ $labels.from }} (10m).',
        }),
        alert({
          alert: 'LLMRouterDeploymentCoolingDown',
          // Over a window, not "cooling now for 1m": a 30 s cooldown that keeps coming back must alert too.
          expr: `avg_over_time(${R.deploymentState}{state="cooling"}[5m]) > ${T.outShareOf5m}`,
          for: '1m',
          severity: 'warning',
          summary: 'Deployment {{ $labels.deployment }} of {{ $labels.model }} keeps cooling down',
          description: `It was out of rotation {{ $value | humanizePercentage }} of the last 5 minutes (failures or upstream 429s); traffic goes to its other deployments or fallbacks.`,
        }),
        alert({
          alert: 'LLMRouterAllDeploymentsDown',
          expr: `avg_over_time((sum by (model) (${R.deploymentState}{state="healthy"}) == bool 0)[5m:15s]) > ${T.outShareOf5m}`,
          for: '1m',
          severity: 'critical',
          summary: 'Every deployment of {{ $labels.model }} keeps cooling down',
          description:
            'No deployment of {{ $labels.model }} could serve for {{ $value | humanizePercentage }} of the last 5 minutes: requests get 503s or fallbacks.',
        }),
        alert({
          alert: 'LLMRouterSharedStateDown',
          expr: `min(${R.sharedStateConnected}) == 0`,
          for: '1m',
          severity: 'warning',
          summary: 'A router replica cannot reach Redis',
          description:
            'At least one replica enforces its own share of each rate limit (limit / replicas) instead of the shared one; cooldowns are not shared.',
        }),
        alert({
          alert: 'LLMRouterQualityRetainedLow',
          expr: `${RECORDED.qualityRetainedOver('1h')} < ${qualityFloor} and ${RECORDED.qualityRetainedOver('5m')} < ${qualityFloor} and ${RECORDED.judgedLastHour} >= ${SLO.qualityRetained.minJudged}`,
          for: '5m',
          severity: 'warning',
          summary: `Policy {{ $labels.policy }} keeps under ${pct(qualityFloor)} of its reference model's quality`,
          description: `Only {{ $value | humanizePercentage }} of the answers shadow evaluation judged over the last hour were as good as the reference model's (objective ${pct(SLO.qualityRetained.target)}): the policy saves on answers that matter.`,
        }),
        alert({
          alert: 'LLMRouterTargetDown',
          expr: 'up == 0',
          for: '1m',
          severity: 'critical',
          summary: '{{ $labels.job }} on {{ $labels.instance }} is not being scraped',
          description: 'Prometheus cannot reach the target.',
        }),
      ],
    },
    {
      name: 'loadtest_alerts',
      rules: [
        alert({
          alert: 'LoadtestFailureRatioHigh',
          expr: `${RECORDED.loadtestFailureRatio} > ${T.loadtestFailureRatio}`,
          for: '2m',
          severity: 'warning',
          summary: `More than ${pct(T.loadtestFailureRatio)} of load test requests fail`,
          description: 'Failure ratio is {{ $value | humanizePercentage }}.',
        }),
      ],
    },
  ],
};
