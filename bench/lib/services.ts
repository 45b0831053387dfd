// Processes a benchmark runs: the fast upstream, the router, and the Portkey gateway as a peer.
// Their output goes to a temp log file, as in production: a pipe the benchmark must keep draining while it
// drives load would make the benchmark part of what it measures.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ROUTER_NODE_FLAGS } from '../../router/node-flags.ts';
import { answersHttp } from '../../stack/src/http-probe.ts';
import { freePort } from '../../stack/src/ports.ts';
import { waitFor } from '../../test-support/services.ts';

export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
const TAIL_BYTES = 16 * 1024;

export interface Service {
  name: string;
  url: string;
  pid: number;
  /** The end of what the process printed. */
  tail(): string;
  stop(): Promise<void>;
}

const running = new Set<Service>();
/** Stop everything a benchmark started, whatever way it ends. */
export async function stopAll(): Promise<void> {
  await Promise.all([...running].map((s) => s.stop()));
}
for (const signal of ['SIGINT', 'SIGTERM'] as const)
  process.once(signal, () => void stopAll().then(() => process.exit(130)));

export type RouterRuntime = 'build' | 'tsx';
export const ROUTER_BUILD = 'router/dist/main.mjs';

/** The production build of the router, rebuilt once per benchmark run (esbuild takes well under a second):
 * a stale build would silently measure old code. */
let built = false;
function ensureRouterBuild(): string {
  if (!built) {
    const r = spawnSync(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'router/build.ts')], {
      cwd: REPO_ROOT,
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    if (r.status !== 0) throw new Error('router build failed (node --import tsx router/build.ts)');
    built = true;
  }
  return ROUTER_BUILD;
}

const readTail = (file: string) => (existsSync(file) ? readFileSync(file, 'utf8').slice(-TAIL_BYTES) : '');

/** Spawn node with stdout and stderr going to a temp log file, removed when the process is stopped. */
function spawnLogged(
  name: string,
  args: string[],
  options: { cwd: string; env?: NodeJS.ProcessEnv },
): { proc: ChildProcess; logFile: string; track(url: string): Service } {
  const dir = mkdtempSync(join(tmpdir(), 'llm-router-bench-log-'));
  const logFile = join(dir, 'output.log');
  const fd = openSync(logFile, 'a');
  const proc = spawn(process.execPath, args, {
    cwd: options.cwd,
    env: options.env ?? process.env,
    stdio: ['ignore', fd, fd],
  });
  closeSync(fd);
  const track = (url: string): Service => {
    const service: Service = {
      name,
      url,
      pid: proc.pid!,
      tail: () => readTail(logFile),
      stop: () =>
        new Promise<void>((resolve) => {
          running.delete(service);
          const done = () => (rmSync(dir, { recursive: true, force: true }), resolve());
          if (proc.exitCode !== null || proc.signalCode !== null) return done();
          const force = setTimeout(() => proc.kill('SIGKILL'), 5_000);
          proc.once('exit', () => (clearTimeout(force), done()));
          proc.kill('SIGTERM');
        }),
    };
    running.add(service);
    return service;
  };
  return { proc, logFile, track };
}

/** A TypeScript (or built .mjs) entry point of this repo that prints {"port":N} once it listens. */
export async function startNodeService(
  name: string,
  script: string,
  args: string[],
  env: NodeJS.ProcessEnv = {},
  nodeFlags: readonly string[] = [],
): Promise<Service> {
  const loader = script.endsWith('.ts') ? ['--import', 'tsx'] : [];
  const argv = [...nodeFlags, ...loader, join(REPO_ROOT, script), '--port', '0', ...args];
  const { proc, logFile, track } = spawnLogged(name, argv, {
    cwd: REPO_ROOT,
    env: { ...process.env, ...env },
  });
  const service = track('');
  try {
    const port = await waitFor(
      `${name} to print its port`,
      () => {
        if (proc.exitCode !== null) throw new Error(`${name} exited with ${proc.exitCode}`);
        return /"port":(\d+)/.exec(readTail(logFile))?.[1];
      },
      30_000,
      50,
    );
    return Object.assign(service, { url: `http://127.0.0.1:${port}` });
  } catch (err) {
    const output = service.tail();
    await service.stop();
    throw new Error(`${name} did not start (${(err as Error).message}):\n${output}`);
  }
}

