// Runs the compose services without Docker: our Node services as local processes (the Dockerfile target
// names the workspace), Prometheus and Grafana from local binaries when installed. Compose service
// names in arguments and environment (http://llm-sim:8000) are rewritten to 127.0.0.1 and host ports.
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { consoleFlags, prometheusConfig, PROMETHEUS_DIR } from '@llm-router/prometheus-config';
import { healthUrl, replicaName, replicaPorts, serviceUrl, type ServiceSpec } from './compose.ts';
import { answersHttp, answersRedis } from './http-probe.ts';
import type { StackState, StartedService } from './state.ts';

const has = (bin: string) => spawnSync('sh', ['-c', `command -v ${bin}`]).status === 0;

/** How to get a missing binary, said plainly. */
const INSTALL_HINTS: Record<string, string> = {
  prometheus:
    "Prometheus is not installed: on Debian/Ubuntu run 'sudo apt-get install prometheus' (or make install-system-deps).",
  alertmanager:
    "Alertmanager is not installed: on Debian/Ubuntu run 'sudo apt-get install prometheus-alertmanager' (or make install). Prometheus still evaluates the alerts (see its alerts page).",
  redis:
    "Redis is not installed: on Debian/Ubuntu run 'sudo apt-get install redis-server' (or make install). The routers run on local limits until it answers.",
  grafana:
    "Grafana is not installed (it is not in Debian and cannot be fetched here). Install it from Grafana Labs' apt repository or use the docker-compose stack; the dashboards are in grafana/dashboards and provisioning in grafana/provisioning.",
};

function rewriteHosts(text: string, services: ServiceSpec[]): string {
  let out = text.replace(/0\.0\.0\.0/g, '127.0.0.1');
  for (const s of services) {
    // A client of a scaled service (the load generator's --host) gets every replica, comma-separated.
    if (s.replicas > 1 && s.ports[0])
      out = out.replaceAll(
        `http://${s.name}:${s.ports[0].container}`,
        replicaPorts(s)
          .map((p) => `http://127.0.0.1:${p}`)
          .join(','),
      );
    for (const p of s.ports) out = out.replaceAll(`${s.name}:${p.container}`, `127.0.0.1:${p.host}`);
  }
  return out;
}

/** Map container paths of a service's mounts back to host paths. */
function hostPath(s: ServiceSpec, arg: string): string {
  for (const m of s.mounts) if (arg.startsWith(m.target)) return m.source + arg.slice(m.target.length);
  return arg;
}

