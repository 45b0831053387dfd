// What `stack up` prints: a working address for each service and for the pages a person opens next (the dashboard,
// graphs, alerts, targets, runbooks). Pages are found by asking the running services, not assumed: Debian's
// Prometheus serves its UI under /classic/ (its /alerts is a 404) and Debian's Alertmanager has no web UI at all.
import { RECORDED } from '@llm-router/prometheus-config';
import { answersHttp } from './http-probe.ts';
import type { StackState } from './state.ts';

export interface Link {
  label: string;
  /** Absent: the service was not started (see note). */
  url?: string;
  note?: string;
}

/** The graphs the launcher's graph link opens, one panel each (the overview's Now row, as graphs). */
export const GRAPH_PANELS = [
  `sum by (model) (${RECORDED.requestRate})`,
  RECORDED.errorRatio,
  'histogram_quantile(0.95, sum by (le, model) (rate(llm_router_request_duration_seconds_bucket[1m])))',
  'sum by (model) (rate(llm_router_cost_usd_total[1m])) * 3600',
];
export const GRAPH_RANGE = '15m';

/** A Prometheus graph page with several panels, each on the Graph tab over the last 15 minutes. */
export function graphUrl(prometheus: string, uiPrefix: string, exprs = GRAPH_PANELS): string {
  const params = new URLSearchParams();
  exprs.forEach((expr, i) => {
    params.set(`g${i}.expr`, expr);
    params.set(`g${i}.tab`, '0'); // 0 = Graph, 1 = Table
    params.set(`g${i}.range_input`, GRAPH_RANGE);
  });
  return `${prometheus}${uiPrefix}/graph?${params}`;
}

/** '/classic' where Prometheus serves its pages there (Debian's build, which has no new UI), else ''. */
export async function prometheusUiPrefix(prometheus: string): Promise<string> {
  if (await answersHttp(`${prometheus}/alerts`, { okOnly: true })) return '';
  return (await answersHttp(`${prometheus}/classic/alerts`, { okOnly: true })) ? '/classic' : '';
}

/** Whether Alertmanager serves its web UI (Debian's build answers that it has none). */
export async function alertmanagerHasUi(alertmanager: string): Promise<boolean> {
  try {
    const res = await fetch(`${alertmanager}/`, { signal: AbortSignal.timeout(2000) });
    const text = await res.text();
    return res.ok && !/does not include\s+a\s+web\s+application/i.test(text);
  } catch {
    return false;
  }
}

const LABELS: Record<string, string> = {
  router: 'Router (OpenAI API)',
  redis: 'Redis (shared limits)',
  'llm-sim': 'Simulated models',
  loadtest: 'Load test UI',
  prometheus: 'Prometheus',
  alertmanager: 'Alertmanager',
  grafana: 'Grafana',
};

const label = (name: string) => {
  const replica = /^router-(\d+)$/.exec(name);
  return replica ? `Router replica ${replica[1]}` : (LABELS[name] ?? name);
};

/** The services, then the pages to open, as printed by `stack up`. */
export async function stackLinks(state: StackState): Promise<{ services: Link[]; pages: Link[] }> {
  const services: Link[] = [];
  const url = (name: string) => state.services.find((s) => s.name === name)?.url;
  for (const s of state.services) {
    if (!s.url) {
      services.push({ label: label(s.name), note: 'running (no address)' });
      continue;
    }
    if (s.name.startsWith('router'))
      services.push({ label: label(s.name), url: `${s.url}/v1`, note: 'OpenAI base URL' });
    else if (s.name === 'grafana')
      services.push({ label: `${label(s.name)} (admin / secret)`, url: s.url, note: 'dashboards' });
    else if (s.name === 'alertmanager')
      services.push(
        (await alertmanagerHasUi(s.url))
          ? { label: label(s.name), url: s.url }
          : { label: label(s.name), url: `${s.url}/api/v2/alerts`, note: 'API only: this build has no web UI' },
      );
    else services.push({ label: label(s.name), url: s.url });
  }
  for (const s of state.skipped) services.push({ label: label(s.name), note: `not started: ${s.reason}` });

  const pages: Link[] = [];
  const prometheus = url('prometheus');
  if (prometheus) {
    const ui = await prometheusUiPrefix(prometheus);
    const grafana = url('grafana');
    pages.push({
      label: 'Dashboard',
      url: grafana ? `${grafana}/d/llm-router-overview` : `${prometheus}/consoles/llm-router-overview.html`,
      note: grafana
        ? 'Grafana'
        : 'served by Prometheus, as no Grafana runs here; the overview, with links to the others',
    });
    pages.push({ label: 'Graphs', url: graphUrl(prometheus, ui), note: 'requests, errors, p95 latency, cost/hour' });
    pages.push({ label: 'Alerts', url: `${prometheus}${ui}/alerts` });
    pages.push({ label: 'Targets', url: `${prometheus}${ui}/targets` });
    pages.push({ label: 'Runbooks', url: `${prometheus}/consoles/runbooks.html` });
  }
  return { services, pages };
}

export function formatLinks(links: { services: Link[]; pages: Link[] }): string {
  const line = (l: Link) =>
    `  ${l.label.padEnd(26)} ${[l.url, l.note && (l.url ? `(${l.note})` : l.note)].filter(Boolean).join('  ')}`;
  const out = [...links.services.map(line)];
  if (links.pages.length) out.push('', 'Open:', ...links.pages.map(line));
  return out.join('\n');
}