/**
 * The router in front of `upstreamUrl`: one model "bench" with one deployment (`deploymentYaml` adds keys).
 * runtime 'build' (default) is what production runs: router/dist/main.mjs on plain node; 'tsx' runs the sources.
 */
export async function startBenchRouter(
  upstreamUrl: string,
  options: {
    workers?: number;
    logLevel?: string;
    deploymentYaml?: string;
    runtime?: RouterRuntime;
    /** Top-level YAML added to the config (e.g. a state: section). */
    extraYaml?: string;
    /** Another production build to run (bench/router-ab.ts: a base revision's), relative to the repository. */
    entry?: string;
  } = {},
): Promise<Service> {
  const dir = mkdtempSync(join(tmpdir(), 'llm-router-bench-'));
  const file = join(dir, 'router.yaml');
  writeFileSync(
    file,
    [
      'models:',
      '  - name: bench',
      '    deployments:',
      `      - { id: bench-0, model: bench, api_base: "${upstreamUrl}/v1", price: { input_per_1m: 1, output_per_1m: 2 }${options.deploymentYaml ?? ''} }`,
      // Send "model": "router/task_router" to measure with classification on the path.
      'policies:',
      '  - { name: task_router, classifier: task, routes: {}, default: bench }',
      options.extraYaml ?? '',
      '',
    ].join('\n'),
  );
  const args = ['--config', file, ...(options.workers ? ['--workers', String(options.workers)] : [])];
  try {
    // The router reads its config once at start: the file can go as soon as it listens.
    const entry = options.entry ?? (options.runtime === 'tsx' ? 'router/src/main.ts' : ensureRouterBuild());
    return await startNodeService(
      `router${options.workers ? ` x${options.workers}` : ''}`,
      entry,
      args,
      { LOG_LEVEL: options.logLevel ?? 'info' },
      // The build runs with its production flags, as the image and make router-prod start it.
      options.runtime === 'tsx' ? [] : ROUTER_NODE_FLAGS,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export const PORTKEY_VERSION = process.env.PORTKEY_VERSION ?? '1.15.2';

/**
 * Portkey's open-source gateway (TypeScript, Node), installed from npm into a temp folder (reused across
 * runs, never a dependency of this project) and pointed at the same upstream through its custom-host header.
 */
export async function startPortkey(
  upstreamUrl: string,
): Promise<(Service & { headers: Record<string, string> }) | { skipped: string }> {
  const dir = join(tmpdir(), `llm-router-bench-portkey-${PORTKEY_VERSION}`);
  const entry = join(dir, 'node_modules/@portkey-ai/gateway/build/start-server.js');
  if (!existsSync(entry)) {
    console.log(`installing @portkey-ai/gateway@${PORTKEY_VERSION} into ${dir} ...`);
    const r = spawnSync(
      'npm',
      [
        'install',
        '--prefix',
        dir,
        '--no-save',
        '--no-audit',
        '--no-fund',
        '--ignore-scripts',
        '--loglevel=error',
        `@portkey-ai/gateway@${PORTKEY_VERSION}`,
      ],
      { stdio: 'inherit', timeout: 180_000 },
    );
    if (r.status !== 0 || !existsSync(entry))
      return {
        skipped: `npm install @portkey-ai/gateway@${PORTKEY_VERSION} failed (exit ${r.status}); is the npm registry reachable?`,
      };
  }
  const port = await freePort();
  const service = spawnLogged('portkey', [entry, `--port=${port}`, '--headless'], { cwd: dir }).track(
    `http://127.0.0.1:${port}`,
  );
  await waitFor(`Portkey on ${service.url}`, () => answersHttp(service.url), 30_000, 100);
  return {
    ...service,
    headers: {
      'x-portkey-provider': 'openai',
      'x-portkey-custom-host': `${upstreamUrl}/v1`,
      authorization: 'Bearer bench-key',
    },
  };
}
