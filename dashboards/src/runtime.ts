import { ROUTER_METRICS as R } from '@llm-router/router/metrics-names';
import { buildDashboard, labelVariable, Layout, timeseries, type DashboardSpec } from './panels.ts';

// Each service prefixes its Node process metrics (llm_router_, llm_sim_, loadtest_); the job label says which.
const m = (suffix: string) => `{__name__=~".+_${suffix}", job=~"$job"}`;

export function runtimeDashboard() {
  const layout = new Layout().row('Node.js runtime').add(
    timeseries({
      title: 'Event loop lag p99',
      description: 'How late timers fire: the first sign of a saturated Node process.',
      unit: 's',
      w: 12,
      queries: [{ expr: `max by (job) (${m('nodejs_eventloop_lag_p99_seconds')})`, legend: '{{job}}' }],
    }),
    timeseries({
      title: 'CPU',
      description: 'CPU seconds per second used by each process (1 = one core).',
      unit: 'percentunit',
      w: 12,
      queries: [
        { expr: `sum by (job) (rate(${m('process_cpu_seconds_total')}[$__rate_interval]))`, legend: '{{job}}' },
      ],
    }),
    timeseries({
      title: 'Resident memory',
      description: 'Resident set size of each process.',
      unit: 'bytes',
      w: 12,
      queries: [{ expr: `max by (job) (${m('process_resident_memory_bytes')})`, legend: '{{job}}' }],
    }),
    timeseries({
      title: 'Heap used',
      description: 'V8 heap in use.',
      unit: 'bytes',
      w: 12,
      queries: [{ expr: `max by (job) (${m('nodejs_heap_size_used_bytes')})`, legend: '{{job}}' }],
    }),
    timeseries({
      title: 'GC time',
      description: 'Seconds per second spent in garbage collection, by kind.',
      unit: 'percentunit',
      w: 12,
      stacked: true,
      queries: [
        {
          expr: `sum by (job, kind) (rate(${m('nodejs_gc_duration_seconds_sum')}[$__rate_interval]))`,
          legend: '{{job}} {{kind}}',
        },
      ],
    }),
    timeseries({
      title: 'Open handles',
      description: 'Active libuv handles (sockets, timers).',
      unit: 'short',
      w: 12,
      queries: [{ expr: `max by (job) (${m('nodejs_active_handles')})`, legend: '{{job}}' }],
    }),
    timeseries({
      title: 'Router worker processes',
      description:
        'Live router workers (--workers N); a dip means a worker crashed and was replaced. Memory and CPU above are summed over workers.',
      unit: 'short',
      w: 24,
      queries: [{ expr: `sum by (instance) (${R.workers})`, legend: '{{instance}}' }],
    }),
  );
  const spec: DashboardSpec = {
    uid: 'llm-runtime',
    title: 'Runtime',
    description: 'Event loop lag, CPU, memory and GC of the router, llm-sim and the load generator.',
    folder: 'runtime',
    tags: ['runtime'],
    variables: [labelVariable('job', 'Service', 'up')],
    layout,
  };
  return { spec, dashboard: buildDashboard(spec) };
}
