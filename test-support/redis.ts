// A real Redis (Debian's redis-server) on a free loopback port with a temp dir, for shared-state tests.
// stop() and kill() end only the process started here; start() brings it back on the same port.
import { spawn, type ChildProcess } from 'node:child_process';
import { answersRedis } from '../stack/src/http-probe.ts';
import { freePort, tempDir, waitFor } from './services.ts';

export interface TestRedis {
  url: string;
  port: number;
  /** The running server's process id. */
  pid(): number | undefined;
  /** (Re)start on the same port with an empty dataset. */
  start(): Promise<void>;
  /** SIGKILL: the abrupt loss a router must survive. */
  kill(): Promise<void>;
  /** SIGSTOP / SIGCONT: a server that hangs (connections stay open, nothing answers), then goes on. */
  pause(): void;
  resume(): void;
  stop(): Promise<void>;
}

export async function startRedis(): Promise<TestRedis> {
  const port = await freePort();
  const tmp = tempDir('llm-router-redis-');
  let proc: ChildProcess | undefined;
  const exited = () => !proc || proc.exitCode !== null || proc.signalCode !== null;
  const end = async (signal: NodeJS.Signals) => {
    if (exited()) return;
    const p = proc!;
    await new Promise<void>((resolve) => {
      p.once('exit', () => resolve());
      p.kill(signal);
    });
  };
  const redis: TestRedis = {
    url: `redis://127.0.0.1:${port}`,
    port,
    pid: () => (exited() ? undefined : proc!.pid),
    async start() {
      if (!exited()) return;
      // No persistence: every start is empty, like a cache that lost its node.
      proc = spawn(
        'redis-server',
        ['--port', String(port), '--bind', '127.0.0.1', '--dir', tmp.dir, '--save', '', '--appendonly', 'no'],
        { stdio: 'ignore' },
      );
      await waitFor(`redis-server on port ${port}`, () => answersRedis(port), 10_000);
    },
    kill: () => end('SIGKILL'),
    pause: () => void proc?.kill('SIGSTOP'),
    resume: () => void proc?.kill('SIGCONT'),
    async stop() {
      await end('SIGTERM');
      tmp.remove();
    },
  };
  await redis.start();
  return redis;
}
