import { ROUTER_METRICS as M } from '@llm-router/common/metric-names';
import { buildDashboard, labelVariable, Layout, stat, timeseries, type DashboardSpec } from './panels.ts';

const model = 'model=~"$model"';

export function deploymentsDashboard() {
  const layout = new Layout()
    .row('Health')
    .add(
      stat({
        title: 'Healthy deployments',
        description: 'Deployments taking traffic now.',
        unit: 'short',
        w: 6,
        queries: [{ expr: `sum(${M.deploymentState}{state="healthy", ${model}})` }],
      }),
      stat({
        title: 'Cooling down',
        description: 'Deployments out of rotation after failures or an upstream 429.',
        unit: 'short',
        w: 6,
        queries: [{ expr: `sum(${M.deploymentState}{state="cooling", ${model}})` }],
      }),
      stat({
        title: 'Retries/s',
        description: 'Retries on another deployment of the same model.',
        unit: 'reqps',
        w: 6,
        queries: [{ expr: `sum(rate(${M.retries}{${model}}[$__rate_interval]))` }],
      }),
      stat({
        title: 'Fallbacks/s',
        description: 'Requests served by a fallback model.',
        unit: 'reqps',
        w: 6,
        queries: [{ expr: `sum(rate(${M.fallbacks}[$__rate_interval]))` }],
      }),
      timeseries({
        title: 'Deployment state',
        description: '1 = healthy, 0 = cooling down, per deployment.',
        unit: 'bool',
        w: 12,
        min: 0,
        queries: [{ expr: `${M.deploymentState}{state="healthy", ${model}}`, legend: '{{deployment}}' }],
      }),
      timeseries({
        title: 'Cooldowns',
        description: 'Times a deployment was taken out of rotation, by reason.',
        unit: 'short',
        w: 12,
        queries: [
          {
            expr: `sum by (deployment, reason) (increase(${M.deploymentCooldowns}{${model}}[$__rate_interval]))`,
            legend: '{{deployment}} ({{reason}})',
          },
        ],
      }),
    )
    .row('Failures and recovery')
    .add(
      timeseries({
        title: 'Deployment failures by reason',
        description:
          'Failed upstream attempts per second by deployment and reason (HTTP status, timeout, connection error).',
        unit: 'reqps',
        w: 12,
        stacked: true,
        queries: [
          {
            expr: `sum by (deployment, reason) (rate(${M.deploymentFailures}{${model}}[$__rate_interval]))`,
            legend: '{{deployment}} {{reason}}',
          },
        ],
      }),
      timeseries({
        title: 'Retries by reason',
        description: 'Retries per second by model and the failure that caused them.',
        unit: 'reqps',
        w: 12,
        queries: [
          {
            expr: `sum by (model, reason) (rate(${M.retries}{${model}}[$__rate_interval]))`,
            legend: '{{model}} after {{reason}}',
          },
        ],
      }),
      timeseries({
        title: 'Fallbacks',
        description: 'Requests per second served by a fallback, by original model, fallback and reason.',
        unit: 'reqps',
        w: 12,
        queries: [
          {
            expr: `sum by (from, to, reason) (rate(${M.fallbacks}[$__rate_interval]))`,
            legend: '{{from}} → {{to}} ({{reason}})',
          },
        ],
      }),
      timeseries({
        title: 'Rate limiting',
        description: 'Rate limits met: local (deployment at its rpm/tpm, skipped) or upstream (429).',
        unit: 'reqps',
        w: 12,
        queries: [
          {
            expr: `sum by (model, source) (rate(${M.rateLimited}{${model}}[$__rate_interval]))`,
            legend: '{{model}} {{source}}',
          },
        ],
      }),
    )
    .row('Capacity')
    .add(
      timeseries({
        title: 'RPM headroom',
        description: 'Requests left this minute under each rate-limited deployment rpm.',
        unit: 'short',
        w: 8,
        queries: [{ expr: `${M.deploymentRpmRemaining}{${model}}`, legend: '{{deployment}}' }],
      }),
      timeseries({
        title: 'In flight per deployment',
        description: 'Requests open on each deployment.',
        unit: 'short',
        w: 8,
        queries: [{ expr: `${M.deploymentInFlight}{${model}}`, legend: '{{deployment}}' }],
      }),
      timeseries({
        title: 'Upstream latency p95 by deployment',
        description: 'Upstream call latency to the last byte, p95 per deployment.',
        unit: 's',
        w: 8,
        queries: [
          {
            expr: `histogram_quantile(0.95, sum by (le, deployment) (rate(${M.upstreamDuration}_bucket{${model}}[$__rate_interval])))`,
            legend: '{{deployment}}',
          },
        ],
      }),
    );
  const spec: DashboardSpec = {
    uid: 'llm-router-deployments',
    title: 'LLM Router deployments',
    description: 'Deployment health, cooldowns, failures, retries, fallbacks, rate limiting and headroom.',
    folder: 'llm-router',
    tags: ['llm-router', 'resilience'],
    variables: [labelVariable('model', 'Model', M.deploymentState)],
    layout,
  };
  return { spec, dashboard: buildDashboard(spec) };
}
