// Shared panel helpers. Each call makes fresh builders: the SDK's build() returns shared references,
// so a builder is never reused across panels.
import { LOADTEST_METRICS } from '@llm-router/loadtest/metrics-names';
import {
  AnnotationQueryBuilder,
  DashboardBuilder,
  DashboardCursorSync,
  DashboardLinkBuilder,
  DashboardLinkType,
  QueryVariableBuilder,
  RowBuilder,
  ThresholdsConfigBuilder,
  ThresholdsMode,
  VariableRefresh,
  VariableSort,
} from '@grafana/grafana-foundation-sdk/dashboard';
import type { Dashboard, Panel, RowPanel } from '@grafana/grafana-foundation-sdk/dashboard';
import { DataqueryBuilder, PromQueryFormat } from '@grafana/grafana-foundation-sdk/prometheus';
import {
  HeatmapColorMode,
  HeatmapColorOptionsBuilder,
  PanelBuilder as HeatmapPanelBuilder,
  YAxisConfigBuilder,
} from '@grafana/grafana-foundation-sdk/heatmap';
import { PanelBuilder as TimeseriesPanelBuilder } from '@grafana/grafana-foundation-sdk/timeseries';
import { PanelBuilder as StatPanelBuilder } from '@grafana/grafana-foundation-sdk/stat';
import {
  BigValueGraphMode,
  BigValueTextMode,
  LegendDisplayMode,
  LegendPlacement,
  ReduceDataOptionsBuilder,
  SortOrder,
  StackingConfigBuilder,
  StackingMode,
  TooltipDisplayMode,
  VizLegendOptionsBuilder,
  VizTooltipOptionsBuilder,
} from '@grafana/grafana-foundation-sdk/common';

const LOADTEST_USERS = LOADTEST_METRICS.users;

/** Fixed uid of the provisioned Prometheus datasource (grafana/provisioning/datasources). */
export const PROMETHEUS_DATASOURCE = { type: 'prometheus', uid: 'prometheus' } as const;
const GRID_COLUMNS = 24;

export interface Query {
  expr: string;
  legend?: string;
  /** heatmap: histogram buckets as rows (for heatmap panels). */
  format?: 'heatmap';
  /** A unit for this query's values only (a stat that shows two figures, e.g. USD and a percentage). */
  unit?: string;
}

function targets(queries: Query[]) {
  return queries.map((q, i) => {
    const b = new DataqueryBuilder()
      .expr(q.expr)
      .refId(String.fromCharCode(65 + i))
      .datasource(PROMETHEUS_DATASOURCE);
    if (q.legend) b.legendFormat(q.legend);
    if (q.format === 'heatmap') b.format(PromQueryFormat.Heatmap);
    return b;
  });
}

export interface PanelSpec {
  title: string;
  description: string;
  unit: string;
  queries: Query[];
  /** Width in grid columns (of 24) and height in rows. */
  w: number;
  h?: number;
}

export function timeseries(spec: PanelSpec & { stacked?: boolean; min?: number }) {
  const b = new TimeseriesPanelBuilder()
    .title(spec.title)
    .description(spec.description)
    .datasource(PROMETHEUS_DATASOURCE)
    .unit(spec.unit)
    .targets(targets(spec.queries))
    .fillOpacity(spec.stacked ? 40 : 10)
    // Stacked panels add their series up (the top line is the total); others overlap.
    .stacking(new StackingConfigBuilder().mode(spec.stacked ? StackingMode.Normal : StackingMode.None))
    // Every series at the cursor, largest first: comparing models or replicas is what these panels are for.
    .tooltip(new VizTooltipOptionsBuilder().mode(TooltipDisplayMode.Multi).sort(SortOrder.Descending))
    .lineWidth(1)
    .legend(
      new VizLegendOptionsBuilder()
        .showLegend(true)
        .displayMode(LegendDisplayMode.List)
        .placement(LegendPlacement.Bottom)
        .calcs([]),
    );
  if (spec.min !== undefined) b.min(spec.min);
  return { builder: b, w: spec.w, h: spec.h ?? 8 };
}

/**
 * A stat panel. `alertAt`: the value at which an alert fires (ALERT_THRESHOLDS), shown red from there on, so the
 * panel and the alert never disagree; `alertBelow` when lower is worse.
 */
export function stat(spec: PanelSpec & { decimals?: number; alertAt?: number; alertBelow?: boolean }) {
  const b = new StatPanelBuilder()
    .title(spec.title)
    .description(spec.description)
    .datasource(PROMETHEUS_DATASOURCE)
    .unit(spec.unit)
    .targets(targets(spec.queries))
    .graphMode(BigValueGraphMode.Area)
    .reduceOptions(new ReduceDataOptionsBuilder().calcs(['lastNotNull']).values(false));
  if (spec.decimals !== undefined) b.decimals(spec.decimals);
  // Several figures in one stat ("saved $X" beside "Y% quality retained"): each named, each in its own unit.
  if (spec.queries.length > 1) b.textMode(BigValueTextMode.ValueAndName);
  spec.queries.forEach((q, i) => {
    if (q.unit)
      b.overrideByQuery(String.fromCharCode(65 + i), [
        { id: 'unit', value: q.unit },
        ...(q.unit === 'percentunit' ? [{ id: 'decimals', value: 1 }] : []),
      ]);
  });
  if (spec.alertAt !== undefined)
    b.thresholds(
      new ThresholdsConfigBuilder().mode(ThresholdsMode.Absolute).steps(
        spec.alertBelow
          ? [
              { value: null, color: 'red' },
              { value: spec.alertAt, color: 'green' },
            ]
          : [
              { value: null, color: 'green' },
              { value: spec.alertAt, color: 'red' },
            ],
      ),
    );
  return { builder: b, w: spec.w, h: spec.h ?? 4 };
}

