// Offline proof of the dashboards (Grafana itself cannot be installed here): schema, PromQL, variables,
// grid, units, provisioning.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { Ajv } from 'ajv';
import { createGenerator } from 'ts-json-schema-generator';
import { parser } from '@prometheus-io/lezer-promql';
import { parse } from 'yaml';
import { CONSOLES_DIR, consoleFiles, dashboardFiles, DASHBOARDS_DIR } from '../src/generate.ts';
import { legendFunction, templateExpr } from '../src/consoles.ts';
import { HOME_DASHBOARD_UID } from '../src/index.ts';
import { PROMETHEUS_DATASOURCE, STACK_TAG } from '../src/panels.ts';
import { annotationQueries, panelQueries, substituteMacros, type DashboardJson } from './dashboard-json.ts';

const require = createRequire(import.meta.url);
const files = dashboardFiles();
const dashboards = Object.entries(files).map(([name, text]) => ({ name, json: JSON.parse(text) as DashboardJson }));

test('committed dashboard JSON is up to date with dashboards/src', () => {
  for (const [name, text] of Object.entries(files))
    assert.equal(
      readFileSync(join(DASHBOARDS_DIR, name), 'utf8'),
      text,
      `grafana/dashboards/${name} is stale: run make dashboards`,
    );
  assert.ok(dashboards.length >= 4);
});

