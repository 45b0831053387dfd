// Without Docker, a locally installed Grafana gets the same provisioning as the container, pointed at this
// checkout: every dashboard folder, not only the home dashboard.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { REPO_ROOT, tempDir } from '../../test-support/services.ts';
import { nativeGrafanaProvisioning } from '../src/native-backend.ts';

test('native Grafana provisioning reads every dashboard of this checkout', () => {
  const tmp = tempDir();
  try {
    const dir = nativeGrafanaProvisioning(REPO_ROOT, tmp.dir);
    assert.ok(existsSync(join(dir, 'datasources/prometheus.yml')));
    const provider = (
      parse(readFileSync(join(dir, 'dashboards/dashboards.yml'), 'utf8')) as {
        providers: Array<{ options: { path: string; foldersFromFilesStructure: boolean } }>;
      }
    ).providers[0]!;
    assert.equal(provider.options.path, join(REPO_ROOT, 'grafana/dashboards'));
    assert.equal(provider.options.foldersFromFilesStructure, true);
    const found = readdirSync(provider.options.path, { recursive: true }).filter((f) => String(f).endsWith('.json'));
    assert.ok(found.length >= 4, `dashboards found: ${found.join(', ')}`);
    // The checkout's own provisioning is untouched (the container needs its path).
    assert.match(
      readFileSync(join(REPO_ROOT, 'grafana/provisioning/dashboards/dashboards.yml'), 'utf8'),
      /\/var\/lib\/grafana\/dashboards/,
    );
  } finally {
    tmp.remove();
  }
});