/** A histogram's buckets over time, one row per bucket (`sum by (le) (increase(x_bucket[$__rate_interval]))`). */
export function heatmap(spec: PanelSpec) {
  const b = new HeatmapPanelBuilder()
    .title(spec.title)
    .description(spec.description)
    .datasource(PROMETHEUS_DATASOURCE)
    .unit(spec.unit)
    .targets(targets(spec.queries.map((q) => ({ ...q, format: 'heatmap' as const, legend: q.legend ?? '{{le}}' }))))
    .calculate(false)
    .color(new HeatmapColorOptionsBuilder().mode(HeatmapColorMode.Scheme).scheme('Oranges').exponent(0.5).steps(64))
    .yAxis(new YAxisConfigBuilder().unit(spec.unit));
  return { builder: b, w: spec.w, h: spec.h ?? 8 };
}

type Placed = {
  builder: {
    gridPos(p: { x: number; y: number; w: number; h: number }): unknown;
    id(id: number): unknown;
    build(): Panel;
  };
  w: number;
  h: number;
};

/**
 * Lays panels left to right on Grafana's 24-column grid, wrapping to a new line when a panel does not
 * fit, with unique ids. Rows start a new line.
 */
export class Layout {
  private x = 0;
  private y = 0;
  private lineHeight = 0;
  private nextId = 1;
  readonly items: Array<Panel | RowPanel> = [];

  row(title: string): this {
    this.newLine();
    const row = new RowBuilder(title)
      .id(this.nextId++)
      .gridPos({ x: 0, y: this.y, w: GRID_COLUMNS, h: 1 })
      .build();
    this.items.push(row);
    this.y += 1;
    return this;
  }

  add(...panels: Placed[]): this {
    for (const p of panels) {
      if (this.x + p.w > GRID_COLUMNS) this.newLine();
      p.builder.gridPos({ x: this.x, y: this.y, w: p.w, h: p.h });
      p.builder.id(this.nextId++);
      this.items.push(p.builder.build());
      this.x += p.w;
      this.lineHeight = Math.max(this.lineHeight, p.h);
    }
    return this;
  }

  private newLine(): void {
    if (this.x === 0 && this.lineHeight === 0) return;
    this.y += this.lineHeight;
    this.x = 0;
    this.lineHeight = 0;
  }
}

/** A query variable over a label's values, with "All" meaning the regex .* */
export function labelVariable(name: string, label: string, metric: string) {
  return new QueryVariableBuilder(name)
    .label(label)
    .datasource(PROMETHEUS_DATASOURCE)
    .query({ query: `label_values(${metric}, ${name})`, refId: 'PrometheusVariableQueryEditor-VariableQuery' })
    .definition(`label_values(${metric}, ${name})`)
    .refresh(VariableRefresh.OnTimeRangeChanged)
    .sort(VariableSort.AlphabeticalAsc)
    .multi(true)
    .includeAll(true)
    .allValue('.*')
    .current({ text: 'All', value: '$__all' });
}

export interface DashboardSpec {
  uid: string;
  title: string;
  description: string;
  /** Folder (directory) it is provisioned into. */
  folder: string;
  tags: string[];
  variables?: QueryVariableBuilder[];
  layout: Layout;
}

/** Every dashboard carries this tag; the links bar lists the others by it. */
export const STACK_TAG = 'llm-router-stack';

/** Annotations on every dashboard: alerts while they fire, load test runs from start to stop. */
const ANNOTATIONS = [
  new AnnotationQueryBuilder()
    .name('Firing alerts')
    .datasource(PROMETHEUS_DATASOURCE)
    .enable(true)
    .iconColor('red')
    .expr('ALERTS{alertstate="firing"}')
    .titleFormat('{{alertname}}')
    .textFormat('{{severity}} {{model}}{{deployment}}')
    .tagKeys('severity')
    .step('15s'),
  new AnnotationQueryBuilder()
    .name('Load test runs')
    .datasource(PROMETHEUS_DATASOURCE)
    .enable(true)
    .iconColor('blue')
    // Consecutive samples merge into one region: from the run's start to its stop.
    .expr(`${LOADTEST_USERS} > 0`)
    .titleFormat('Load test')
    .textFormat('{{value}} users')
    .step('5s'),
];

export function buildDashboard(spec: DashboardSpec): Dashboard {
  const b = new DashboardBuilder(spec.title)
    .uid(spec.uid)
    .description(spec.description)
    .tags([...spec.tags, STACK_TAG])
    .annotations(ANNOTATIONS)
    .link(
      new DashboardLinkBuilder('Stack dashboards')
        .type(DashboardLinkType.Dashboards)
        .tags([STACK_TAG])
        .asDropdown(false)
        .includeVars(true)
        .keepTime(true),
    )
    .refresh('10s')
    .time({ from: 'now-30m', to: 'now' })
    .timezone('browser')
    .tooltip(DashboardCursorSync.Crosshair)
    .editable();
  for (const v of spec.variables ?? []) b.withVariable(v);
  const dashboard = b.build();
  dashboard.panels = spec.layout.items;
  return dashboard;
}
