import { ROUTER_METRICS as R } from '@llm-router/common/metric-names';
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
      queries: [
        { expr: `max by (job, instance) (${m('nodejs_eventloop_lag_p99_seconds')})`, legend: '{{job}} {{instance}}' },
      ],
    }),
    timeseries({
      title: 'CPU',
      description: 'CPU seconds per second used by each process (1 = one core).',
      unit: 'percentunit',
      w: 12,
      queries: [
        {
          expr: `sum by (job, instance) (rate(${m('process_cpu_seconds_total')}[$__rate_interval]))`,
          legend: '{{job}} {{instance}}',
        },
      ],
    }),
    timeseries({
      title: 'Resident memory',
      description: 'Resident set size of each process (with --workers, the sum over the workers).',
      unit: 'bytes',
      w: 12,
      queries: [
        { expr: `sum by (job, instance) (${m('process_resident_memory_bytes')})`, legend: '{{job}} {{instance}}' },
      ],
    }),
    timeseries({
      title: 'Heap used',
      description: 'V8 heap in use.',
      unit: 'bytes',
      w: 12,
      queries: [
        { expr: `sum by (job, instance) (${m('nodejs_heap_size_used_bytes')})`, legend: '{{job}} {{instance}}' },
      ],
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
      description: 'Active libuv handles (sockets, timers), all types added up, per process.',
      unit: 'short',
      w: 12,
      // The metric is split by handle type: the total is their sum (max would show only the largest type).
      queries: [{ expr: `sum by (job, instance) (${m('nodejs_active_handles')})`, legend: '{{job}} {{instance}}' }],
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
