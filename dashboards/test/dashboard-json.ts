// Reading generated dashboard JSON in tests: the panels' queries, and Grafana macros replaced so the
// expressions are plain PromQL.
export interface DashboardJson {
  uid: string;
  title: string;
  panels: Array<{
    id: number;
    type: string;
    title: string;
    description?: string;
    gridPos: { x: number; y: number; w: number; h: number };
    datasource?: unknown;
    fieldConfig?: { defaults?: { unit?: string } };
    targets?: Array<{ expr: string; refId: string }>;
  }>;
  templating: { list: Array<{ name: string; query: string | { query: string } }> };
  annotations?: { list: Array<{ name: string; expr?: string }> };
  links?: Array<{ type: string; tags?: string[] }>;
  tags?: string[];
}

export function panelQueries(d: DashboardJson): Array<{ title: string; expr: string }> {
  return d.panels.flatMap((p) => (p.targets ?? []).map((t) => ({ title: p.title, expr: t.expr })));
}

/** The PromQL of the dashboard's annotations (as "annotation: <name>"). */
export function annotationQueries(d: DashboardJson): Array<{ title: string; expr: string }> {
  return (d.annotations?.list ?? [])
    .filter((a) => a.expr)
    .map((a) => ({ title: `annotation: ${a.name}`, expr: a.expr! }));
}

/** What Grafana would send with "All" selected and a short time range. */
export function substituteMacros(expr: string, rateInterval = '1m'): string {
  return expr.replace(/\$__rate_interval|\$__interval|\$__range/g, rateInterval).replace(/\$(\w+)/g, '.*');
}
