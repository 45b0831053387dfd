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
}

export function panelQueries(d: DashboardJson): Array<{ title: string; expr: string }> {
  return d.panels.flatMap((p) => (p.targets ?? []).map((t) => ({ title: p.title, expr: t.expr })));
}

/** What Grafana would send with "All" selected and a short time range. */
export function substituteMacros(expr: string, rateInterval = '1m'): string {
  return expr.replace(/\$__rate_interval|\$__interval|\$__range/g, rateInterval).replace(/\$(\w+)/g, '.*');
}
