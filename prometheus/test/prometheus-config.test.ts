import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { tempDir } from '../../test-support/services.ts';
import { generatedFiles, PROMETHEUS_DIR, prometheusConfig } from '../src/index.ts';

const promtool = (...args: string[]) => {
  const r = spawnSync('promtool', args, { cwd: PROMETHEUS_DIR, encoding: 'utf8' });
  assert.equal(r.error, undefined, 'promtool must be installed (make install-system-deps)');
  return r;
};

test('committed prometheus.yml and rules are up to date with their TypeScript source', () => {
  for (const [name, text] of Object.entries(generatedFiles())) {
    assert.equal(
      readFileSync(join(PROMETHEUS_DIR, name), 'utf8'),
      text,
      `prometheus/${name} is stale: run make prometheus-config`,
    );
  }
});

test('promtool check config accepts the compose config and a local one', () => {
  const compose = promtool('check', 'config', 'prometheus.yml');
  assert.equal(compose.status, 0, compose.stdout + compose.stderr);
  const tmp = tempDir();
  try {
    const local = tmp.write(
      'local.yml',
      prometheusConfig(
        { router: ['127.0.0.1:4000', '127.0.0.1:4001'], llmSim: '127.0.0.1:8000', loadtest: '127.0.0.1:8089' },
        { ruleFiles: [join(PROMETHEUS_DIR, 'rules/recording.yml')] },
      ),
    );
    const r = promtool('check', 'config', local);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    const jobs = (
      parse(readFileSync(local, 'utf8')) as {
        scrape_configs: Array<{ job_name: string; static_configs: Array<{ targets: string[] }> }>;
      }
    ).scrape_configs;
    assert.deepEqual(
      jobs.map((j) => [j.job_name, j.static_configs[0]!.targets]),
      [
        ['llm-router', ['127.0.0.1:4000', '127.0.0.1:4001']],
        ['llm-sim', ['127.0.0.1:8000']],
        ['loadtest', ['127.0.0.1:8089']],
      ],
    );
    // The compose config finds every router replica by the service's DNS name.
    const composeJobs = (
      parse(readFileSync(join(PROMETHEUS_DIR, 'prometheus.yml'), 'utf8')) as {
        scrape_configs: Array<{ job_name: string; dns_sd_configs?: Array<{ names: string[]; port: number }> }>;
      }
    ).scrape_configs;
    assert.deepEqual(composeJobs.find((j) => j.job_name === 'llm-router')?.dns_sd_configs?.[0], {
      names: ['router'],
      type: 'A',
      port: 4000,
      refresh_interval: '5s',
    });
  } finally {
    tmp.remove();
  }
});

test('promtool check rules and promtool test rules pass', () => {
  const check = promtool('check', 'rules', 'rules/recording.yml', 'rules/alerts.yml');
  assert.equal(check.status, 0, check.stdout + check.stderr);
  const unit = promtool('test', 'rules', 'rules/tests/rules.test.yml');
  assert.equal(unit.status, 0, unit.stdout + unit.stderr);
  assert.match(unit.stdout, /SUCCESS/);
});

test('every alert has a summary, a description and a runbook section (docs/runbooks.md, served as a console page)', async () => {
  const { alertRules, runbookSections } = await import('../src/index.ts');
  const sections = new Set(runbookSections());
  const page = readFileSync(join(PROMETHEUS_DIR, 'consoles/runbooks.html'), 'utf8');
  const alerts = alertRules.groups.flatMap((g) => g.rules);
  assert.ok(alerts.length >= 12);
  for (const a of alerts) {
    assert.ok(a.annotations.summary && a.annotations.description, `${a.alert}: summary and description`);
    const [base, anchor] = a.annotations.runbook_url.split('#');
    assert.equal(base, '{{ $externalURL }}/consoles/runbooks.html', "absolute, through Prometheus's external URL");
    assert.ok(sections.has(anchor!), `${a.alert}: docs/runbooks.md has no section #${anchor}`);
    assert.ok(page.includes(`id="${anchor}"`), `${a.alert}: the runbooks page has no anchor #${anchor}`);
  }
});
