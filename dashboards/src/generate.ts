// Writes every dashboard as plain JSON to grafana/dashboards/<folder>/<uid>.json (committed, so
// `docker compose up` needs no Node). Run: make dashboards (a test fails when the files are stale).
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { allDashboards } from './index.ts';
import { consolePages } from './consoles.ts';

export const DASHBOARDS_DIR = fileURLToPath(new URL('../../grafana/dashboards', import.meta.url));
/** The same dashboards as Prometheus console templates (the native stack has no Grafana). */
export const CONSOLES_DIR = fileURLToPath(new URL('../../prometheus/consoles', import.meta.url));

export function dashboardFiles(): Record<string, string> {
  const files: Record<string, string> = {};
  for (const { spec, dashboard } of allDashboards())
    files[`${spec.folder}/${spec.uid}.json`] = `${JSON.stringify(dashboard, null, 2)}\n`;
  return files;
}

export function consoleFiles(): Record<string, string> {
  return consolePages(allDashboards().map((d) => d.dashboard));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  for (const entry of readdirSync(DASHBOARDS_DIR, { withFileTypes: true }))
    if (entry.isDirectory()) rmSync(join(DASHBOARDS_DIR, entry.name), { recursive: true });
  for (const [name, text] of Object.entries(dashboardFiles())) {
    mkdirSync(join(DASHBOARDS_DIR, name, '..'), { recursive: true });
    writeFileSync(join(DASHBOARDS_DIR, name), text);
    console.log(`wrote grafana/dashboards/${name}`);
  }
  mkdirSync(CONSOLES_DIR, { recursive: true });
  for (const [name, text] of Object.entries(consoleFiles())) {
    writeFileSync(join(CONSOLES_DIR, name), text);
    console.log(`wrote prometheus/consoles/${name}`);
  }
}
