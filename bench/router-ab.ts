// Same-run A/B of two router builds: this checkout against a base revision (default HEAD~1), both built for
// production, in front of the same fast upstream, at the same fixed rate, in alternating rounds. For refactors that
// must not change speed: the numbers and head/base ratios, never pass/fail.
// Usage: make bench-ab [AB_BASE=<git rev>] [BENCH_ARGS="--rate 1000 --seconds 8 --rounds 3"]
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { cpuSeconds } from '../test-support/proc-stats.ts';
import { openLoop, openLoopClient } from './lib/drivers.ts';
import { REPO_ROOT, startBenchRouter, startNodeService, stopAll } from './lib/services.ts';
import { fmt, table } from './lib/table.ts';

const { values } = parseArgs({
  options: {
    base: { type: 'string', default: process.env.AB_BASE || 'HEAD~1' },
    rate: { type: 'string', default: '1000' },
    seconds: { type: 'string', default: '8' },
    rounds: { type: 'string', default: '3' },
  },
});
const RATE = Number(values.rate);
const SECONDS = Number(values.seconds);
const ROUNDS = Number(values.rounds);
const BASE_DIST = join(REPO_ROOT, '.cache/ab-base');

// The base build: a detached worktree of the revision, sharing this checkout's node_modules, built with its own
// router/build.ts, the output copied under .cache/ (git-ignored) where the bench starts it.
const rev = execFileSync('git', ['rev-parse', '--short', values.base!], { cwd: REPO_ROOT, encoding: 'utf8' }).trim();
const tree = mkdtempSync(join(tmpdir(), 'llm-router-ab-'));
try {
  execFileSync('git', ['worktree', 'add', '--detach', tree, rev], { cwd: REPO_ROOT, stdio: 'ignore' });
  symlinkSync(join(REPO_ROOT, 'node_modules'), join(tree, 'node_modules'));
  execFileSync(process.execPath, ['--import', 'tsx', 'router/build.ts'], { cwd: tree, stdio: 'ignore' });
  rmSync(BASE_DIST, { recursive: true, force: true });
  cpSync(join(tree, 'router/dist'), BASE_DIST, { recursive: true });
} finally {
  execFileSync('git', ['worktree', 'remove', '--force', tree], { cwd: REPO_ROOT, stdio: 'ignore' });
  rmSync(tree, { recursive: true, force: true });
}
if (!existsSync(join(BASE_DIST, 'main.mjs'))) throw new Error(`no build of ${rev}`);

try {
  const upstream = await startNodeService('fast upstream', 'bench/fast-upstream.ts', []);
  const head = await startBenchRouter(upstream.url);
  // The base router: the same config and flags, the base revision's build.
  const base = await startBenchRouter(upstream.url, { entry: '.cache/ab-base/main.mjs' });
  const targets = [
    { name: `base ${rev}`, service: base },
    { name: 'head', service: head },
  ];
  const results = new Map(targets.map((t) => [t.name, [] as Array<{ p50: number; p99: number; cpuUs: number }>]));
  const clients = new Map(
    targets.map((t) => [
      t.name,
      openLoopClient({ name: t.name, url: t.service.url, headers: {}, model: 'bench' }, 256),
    ]),
  );
  console.log(
    `A/B: base ${rev} vs head, ${RATE} req/s for ${SECONDS}s per round, ${ROUNDS} rounds each, alternating...`,
  );
  for (const t of targets)
    await openLoop({ name: t.name, url: t.service.url, headers: {} }, RATE, 3, { client: clients.get(t.name)! });
  for (let r = 0; r < ROUNDS; r++)
    for (const t of r % 2 ? [...targets].reverse() : targets) {
      const cpu0 = cpuSeconds(t.service.pid);
      const res = await openLoop({ name: t.name, url: t.service.url, headers: {}, model: 'bench' }, RATE, SECONDS, {
        client: clients.get(t.name)!,
      });
      const cpuUs = ((cpuSeconds(t.service.pid) - cpu0) / res.sent) * 1e6;
      results.get(t.name)!.push({ p50: res.p50_ms, p99: res.p99_ms, cpuUs });
    }
  for (const c of clients.values()) await c.close();
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const row = (name: string) => {
    const rs = results.get(name)!;
    return [median(rs.map((x) => x.p50)), median(rs.map((x) => x.p99)), median(rs.map((x) => x.cpuUs))];
  };
  const [b, h] = targets.map((t) => row(t.name));
  console.log('');
  table(
    ['build', 'client p50 ms', 'client p99 ms', 'router CPU µs / request'],
    [
      [`base ${rev}`, fmt(b![0]!, 3), fmt(b![1]!, 3), fmt(b![2]!, 1)],
      ['head', fmt(h![0]!, 3), fmt(h![1]!, 3), fmt(h![2]!, 1)],
      ['head / base', fmt(h![0]! / b![0]!, 3), fmt(h![1]! / b![1]!, 3), fmt(h![2]! / b![2]!, 3)],
    ],
  );
} finally {
  await stopAll();
}