async function waitHttp(url: string, what: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await answersHttp(url, { okOnly: true })) return;
    if (Date.now() > deadline) throw new Error(`${what} did not become ready at ${url} within ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Whether 127.0.0.1:port can be bound now (a service that cannot bind would only fail later, in its log). */
function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** Where the compose file mounts grafana/dashboards in the Grafana container. */
const CONTAINER_DASHBOARDS = '/var/lib/grafana/dashboards';

/**
 * grafana/provisioning for a Grafana running here: a copy under the state dir whose dashboard provider reads this
 * checkout's grafana/dashboards (every folder and dashboard, as in the container), not the container's path.
 */
export function nativeGrafanaProvisioning(repoRoot: string, stateDir: string): string {
  const source = resolve(repoRoot, 'grafana/provisioning');
  const target = join(stateDir, 'grafana-provisioning');
  rmSync(target, { recursive: true, force: true });
  cpSync(source, target, { recursive: true });
  for (const file of readdirSync(join(target, 'dashboards'))) {
    const path = join(target, 'dashboards', file);
    writeFileSync(
      path,
      readFileSync(path, 'utf8').replaceAll(CONTAINER_DASHBOARDS, resolve(repoRoot, 'grafana/dashboards')),
    );
  }
  return target;
}

/** `command` with its --port value set to the published host port (appended when it has none). */
export function withPort(args: string[], port: number | undefined): string[] {
  if (port === undefined) return args;
  const i = args.indexOf('--port');
  if (i < 0) return [...args, '--port', String(port)];
  return args.map((a, j) => (j === i + 1 ? String(port) : a));
}

export interface NativeUpOptions {
  stateDir: string;
  repoRoot: string;
  log: (l: string) => void;
  skip: Set<string>;
  /** Keep Prometheus's TSDB from the previous `up` (default: a fresh one, so no earlier stack's targets or counts show). */
  keepData?: boolean;
}

export async function nativeUp(services: ServiceSpec[], project: string, opts: NativeUpOptions): Promise<StackState> {
  const state: StackState = {
    backend: 'native',
    project,
    startedAt: new Date().toISOString(),
    services: [],
    skipped: [],
  };
  const logs = join(opts.stateDir, 'logs');
  mkdirSync(logs, { recursive: true });
  const port = (name: string) => services.find((s) => s.name === name)?.ports[0]?.host;

  const launch = (
    s: ServiceSpec,
    cmd: string,
    args: string[],
    env: Record<string, string>,
    replica = 0,
  ): StartedService => {
    const name = replicaName(s, replica);
    const logFile = join(logs, `${name}.log`);
    const fd = openSync(logFile, 'a');
    // Detached: the services outlive this command; `stack down` stops them by the recorded pid.
    const child = spawn(cmd, args, {
      cwd: opts.repoRoot,
      env: { ...process.env, ...env },
      stdio: ['ignore', fd, fd],
      detached: true,
    });
    child.unref();
    const port = replicaPorts(s)[replica];
    const started = { name, pid: child.pid!, logFile, ...(port ? { url: serviceUrl(s, port) } : {}) };
    state.services.push(started);
    return started;
  };

  try {
    for (const s of services) {
      if (opts.skip.has(s.name)) {
        state.skipped.push({ name: s.name, reason: 'skipped on request' });
        continue;
      }
      for (const p of s.ports.flatMap((p) => replicaPorts({ ...s, ports: [p] }))) {
        if (!(await portFree(p))) {
          const envName = `${s.name.toUpperCase().replace(/-/g, '_')}_PORT`;
          throw new Error(
            `port ${p} (${s.name}) is in use by another program; stop it, or start the stack on other ports (${envName}=N make metrics)`,
          );
        }
      }
      if (s.build) {
        const main = resolve(opts.repoRoot, s.build.target, 'src/main.ts');
        if (!existsSync(main)) throw new Error(`no native entry point for ${s.name}: ${main}`);
        const env = Object.fromEntries(Object.entries(s.environment).map(([k, v]) => [k, rewriteHosts(v, services)]));
        const health = healthUrl(s);
        // Each replica: the container's own port becomes its published host port (the first, then +1, +2...).
        for (const [i, hostPort] of replicaPorts(s).entries()) {
          const args = withPort(
            s.command.map((a) => hostPath(s, rewriteHosts(a, services))),
            hostPort,
          );
          launch(s, process.execPath, ['--import', 'tsx', main, ...args], env, i);
        }
        for (const hostPort of replicaPorts(s))
          await waitHttp(`http://127.0.0.1:${hostPort}${health?.pathname ?? '/'}`, s.name);
      } else if (s.image.startsWith('prom/alertmanager')) {
        if (!has('prometheus-alertmanager')) {
          state.skipped.push({ name: s.name, reason: INSTALL_HINTS.alertmanager! });
          continue;
        }
        const hostPort = s.ports[0]!.host;
        const dir = join(opts.stateDir, 'alertmanager');
        mkdirSync(dir, { recursive: true });
        launch(
          s,
          'prometheus-alertmanager',
          [
            // The container's flags, with its config mount mapped back to this checkout and its own storage here.
            ...s.command
              .filter((a) => !a.startsWith('--storage.path='))
              .map((a) => (a.startsWith('--config.file=') ? `--config.file=${hostPath(s, a.slice(14))}` : a)),
            `--storage.path=${dir}`,
            `--web.listen-address=127.0.0.1:${hostPort}`,
          ],
          {},
        );
        await waitHttp(`http://127.0.0.1:${hostPort}/-/ready`, 'alertmanager');
      } else if (s.image.startsWith('redis')) {
        if (!has('redis-server')) {
          state.skipped.push({ name: s.name, reason: INSTALL_HINTS.redis! });
          continue;
        }
        const dir = join(opts.stateDir, 'redis');
        mkdirSync(dir, { recursive: true });
        const hostPort = s.ports[0]!.host;
        // No persistence: shared rate-limit windows and cooldowns live a minute at most.
        launch(
          s,
          'redis-server',
          ['--port', String(hostPort), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no'],
          {},
        );
        const deadline = Date.now() + 30_000;
        while (!(await answersRedis(hostPort))) {
          if (Date.now() > deadline) throw new Error(`redis did not answer on port ${hostPort} within 30 s`);
          await new Promise((r) => setTimeout(r, 100));
        }
      } else if (s.image.startsWith('prom/prometheus')) {
        if (!has('prometheus')) {
          state.skipped.push({ name: s.name, reason: INSTALL_HINTS.prometheus! });
          continue;
        }
        const dir = join(opts.stateDir, 'prometheus');
        // A new stack starts with an empty TSDB: an old one shows the previous stack's targets as up and its
        // counters for minutes (staleness), on whatever ports it used. KEEP_PROMETHEUS_DATA=1 keeps history.
        if (!opts.keepData) rmSync(join(dir, 'data'), { recursive: true, force: true });
        mkdirSync(join(dir, 'data'), { recursive: true });
        const router = services.find((x) => x.name === 'router');
        const targets = {
          router: router ? replicaPorts(router).map((p) => `127.0.0.1:${p}`) : [],
          llmSim: `127.0.0.1:${port('llm-sim')}`,
          loadtest: `127.0.0.1:${port('loadtest')}`,
        };
        writeFileSync(
          join(dir, 'prometheus.yml'),
          prometheusConfig(targets, {
            ruleFiles: [join(PROMETHEUS_DIR, 'rules/recording.yml'), join(PROMETHEUS_DIR, 'rules/alerts.yml')],
            // The Alertmanager this stack started, if it could (it starts first: Prometheus depends on it).
            alertmanagers: state.services
              .filter((x) => x.name === 'alertmanager' && x.url)
              .map((x) => x.url!.replace('http://', '')),
          }),
        );
        launch(
          s,
          'prometheus',
          [
            `--config.file=${join(dir, 'prometheus.yml')}`,
            `--storage.tsdb.path=${join(dir, 'data')}`,
            `--web.listen-address=127.0.0.1:${s.ports[0]!.host}`,
            // Absolute links in alerts (runbook_url) point at this Prometheus.
            `--web.external-url=http://127.0.0.1:${s.ports[0]!.host}`,
            '--web.enable-lifecycle',
            // The dashboards as console pages (no Grafana here) and the runbooks page.
            ...consoleFlags(),
          ],
          {},
        );
        await waitHttp(`http://127.0.0.1:${s.ports[0]!.host}/-/ready`, 'prometheus');
      } else if (s.image.startsWith('grafana/')) {
        const bin = has('grafana') ? 'grafana' : has('grafana-server') ? 'grafana-server' : null;
        if (!bin) {
          state.skipped.push({ name: s.name, reason: INSTALL_HINTS.grafana! });
          continue;
        }
        // Same provisioning as the container, with its paths mapped to this checkout.
        const env: Record<string, string> = {
          ...s.environment,
          PROMETHEUS_URL: `http://127.0.0.1:${port('prometheus')}`,
          GF_SERVER_HTTP_PORT: String(s.ports[0]!.host),
          GF_SERVER_HTTP_ADDR: '127.0.0.1',
          GF_PATHS_PROVISIONING: nativeGrafanaProvisioning(opts.repoRoot, opts.stateDir),
          GF_PATHS_DATA: join(opts.stateDir, 'grafana'),
        };
        env.GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH = (env.GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH ?? '').replace(
          CONTAINER_DASHBOARDS,
          resolve(opts.repoRoot, 'grafana/dashboards'),
        );
        launch(
          s,
          bin,
          bin === 'grafana' ? ['server', '--homepath', '/usr/share/grafana'] : ['--homepath', '/usr/share/grafana'],
          env,
        );
        await waitHttp(`http://127.0.0.1:${s.ports[0]!.host}/api/health`, 'grafana', 120_000);
      } else {
        state.skipped.push({ name: s.name, reason: `no native way to run image ${s.image}` });
      }
    }
  } catch (err) {
    nativeDown(state);
    throw err;
  }
  return state;
}

/** Stop exactly the processes this stack started (by pid, only if still the same command). */
export function nativeDown(state: StackState): string[] {
  const stopped: string[] = [];
  for (const s of [...state.services].reverse()) {
    if (!s.pid) continue;
    try {
      const cmdline = readFileSync(`/proc/${s.pid}/cmdline`, 'utf8');
      if (!cmdline) continue;
      process.kill(-s.pid, 'SIGTERM'); // the process group: the service and anything it started
      stopped.push(s.name);
    } catch {
      /* already gone */
    }
  }
  return stopped;
}

export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
