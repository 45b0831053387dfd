// The README's commands as written, on the native stack with free ports: `make metrics` then `make loadtest`
// (the blueprint's flow), the headless example string verbatim, and a restart on new ports that shows none of
// the previous stack's targets or counts.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { REPO_ROOT, runToEnd, tempDir, waitFor } from '../../test-support/services.ts';
import type { StackState } from '../src/state.ts';

const STACK = join(REPO_ROOT, 'stack/src/main.ts');
const tmp = tempDir('readme-flow-');
const STACK_ARGS = `--backend native --free-ports --skip grafana --state-dir ${tmp.dir}`;
after(async () => {
  await runToEnd(STACK, ['down', '--state-dir', tmp.dir], 60_000);
  tmp.remove();
});

/** A shell command line run as a user would type it, from the repository root. */
function sh(
  line: string,
  env: NodeJS.ProcessEnv = {},
  timeoutMs = 120_000,
): Promise<{ code: number | null; out: string; ms: number }> {
  const t0 = Date.now();
  const child = spawn('bash', ['-c', line], {
    cwd: REPO_ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  return new Promise((resolve) =>
    child.once('close', (code) => (clearTimeout(timer), resolve({ code, out, ms: Date.now() - t0 }))),
  );
}

const state = () => JSON.parse(readFileSync(join(tmp.dir, 'stack.json'), 'utf8')) as StackState;
const urlOf = (s: StackState, name: string) => s.services.find((x) => x.name === name)!.url!;
const query = async (prom: string, q: string) =>
  (
    (await (
      await fetch(`${prom}/api/v1/query?query=${encodeURIComponent(q)}`, { signal: AbortSignal.timeout(5000) })
    ).json()) as { data: { result: Array<{ metric: Record<string, string>; value: [number, string] }> } }
  ).data.result;

test('make metrics, then make loadtest: the second says the UI is already up and where; a foreign port gets one line', async () => {
  const up = await sh(`make metrics STACK_ARGS="${STACK_ARGS}"`, {}, 180_000);
  assert.equal(up.code, 0, up.out);
  assert.match(up.out, /Dashboard +http:\S+\/consoles\/llm-router-overview\.html +\(served by Prometheus/);
  const s = state();
  const ui = urlOf(s, 'loadtest');
  const port = new URL(ui).port;

  const again = await sh('make loadtest', { LOADTEST_PORT: port });
  assert.equal(again.code, 0, again.out);
  assert.match(again.out, new RegExp(`load test UI is already running at http://127\\.0\\.0\\.1:${port}`));
  assert.doesNotMatch(again.out, /EADDRINUSE|\n\s+at /, 'no stack trace');
  assert.match(
    await (await fetch(ui, { signal: AbortSignal.timeout(5000) })).text(),
    /<html/i,
    'and the UI it points at answers',
  );

  const foreign = createServer().listen(0, '127.0.0.1');
  await new Promise((r) => foreign.once('listening', r));
  try {
    const busy = await sh('make loadtest', { LOADTEST_PORT: String((foreign.address() as { port: number }).port) });
    assert.equal(busy.code, 2, busy.out); // make's exit for a failed recipe
    assert.match(
      busy.out,
      /loadtest: port \d+ on 127\.0\.0\.1 is in use by another program; pick another with --port N/,
    );
    assert.doesNotMatch(busy.out, /EADDRINUSE|\n\s+at /);
  } finally {
    foreign.close();
  }
});

test("the README's headless example, verbatim: runs, stops at its deadline, leaves no files", async () => {
  const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
  const line = readme
    .split('\n')
    .find((l) => l.startsWith('make loadtest-headless LOADTEST_ARGS='))!
    .replace(/\s+#.*$/, '');
  const duration = Number(/--duration (\d+)s/.exec(line)![1]);
  const before = new Set(readdirSync(REPO_ROOT));
  const run = await sh(line, { LOADTEST_HOST: urlOf(state(), 'router') }, (duration + 60) * 1000);
  assert.ok(run.code === 0 || (run.code === 2 && /FAILED: /.test(run.out)), run.out);
  assert.match(run.out, /whole run: \d+ requests in [\d.]+s/);
  assert.ok(
    run.ms < (duration + 2 + 15) * 1000,
    `took ${run.ms} ms for a ${duration}s run (deadline + 2 s grace + start-up)`,
  );
  const added = readdirSync(REPO_ROOT).filter((f) => !before.has(f));
  assert.deepEqual(added, [], 'no stray files from shell redirections');
  assert.ok(!existsSync(join(REPO_ROOT, '2s')) && !existsSync(join(REPO_ROOT, '0.01,p95')));
});

test('a restarted stack on new ports shows no target or count of the previous one', async () => {
  const first = state();
  const router = urlOf(first, 'router');
  for (let i = 0; i < 3; i++) {
    const r = await fetch(`${router}/v1/chat/completions`, {
      method: 'POST',
      body: JSON.stringify({
        model: 'llama-3.1-8b-instruct',
        messages: [{ role: 'user', content: 'hi' }],
        max_tokens: 3,
      }),
      signal: AbortSignal.timeout(30_000),
    });
    assert.equal(r.status, 200);
  }
  await waitFor(
    "Prometheus has the first stack's requests",
    async () => (await query(urlOf(first, 'prometheus'), 'sum(llm_router_requests_total)'))[0]?.value[1] !== undefined,
    30_000,
    500,
  );
  assert.equal((await runToEnd(STACK, ['down', '--state-dir', tmp.dir], 60_000)).code, 0);

  const up = await sh(`make metrics STACK_ARGS="${STACK_ARGS}"`, {}, 180_000);
  assert.equal(up.code, 0, up.out);
  const second = state();
  const prom = urlOf(second, 'prometheus');
  const newTargets = new Set(['router', 'llm-sim', 'loadtest'].map((n) => new URL(urlOf(second, n)).host));
  await waitFor(
    "the new stack's three targets up",
    async () => (await query(prom, 'up == 1')).length === 3,
    30_000,
    500,
  );
  const upSeries = await query(prom, 'up');
  assert.ok(
    upSeries.every((r) => newTargets.has(r.metric.instance!)),
    `only the new targets: ${JSON.stringify(upSeries.map((r) => r.metric.instance))}`,
  );
  const total = await query(prom, 'sum(llm_router_requests_total)');
  assert.ok(total.length === 0 || Number(total[0]!.value[1]) === 0, `no old counts: ${JSON.stringify(total)}`);
});
