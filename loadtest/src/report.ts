// Run results as a terminal table, JSON, CSV and a self-contained HTML page; and --fail-on checks.
import type { RunSummary } from './runner.ts';

type Row = RunSummary['by_model'][number];
const fmt = (v: number | null, digits = 0) => (v === null ? '-' : v.toFixed(digits));

export function summaryTable(s: RunSummary): string {
  const header = ['', 'requests', 'failures', 'median ms', 'p95 ms', 'p99 ms', 'prompt tok', 'compl tok', 'cost $'];
  const line = (name: string, r: Omit<Row, 'name'>) => [
    name,
    String(r.requests),
    String(r.failures),
    fmt(r.median_ms),
    fmt(r.p95_ms),
    fmt(r.p99_ms),
    String(r.prompt_tokens),
    String(r.completion_tokens),
    r.cost_usd.toFixed(5),
  ];
  const section = (title: string, rows: Row[]) => [
    [title, '', '', '', '', '', '', '', ''],
    ...rows.map((r) => line(`  ${r.name}`, r)),
  ];
  const rows = [
    header,
    ...section('by model', s.by_model),
    ...section('by policy', s.by_policy),
    line('total', s.total),
  ];
  const widths = header.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  const out = rows.map((r) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  '));
  out.splice(1, 0, widths.map((w) => '-'.repeat(w)).join('  '));
  out.push(
    '',
    `whole run: ${s.total.requests} requests in ${s.elapsed_s}s = ${s.rps} req/s, error ratio ${(s.total.error_ratio * 100).toFixed(2)}%, TTFT p50 ${fmt(s.total.ttft_p50_ms)} ms`,
  );
  const labelled = s.by_model.filter((r) => r.accuracy !== null);
  if (labelled.length)
    out.push(
      `measured accuracy (the prompt file's labels of the model that answered): ${labelled.map((r) => `${r.name} ${(r.accuracy! * 100).toFixed(1)}%`).join(', ')}; overall ${(s.total.accuracy! * 100).toFixed(1)}%`,
      `feedback posted to the router: ${s.feedback.posted}${s.feedback.failed ? ` (${s.feedback.failed} refused or unreachable)` : ''}`,
    );
  if (s.cut)
    out.push(
      `${s.cut} requests still in flight at the deadline were cut after the ${s.options.grace_s}s grace (not counted above)`,
    );
  if (s.failures.length)
    out.push('failures:', ...s.failures.slice(0, 10).map((f) => `  ${String(f.count).padStart(6)}  ${f.error}`));
  return out.join('\n');
}

export function summaryCsv(s: RunSummary): string {
  const cols = [
    'requests',
    'failures',
    'median_ms',
    'p95_ms',
    'p99_ms',
    'max_ms',
    'ttft_p50_ms',
    'prompt_tokens',
    'completion_tokens',
    'cost_usd',
    'accuracy',
  ] as const;
  const esc = (v: unknown) =>
    typeof v === 'string' && /[",\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : String(v ?? '');
  const lines = [['group', 'name', ...cols].join(',')];
  for (const r of s.by_model) lines.push(['model', r.name, ...cols.map((c) => r[c])].map(esc).join(','));
  for (const r of s.by_policy) lines.push(['policy', r.name, ...cols.map((c) => r[c])].map(esc).join(','));
  lines.push(['total', 'total', ...cols.map((c) => s.total[c])].map(esc).join(','));
  return `${lines.join('\n')}\n`;
}

function svgChart(points: Array<[number, number]>, label: string, color: string): string {
  if (points.length < 2) return '';
  const w = 560;
  const h = 140;
  const maxX = Math.max(...points.map((p) => p[0])) || 1;
  const maxY = Math.max(...points.map((p) => p[1])) || 1;
  const path = points
    .map(([x, y]) => `${((x / maxX) * (w - 40) + 35).toFixed(1)},${(h - 20 - (y / maxY) * (h - 35)).toFixed(1)}`)
    .join(' ');
  return `<figure><svg width="${w}" height="${h}" role="img" aria-label="${label}"><text x="35" y="12" font-size="11">${label} (max ${maxY.toFixed(1)})</text><line x1="35" y1="${h - 20}" x2="${w - 5}" y2="${h - 20}" stroke="#999"/><polyline fill="none" stroke="${color}" stroke-width="1.5" points="${path}"/></svg></figure>`;
}

export function summaryHtml(s: RunSummary): string {
  const esc = (t: string) =>
    t.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
  const table = (title: string, rows: Row[]) =>
    `<h2>${title}</h2><table><tr><th>name</th><th>requests</th><th>failures</th><th>median ms</th><th>p95 ms</th><th>p99 ms</th><th>prompt tokens</th><th>completion tokens</th><th>cost $</th></tr>${rows.map((r) => `<tr><td>${esc(r.name)}</td><td>${r.requests}</td><td>${r.failures}</td><td>${fmt(r.median_ms)}</td><td>${fmt(r.p95_ms)}</td><td>${fmt(r.p99_ms)}</td><td>${r.prompt_tokens}</td><td>${r.completion_tokens}</td><td>${r.cost_usd.toFixed(5)}</td></tr>`).join('')}</table>`;
  return `<!doctype html><html><head><meta charset="utf-8"><title>Load test report</title><style>body{font:14px system-ui,sans-serif;margin:2em;color:#222}table{border-collapse:collapse}td,th{border:1px solid #ddd;padding:4px 8px;text-align:right}td:first-child,th:first-child{text-align:left}figure{display:inline-block;margin:0 1em 1em 0}</style></head><body>
<h1>Load test report</h1><p>${esc(s.options.host)} — ${s.total.requests} requests in ${s.elapsed_s}s (${s.rps} req/s), error ratio ${(s.total.error_ratio * 100).toFixed(2)}%, p50 ${fmt(s.total.median_ms)} ms, p95 ${fmt(s.total.p95_ms)} ms, p99 ${fmt(s.total.p99_ms)} ms, cost $${s.total.cost_usd.toFixed(5)}. Started ${esc(s.started_at)}.</p>
${svgChart(
  s.timeline.map((p) => [p.t, p.rps]),
  'requests/s',
  '#1f77b4',
)}${svgChart(
  s.timeline.map((p) => [p.t, p.p95_ms ?? 0]),
  'p95 latency ms',
  '#d62728',
)}
${table('By model', s.by_model)}${table('By policy', s.by_policy)}
<h2>Failures</h2>${s.failures.length ? `<table><tr><th>error</th><th>count</th></tr>${s.failures.map((f) => `<tr><td>${esc(f.error)}</td><td>${f.count}</td></tr>`).join('')}</table>` : '<p>none</p>'}
<h2>Options</h2><pre>${esc(JSON.stringify(s.options, null, 2))}</pre></body></html>\n`;
}

export interface FailCheck {
  metric: 'error_ratio' | 'p95' | 'p99' | 'median';
  limit: number;
  text: string;
}

/** "error_ratio>0.01,p95>2s" -> checks; latency limits accept ms/s suffixes. */
export function parseFailOn(spec: string): FailCheck[] {
  return spec
    .split(',')
    .filter(Boolean)
    .map((part) => {
      const m = /^\s*(error_ratio|p95|p99|median)\s*>\s*([\d.]+)\s*(ms|s)?\s*$/.exec(part);
      if (!m) throw new Error(`invalid --fail-on "${part}" (use e.g. error_ratio>0.01,p95>2s)`);
      const value = Number(m[2]);
      const metric = m[1] as FailCheck['metric'];
      const limit = metric === 'error_ratio' ? value : m[3] === 'ms' ? value : value * 1000;
      return { metric, limit, text: part.trim() };
    });
}

/** The checks that the run crossed. */
export function failedChecks(s: RunSummary, checks: FailCheck[]): string[] {
  const value = (c: FailCheck) =>
    ({
      error_ratio: s.total.error_ratio,
      p95: s.total.p95_ms ?? 0,
      p99: s.total.p99_ms ?? 0,
      median: s.total.median_ms ?? 0,
    })[c.metric];
  return checks
    .filter((c) => value(c) > c.limit)
    .map((c) => `${c.text} (actual ${c.metric === 'error_ratio' ? value(c).toFixed(4) : `${value(c).toFixed(0)} ms`})`);
}
