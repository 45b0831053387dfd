// Starts the project's services as real child processes on free loopback ports (--port 0) and stops them.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));
export const SIM_MAIN = join(REPO_ROOT, 'llm-sim/src/main.ts');
export const ROUTER_MAIN = join(REPO_ROOT, 'router/src/main.ts');
export const LOADTEST_MAIN = join(REPO_ROOT, 'loadtest/src/main.ts');

export interface RunningService {
  url: string;
  port: number;
  proc: ChildProcess;
  /** Everything the process printed so far. */
  output(): string;
  stop(): Promise<void>;
}

export async function startService(
  script: string,
  args: string[],
  env: NodeJS.ProcessEnv = {},
  timeoutMs = 30_000,
): Promise<RunningService> {
  const proc = spawn(
    process.execPath,
    ['--import', 'tsx', script, ...(args.includes('--port') ? [] : ['--port', '0']), ...args],
    {
      cwd: REPO_ROOT,
      env: { ...process.env, LOG_LEVEL: 'warn', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let out = '';
  proc.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`${script} did not start within ${timeoutMs} ms:\n${out}`)),
      timeoutMs,
    );
    proc.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /"port":(\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    proc.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${script} exited with ${code} before listening:\n${out}`));
    });
  });
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    proc,
    output: () => out,
    stop: () =>
      new Promise<void>((resolve) => {
        if (proc.exitCode !== null || proc.signalCode !== null) return resolve();
        const force = setTimeout(() => proc.kill('SIGKILL'), 5_000);
        proc.once('exit', () => {
          clearTimeout(force);
          resolve();
        });
        proc.kill('SIGTERM');
      }),
  };
}

/** A temp folder removed by the returned cleanup. */
export function tempDir(prefix = 'llm-router-test-'): {
  dir: string;
  write(name: string, text: string): string;
  remove(): void;
} {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return {
    dir,
    write(name, text) {
      const file = join(dir, name);
      writeFileSync(file, text);
      return file;
    },
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** A simulator config with fast, instant-ish models for tests. */
export function simConfigYaml(models: Array<Record<string, unknown>>, timeScale = 0.01): string {
  const lines = ['seed: 7', `time_scale: ${timeScale}`, 'models:'];
  for (const m of models) lines.push(`  - ${JSON.stringify(m)}`);
  return `${lines.join('\n')}\n`;
}

/** A port that nothing listens on (bound, then released). */
export { freePort } from '../stack/src/ports.ts';

/** Poll `check` until it returns a truthy value or `timeoutMs` passes (never a fixed sleep). */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined | false> | T | undefined | false,
  timeoutMs = 10_000,
  everyMs = 50,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/**
 * The router's output once every line it logged so far is written. The router writes its log in batches
 * (router/src/log.ts), so a check that something is absent from the log must wait for them: this sends one
 * marked request (an empty body: a 400, logged like every request) and waits for its line, which is written
 * after every line logged before it. `headers`: e.g. the client key of a router with auth.
 */
export async function flushedRouterOutput(
  router: RunningService,
  headers: Record<string, string> = {},
): Promise<string> {
  const marker = `log-flush-${randomUUID()}`;
  const res = await fetch(`${router.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-request-id': marker, ...headers },
    body: '{}',
    signal: AbortSignal.timeout(5_000),
  });
  await res.arrayBuffer();
  return waitFor(
    `the router's log line for request ${marker}`,
    () => router.output().includes(marker) && router.output(),
  );
}

/** Sum of a metric's samples whose labels include `labels`, from Prometheus text. */
export function metricValue(text: string, name: string, labels: Record<string, string> = {}): number {
  const want = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  return text
    .split('\n')
    .filter((l) => (l.startsWith(`${name}{`) || l.startsWith(`${name} `)) && want.every((w) => l.includes(w)))
    .reduce((s, l) => s + Number(l.split(' ').at(-1)), 0);
}

/** Router YAML for tests: `models` maps a model name to its deployments' sim models (and extra keys). */
export function routerYaml(
  simUrl: string,
  models: Record<string, { deployments: Array<Record<string, unknown> & { model: string }>; [k: string]: unknown }>,
  extra = '',
): string {
  const lines = ['models:'];
  for (const [name, m] of Object.entries(models)) {
    const { deployments, ...rest } = m;
    lines.push(`  - name: ${name}`);
    for (const [k, v] of Object.entries(rest)) lines.push(`    ${k}: ${JSON.stringify(v)}`);
    lines.push('    deployments:');
    deployments.forEach((d, i) => {
      const dep = { id: `${name}-${i}`, api_base: `${simUrl}/v1`, price: { input_per_1m: 1, output_per_1m: 2 }, ...d };
      lines.push(`      - ${JSON.stringify(dep)}`);
    });
  }
  return `${lines.join('\n')}\n${extra}`;
}

/** Run a command to completion; resolves with its exit code and output (bounded by timeoutMs). */
export function runToEnd(
  script: string,
  args: string[],
  timeoutMs = 120_000,
  env: NodeJS.ProcessEnv = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const proc = spawn(process.execPath, ['--import', 'tsx', script, ...args], {
      cwd: REPO_ROOT,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    proc.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    proc.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => proc.kill('SIGKILL'), timeoutMs);
    proc.once('close', (code) => {
      // 'close': after stdout and stderr are drained, unlike 'exit'
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/**
 * Every http(s) address a launcher offers: its link lines ("  <label, 26 wide> <url>  (note)"), not the other lines
 * around them (a pull's log quoting a registry, a reason a service did not start), with the status each answers
 * (0: no answer).
 */
export async function printedUrlStatuses(text: string): Promise<Array<{ url: string; status: number }>> {
  const LINK_COLUMN = 2 + 26 + 1;
  const urls = [
    ...new Set(
      text
        .split('\n')
        .filter((l) => l.startsWith('  ') && l[2] !== ' ')
        .map((l) => /^https?:\/\/\S+/.exec(l.slice(LINK_COLUMN))?.[0])
        .filter((u): u is string => u !== undefined),
    ),
  ];
  return Promise.all(
    urls.map(async (url) => {
      try {
        const res = await fetch(url, { signal: AbortSignal.timeout(10_000) });
        await res.body?.cancel();
        return { url, status: res.status };
      } catch {
        return { url, status: 0 };
      }
    }),
  );
}
