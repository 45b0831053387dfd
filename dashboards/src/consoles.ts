// The Grafana dashboards as Prometheus console templates (prometheus/consoles/<uid>.html): the same panels, queries
// and units, rendered by Prometheus itself where Grafana does not run (the native stack). Stats are evaluated by
// Prometheus when the page loads; graphs are drawn by its prom_console.js. Template variables become URL parameters
// (?model=...&policy=..., regular expressions, all by default) and the time range ?range= (15m by default).
import type { Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';

interface PanelJson {
  type: string;
  title: string;
  description?: string;
  fieldConfig?: {
    defaults?: { unit?: string };
    /** Per-query units (a stat of several figures): matcher byFrameRefID. */
    overrides?: Array<{
      matcher: { id: string; options?: unknown };
      properties: Array<{ id: string; value?: unknown }>;
    }>;
  };
  targets?: Array<{ expr: string; legendFormat?: string; refId?: string }>;
}

/** The unit of one query of a panel: its own override, else the panel's. */
function unitOf(p: PanelJson, refId: string | undefined): string | undefined {
  const own = p.fieldConfig?.overrides?.find((o) => o.matcher.id === 'byFrameRefID' && o.matcher.options === refId);
  const unit = own?.properties.find((x) => x.id === 'unit')?.value;
  return typeof unit === 'string' ? unit : p.fieldConfig?.defaults?.unit;
}

/** The console page of a dashboard, relative to Prometheus's /consoles/. */
export const consoleFile = (uid: string) => `${uid}.html`;
/** Default time range of graphs and of stats "over the range". */
export const CONSOLE_RANGE = '15m';
/** What $__rate_interval becomes: four scrapes of the stack's 5 s interval, and then some. */
const RATE_INTERVAL = '1m';

const escapeHtml = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
/** Text placed literally in a Go template: a "{{" in it must not open an action. */
const literal = (s: string) => escapeHtml(s).replaceAll('{{', '{{ "{{" }}');

/** Grafana's unit -> how Go's template functions print a value (stats). */
function statFormat(unit: string | undefined): string {
  switch (unit) {
    case 'percentunit':
      return 'humanizePercentage';
    case 's':
      return 'humanizeDuration';
    case 'currencyUSD':
      return 'printf "$%.4f"';
    case 'bytes':
      return 'humanize1024 | printf "%sB"';
    case 'reqps':
      return 'humanize | printf "%s req/s"';
    default:
      return 'humanize';
  }
}

/** Grafana's unit -> the graph's axis formatter (defined in the page) and units. */
function graphFormat(unit: string | undefined): { formatter: string; units: string } {
  switch (unit) {
    case 'percentunit':
      return { formatter: 'LLM_FORMAT.percent', units: '%' };
    case 's':
      return { formatter: 'PromConsole.NumberFormatter.humanize', units: 's' };
    case 'currencyUSD':
      return { formatter: 'LLM_FORMAT.usd', units: ' USD' };
    case 'bytes':
      return { formatter: 'PromConsole.NumberFormatter.humanize1024', units: 'B' };
    case 'reqps':
      return { formatter: 'PromConsole.NumberFormatter.humanizeNoSmallPrefix', units: ' /s' };
    default:
      return { formatter: 'PromConsole.NumberFormatter.humanizeNoSmallPrefix', units: '' };
  }
}

/**
 * A panel's PromQL as a Go template expression: variables become the page's parameters (by explicit index, so
 * printf never reports extra arguments), Grafana's macros fixed windows.
 */
export function templateExpr(expr: string, variables: string[]): string {
  const used: string[] = [];
  const plain = expr.replaceAll('$__rate_interval', RATE_INTERVAL).replaceAll('$__interval', RATE_INTERVAL);
  if (plain.includes('`')) throw new Error(`a backtick in PromQL cannot be templated: ${expr}`);
  const format = plain.replaceAll('%', '%%').replace(/\$(__range|\w+)/g, (whole, name: string) => {
    const variable = name === '__range' ? 'range' : name;
    if (variable !== 'range' && !variables.includes(variable)) return whole;
    if (!used.includes(variable)) used.push(variable);
    return `%[${used.indexOf(variable) + 1}]s`;
  });
  return used.length ? `(printf \`${format}\` ${used.map((v) => `$${v}`).join(' ')})` : `\`${plain}\``;
}

/**
 * Grafana's legend "{{model}} p95" -> a naming function for prom_console.js (its own "[[model]]" interpolation
 * drops the text after the last label).
 */
export function legendFunction(format: string): string {
  const parts = format.split(/\{\{\s*(\w+)\s*\}\}/);
  const pieces = parts
    .map((part, i) => (i % 2 ? `(m[${JSON.stringify(part)}] || "")` : part ? JSON.stringify(part) : ''))
    .filter(Boolean);
  return `function (m) { return ${pieces.join(' + ') || '""'}; }`;
}

function statHtml(p: PanelJson, variables: string[]): string {
  // One figure, or several side by side, each named by its legend ("saved $X · quality retained Y%").
  const figures = p.targets!.map((q) => {
    const value = `{{ with query ${templateExpr(q.expr, variables)} }}{{ . | first | value | ${statFormat(unitOf(p, q.refId))} }}{{ else }}no data{{ end }}`;
    return p.targets!.length > 1
      ? `<span class="llm-stat-name">${literal(q.legendFormat ?? '')}</span> ${value}`
      : value;
  });
  return `<div class="llm-stat" title="${literal(p.description ?? '')}">
  <div class="llm-stat-value" data-panel="${literal(p.title)}">${figures.join(' <span class="llm-stat-sep">·</span> ')}</div>
  <div class="llm-stat-title">${literal(p.title)}</div>
</div>`;
}

function graphHtml(p: PanelJson, variables: string[], id: string): string {
  const heatmap = p.type === 'heatmap';
  // A heatmap's buckets (sum by (le)) become two quantile lines: the console graphs draw lines only.
  const series = heatmap
    ? [0.5, 0.95].map((q) => ({
        expr: `histogram_quantile(${q}, ${p.targets![0]!.expr})`,
        legend: `p${q * 100}` as string | undefined,
      }))
    : p.targets!.map((t) => ({ expr: t.expr, legend: t.legendFormat }));
  const { formatter, units } = graphFormat(p.fieldConfig?.defaults?.unit);
  const exprs = series.map((s) => `"{{ ${templateExpr(s.expr, variables)} }}"`).join(',\n      ');
  const names = series
    .map((s) => (s.legend ? legendFunction(s.legend) : 'function (m) { return JSON.stringify(m); }'))
    .join(', ');
  return `<div class="llm-graph" data-panel="${literal(p.title)}">
  <h3 title="${literal(p.description ?? '')}">${literal(p.title)}${heatmap ? ' <small>(p50 and p95 of the heatmap)</small>' : ''}</h3>
  <div id="${id}"></div>
  <script>
    new PromConsole.Graph({
      node: document.querySelector("#${id}"),
      expr: [
      ${exprs}
      ],
      name: [${names}],
      yAxisFormatter: ${formatter},
      yHoverFormatter: ${formatter},
      yUnits: "${units}",
      yTitle: "",
      min: 0,
    });
  </script>
</div>`;
}

export interface ConsoleLink {
  title: string;
  file: string;
}

/** One dashboard as a console page; `links` are the other pages, for the navigation bar. */
export function consolePage(dashboard: Dashboard, links: ConsoleLink[]): string {
  const panels = (dashboard.panels ?? []) as PanelJson[];
  const variables = (dashboard.templating?.list ?? []).map((v) => v.name);
  const params = ['range', ...variables];
  const sections: string[] = [];
  let stats: string[] = [];
  let graphs: string[] = [];
  const flush = () => {
    if (stats.length) sections.push(`<div class="llm-stats">\n${stats.join('\n')}\n</div>`);
    if (graphs.length) sections.push(`<div class="llm-graphs">\n${graphs.join('\n')}\n</div>`);
    stats = [];
    graphs = [];
  };
  panels.forEach((p, i) => {
    if (p.type === 'row') {
      flush();
      sections.push(`<h2>${literal(p.title)}</h2>`);
    } else if (p.type === 'stat') stats.push(statHtml(p, variables));
    else if (p.targets?.length) graphs.push(graphHtml(p, variables, `graph${i}`));
  });
  flush();
  const defaults = params.map((v) => `{{ $${v} := or .Params.${v} "${v === 'range' ? CONSOLE_RANGE : '.*'}" }}`);
  const filterInputs = params
    .map((v) => `<label>${v} <input name="${v}" value="{{ $${v} }}" size="${v === 'range' ? 4 : 14}"></label>`)
    .join('\n  ');
  const nav = links
    .map(
      (l) =>
        `<a href="{{ pathPrefix }}/consoles/${l.file}"${l.title === dashboard.title ? ' class="active"' : ''}>${literal(l.title)}</a>`,
    )
    .join('\n  ');
  return `{{/* Generated from dashboards/src by dashboards/src/generate.ts (make dashboards). Do not edit by hand. */}}
${defaults.join('\n')}
<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${literal(dashboard.title ?? '')}</title>
{{ template "prom_console_head" }}
<style>
  body { background: #f6f7fa; }
  .llm-page { padding: 12px 20px; }
  .llm-nav a { margin-right: 14px; } .llm-nav a.active { font-weight: 700; }
  .llm-filters { margin: 8px 0 4px; font-size: 13px; } .llm-filters label { margin-right: 12px; }
  h2 { font-size: 18px; margin: 22px 0 8px; }
  .llm-stats { display: flex; flex-wrap: wrap; gap: 10px; }
  .llm-stat { background: #fff; border: 1px solid #e2e5ec; border-radius: 6px; padding: 8px 14px; min-width: 150px; }
  .llm-stat-value { font-size: 22px; font-weight: 600; }
  .llm-stat-title { font-size: 12px; color: #6b7385; }
  .llm-stat-name { font-size: 13px; font-weight: 400; color: #6b7385; } .llm-stat-sep { color: #c3c8d4; }
  .llm-graphs { display: grid; grid-template-columns: repeat(auto-fill, minmax(560px, 1fr)); gap: 12px; margin-top: 10px; }
  .llm-graph { background: #fff; border: 1px solid #e2e5ec; border-radius: 6px; padding: 8px; overflow: hidden; }
  .llm-graph h3 { font-size: 14px; margin: 0 0 6px; }
</style>
<script>
  // Graphs start on the page's range (?range=, ${CONSOLE_RANGE} by default) unless the time control's own link says otherwise.
  if (window.location.hash.indexOf('#pctc') !== 0) {
    PromConsole.TimeControl._initialValues.duration = PromConsole.TimeControl.prototype.parseDuration("{{ $range }}");
    PromConsole.graphDefaults.duration = PromConsole.TimeControl._initialValues.duration;
  }
  var LLM_FORMAT = {
    percent: function (x) { return PromConsole.NumberFormatter.humanizeNoSmallPrefix(x * 100); },
    usd: function (x) { return x === 0 ? "0" : Math.abs(x) >= 1 ? x.toFixed(2) : x.toPrecision(2); },
  };
</script>
</head>
<body>
<div class="llm-page">
<h1>${literal(dashboard.title ?? '')}</h1>
<div class="llm-nav">
  ${nav}
  <a href="{{ pathPrefix }}/consoles/runbooks.html">Runbooks</a>
</div>
<form class="llm-filters" method="get">
  ${filterInputs}
  <button type="submit">Apply</button> <span class="text-muted">(regular expressions; stats are as of page load)</span>
</form>
{{ template "prom_graph_timecontrol" . }}
${sections.join('\n')}
</div>
</body>
</html>
`;
}

/** Every dashboard's console page, by file name. */
export function consolePages(dashboards: Dashboard[]): Record<string, string> {
  const links = dashboards.map((d) => ({ title: d.title ?? d.uid!, file: consoleFile(d.uid!) }));
  return Object.fromEntries(dashboards.map((d) => [consoleFile(d.uid!), consolePage(d, links)]));
}
