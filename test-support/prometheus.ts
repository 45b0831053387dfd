// Runs the real Prometheus binary (Debian's package) on a free loopback port with a temp TSDB.
import { spawn } from 'node:child_process';
import { freePort, tempDir, waitFor } from './services.ts';

export interface RunningPrometheus {
  url: string;
  query(expr: string): Promise<Array<{ metric: Record<string, string>; value: [number, string] }>>;
  stop(): Promise<void>;
}

export async function startPrometheus(
  configYaml: string,
  extraFiles: Record<string, string> = {},
  extraArgs: string[] = [],
): Promise<RunningPrometheus> {
  const tmp = tempDir('prometheus-test-');
  for (const [name, text] of Object.entries(extraFiles)) tmp.write(name, text);
  const config = tmp.write('prometheus.yml', configYaml);
  const port = await freePort();
  const proc = spawn(
    'prometheus',
    [
      `--config.file=${config}`,
      `--storage.tsdb.path=${tmp.dir}/data`,
      `--web.listen-address=127.0.0.1:${port}`,
      // Absolute links in alerts (runbook_url) point here.
      `--web.external-url=http://127.0.0.1:${port}`,
      '--log.level=warn',
      ...extraArgs,
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  proc.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const url = `http://127.0.0.1:${port}`;
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  try {
    await waitFor(
      'prometheus ready',
      () =>
        proc.exitCode !== null
          ? Promise.reject(new Error(`prometheus exited: ${stderr}`))
          : fetch(`${url}/-/ready`, { signal: AbortSignal.timeout(1000) })
              .then((r) => r.ok)
              .catch(() => false),
      20_000,
      100,
    );
  } catch (err) {
    proc.kill('SIGKILL');
    tmp.remove();
    throw err;
  }
  return {
    url,
    async query(expr) {
      const res = await fetch(`${url}/api/v1/query?query=${encodeURIComponent(expr)}`, {
        signal: AbortSignal.timeout(5000),
      });
      const body = (await res.json()) as {
        status: string;
        error?: string;
        data: { result: Array<{ metric: Record<string, string>; value: [number, string] }> };
      };
      if (body.status !== 'success') throw new Error(`query failed: ${expr}: ${body.error}`);
      return body.data.result;
    },
    async stop() {
      if (proc.exitCode === null) proc.kill('SIGTERM');
      await exited;
      tmp.remove();
    },
  };
}