test('the console pages (prometheus/consoles) are up to date and carry every panel of their dashboard', () => {
  const pages = consoleFiles();
  assert.equal(Object.keys(pages).length, dashboards.length);
  for (const [name, text] of Object.entries(pages)) {
    assert.equal(
      readFileSync(join(CONSOLES_DIR, name), 'utf8'),
      text,
      `prometheus/consoles/${name} is stale: run make dashboards`,
    );
    const d = dashboards.find((x) => `${x.json.uid}.html` === name)!.json;
    for (const p of d.panels.filter((x) => x.type !== 'row'))
      assert.ok(text.includes(`data-panel="${p.title.replaceAll("'", '&#39;')}"`), `${name}: panel ${p.title}`);
    // No Grafana macro or unreplaced variable reaches Prometheus.
    assert.doesNotMatch(text, /\$__|=~"\$/);
  }
});

test('console templates: variables become page parameters by index, macros fixed windows, legends functions', () => {
  assert.equal(
    templateExpr(
      'sum(rate(x{model=~"$model", policy=~"$policy"}[$__rate_interval])) / sum(increase(y{model=~"$model"}[$__range]))',
      ['policy', 'model'],
    ),
    '(printf `sum(rate(x{model=~"%[1]s", policy=~"%[2]s"}[1m])) / sum(increase(y{model=~"%[1]s"}[%[3]s]))` $model $policy $range)',
  );
  assert.equal(templateExpr('count(up == 1) * 100 % 7', []), '`count(up == 1) * 100 % 7`');
  const name = new Function(`return ${legendFunction('{{model}} p95 ({{type}})')}`)() as (m: object) => string;
  assert.equal(name({ model: 'm1', type: 'prompt' }), 'm1 p95 (prompt)');
});

test('every dashboard validates against a JSON schema derived from the SDK Dashboard type', () => {
  // Known fields are type-checked; extra ones are allowed because the SDK's panel query type is open.
  const schemaOf = (module: string, type: string) => {
    const path = require.resolve(`@grafana/grafana-foundation-sdk/${module}`).replace(/index\.js$/, 'types.gen.d.ts');
    return createGenerator({ path, type, skipTypeCheck: true, expose: 'all', additionalProperties: true }).createSchema(
      type,
    );
  };
  const ajv = new Ajv({ allErrors: true, strict: false });
  const validateDashboard = ajv.compile(schemaOf('dashboard', 'Dashboard'));
  const validateQuery = ajv.compile(schemaOf('prometheus', 'Dataquery'));
  for (const d of dashboards) {
    assert.ok(validateDashboard(d.json), `${d.name}: ${JSON.stringify(validateDashboard.errors?.slice(0, 5))}`);
    for (const p of d.json.panels)
      for (const t of p.targets ?? [])
        assert.ok(validateQuery(t), `${d.name}: ${p.title}: ${JSON.stringify(validateQuery.errors)}`);
  }
  // The schemas are not vacuous: wrong types are rejected.
  assert.equal(validateDashboard({ ...dashboards[0]!.json, title: 42 }), false);
  assert.equal(validateQuery({ refId: 'A', expr: 5 }), false);
});

test('fixed uids, unique panel ids, a valid 24-column grid, units and the provisioned datasource on every panel', () => {
  const uids = new Set<string>();
  for (const { name, json } of dashboards) {
    assert.ok(json.uid && !uids.has(json.uid), `${name}: uid`);
    uids.add(json.uid);
    assert.equal(name, `${name.split('/')[0]}/${json.uid}.json`);
    const ids = new Set<number>();
    const cells = new Set<string>();
    for (const p of json.panels) {
      assert.ok(typeof p.id === 'number' && !ids.has(p.id), `${name}: panel id ${p.id} unique`);
      ids.add(p.id);
      const g = p.gridPos;
      assert.ok(
        g.x >= 0 && g.w > 0 && g.x + g.w <= 24 && g.h > 0 && g.y >= 0,
        `${name}: ${p.title} grid ${JSON.stringify(g)}`,
      );
      for (let x = g.x; x < g.x + g.w; x++)
        for (let y = g.y; y < g.y + g.h; y++) {
          assert.ok(!cells.has(`${x},${y}`), `${name}: ${p.title} overlaps another panel at ${x},${y}`);
          cells.add(`${x},${y}`);
        }
      if (p.type === 'row') continue;
      assert.ok(p.fieldConfig?.defaults?.unit, `${name}: ${p.title} has a unit`);
      assert.ok(p.description, `${name}: ${p.title} has a description`);
      assert.deepEqual(p.datasource, PROMETHEUS_DATASOURCE);
      assert.ok((p.targets ?? []).length > 0, `${name}: ${p.title} has queries`);
    }
  }
});

test('every PromQL expression parses and uses only defined template variables', () => {
  let count = 0;
  for (const { name, json } of dashboards) {
    const defined = new Set(json.templating.list.map((v) => v.name));
    for (const { title, expr } of [...panelQueries(json), ...annotationQueries(json)]) {
      count++;
      for (const [, v] of expr.matchAll(/\$(\w+)/g))
        if (!v!.startsWith('__')) assert.ok(defined.has(v!), `${name}: "${title}" uses undefined variable $${v}`);
      const promql = substituteMacros(expr);
      const errors: string[] = [];
      parser.parse(promql).iterate({
        enter: (n) => void (n.type.isError && errors.push(`at ${n.from}: "${promql.slice(n.from, n.from + 20)}"`)),
      });
      assert.deepEqual(errors, [], `${name}: "${title}" does not parse: ${promql}`);
    }
    for (const v of json.templating.list) {
      const q = typeof v.query === 'string' ? v.query : v.query.query;
      assert.match(q, /^label_values\(\w+, \w+\)$/, `${name}: variable ${v.name}`);
    }
  }
  assert.ok(count > 40, `${count} queries checked`);
  // The parser really rejects bad PromQL.
  let bad = 0;
  parser.parse('sum(rate(x[5m])').iterate({ enter: (n) => void (n.type.isError && bad++) });
  assert.ok(bad > 0);
});

test('provisioning: datasource uid matches the panels, dashboards provider, home dashboard and admin password', () => {
  const ds = parse(readFileSync(join(DASHBOARDS_DIR, '../provisioning/datasources/prometheus.yml'), 'utf8')) as {
    datasources: Array<{ uid: string; type: string }>;
  };
  assert.deepEqual({ uid: ds.datasources[0]!.uid, type: ds.datasources[0]!.type }, PROMETHEUS_DATASOURCE);
  const provider = parse(readFileSync(join(DASHBOARDS_DIR, '../provisioning/dashboards/dashboards.yml'), 'utf8')) as {
    providers: Array<{ options: { path: string; foldersFromFilesStructure: boolean } }>;
  };
  assert.equal(provider.providers[0]!.options.foldersFromFilesStructure, true);
  const env = Object.fromEntries(
    readFileSync(join(DASHBOARDS_DIR, '../grafana.env'), 'utf8')
      .split('\n')
      .filter((l) => l && !l.startsWith('#'))
      .map((l) => l.split('=') as [string, string]),
  );
  assert.equal(env.GF_SECURITY_ADMIN_PASSWORD, 'secret');
  const home = env.GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH!;
  assert.ok(home.startsWith(`${provider.providers[0]!.options.path}/`));
  const homeFile = home.slice(provider.providers[0]!.options.path.length + 1);
  assert.equal((JSON.parse(files[homeFile]!) as DashboardJson).uid, HOME_DASHBOARD_UID);
});

test('every recording rule is used: by a dashboard, an alert, or the launcher', async () => {
  const { recordingRules, alertRules } = await import('@llm-router/prometheus-config');
  const used = [
    ...dashboards.flatMap((d) => panelQueries(d.json).map((q) => q.expr)),
    ...alertRules.groups.flatMap((g) => g.rules.map((r) => r.expr)),
    ...(await import('../../stack/src/links.ts')).GRAPH_PANELS,
  ].join('\n');
  const recorded = [...new Set(recordingRules.groups.flatMap((g) => g.rules.map((r) => r.record)))];
  assert.ok(recorded.length >= 5);
  assert.deepEqual(
    recorded.filter((name) => !used.includes(name)),
    [],
    'recorded but never read',
  );
});

/** The first Grafana release line of each dashboard schema version the SDK may write (grafana/grafana#110517: v42). */
const FIRST_GRAFANA_FOR_SCHEMA: Record<number, [number, number]> = { 41: [12, 0], 42: [12, 2] };

test("the compose Grafana image reads the dashboards' schema version", () => {
  const compose = readFileSync(join(DASHBOARDS_DIR, '../../docker-compose.yml'), 'utf8');
  const m = /image: grafana\/grafana:(\d+)\.(\d+)\.\d+/.exec(compose);
  assert.ok(m, 'Grafana is pinned to an exact version');
  for (const { name, json } of dashboards) {
    const schema = (json as unknown as { schemaVersion: number }).schemaVersion;
    const first = FIRST_GRAFANA_FOR_SCHEMA[schema];
    assert.ok(first, `${name}: schemaVersion ${schema} is not in the table: check which Grafana reads it`);
    const [major, minor] = [Number(m[1]), Number(m[2])];
    assert.ok(
      major > first[0] || (major === first[0] && minor >= first[1]),
      `${name}: schemaVersion ${schema} needs Grafana ${first.join('.')}+, compose pins ${m[1]}.${m[2]}`,
    );
  }
});

test('each dashboard links to the others (by the stack tag) and annotates firing alerts and load test runs', () => {
  for (const { name, json } of dashboards) {
    assert.ok(json.tags?.includes(STACK_TAG), `${name}: tagged ${STACK_TAG}`);
    assert.ok(
      json.links?.some((l) => l.type === 'dashboards' && l.tags?.includes(STACK_TAG)),
      `${name}: links the stack dashboards`,
    );
    assert.deepEqual(
      annotationQueries(json).map((a) => a.title),
      ['annotation: Firing alerts', 'annotation: Load test runs'],
    );
  }
});

test('panel titles are unique within each dashboard', () => {
  for (const { name, json } of dashboards) {
    const titles = json.panels.filter((p) => p.type !== 'row').map((p) => p.title);
    assert.deepEqual(
      titles.filter((t, i) => titles.indexOf(t) !== i),
      [],
      `${name}: repeated titles`,
    );
  }
});
