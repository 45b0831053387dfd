// Runs the compose services on a Docker engine through dockerode: builds images that have a build
// section, one network per project, containers labelled like docker-compose's, then waits for health.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import Docker from 'dockerode';
import { replicaName, replicaPorts, serviceUrl, type ServiceSpec } from './compose.ts';
import { answersHttp } from './http-probe.ts';
import type { StackState } from './state.ts';

const LABEL_PROJECT = 'com.docker.compose.project';
const LABEL_SERVICE = 'com.docker.compose.service';

/** The engine from DOCKER_HOST (unix:// or tcp://) or the default socket; API version negotiated, never forced. */
export function dockerClient(): Docker {
  const host = process.env.DOCKER_HOST;
  if (host?.startsWith('unix://')) return new Docker({ socketPath: host.slice('unix://'.length) });
  if (host?.startsWith('tcp://')) {
    const u = new URL(host.replace('tcp://', 'http://'));
    return new Docker({ host: u.hostname, port: Number(u.port) });
  }
  return new Docker();
}

export async function dockerAvailable(docker = dockerClient()): Promise<boolean> {
  try {
    await Promise.race([
      docker.ping(),
      new Promise((_, reject) => setTimeout(() => reject(new Error('timeout')), 2000)),
    ]);
    return true;
  } catch {
    return false;
  }
}

const SYSTEM_CA_BUNDLE = '/etc/ssl/certs/ca-certificates.crt';

/** Pull an image; false (with the reason logged) when no registry can be reached. */
async function pullImage(docker: Docker, image: string, log: (l: string) => void): Promise<boolean> {
  try {
    const stream = await docker.pull(image);
    await new Promise<void>((resolve, reject) =>
      docker.modem.followProgress(stream, (err) => (err ? reject(err) : resolve())),
    );
    return true;
  } catch (err) {
    log(`  pull of ${image} failed: ${(err as Error).message.split('\n')[0]}`);
    return false;
  }
}

async function imageExists(docker: Docker, image: string): Promise<boolean> {
  try {
    await docker.getImage(image).inspect();
    return true;
  } catch {
    return false;
  }
}

/** Build a service image from its compose build section (context sent as a tar, .dockerignore honoured by the engine). */
export async function buildImage(docker: Docker, s: ServiceSpec, log: (line: string) => void): Promise<void> {
  if (!s.build) throw new Error(`service ${s.name} has no build section`);
  const tar = spawn(
    'tar',
    [
      '-c',
      '--exclude=./node_modules',
      '--exclude=*/node_modules',
      '--exclude=./.git',
      '--exclude=./.state',
      '-C',
      s.build.context,
      '.',
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const buildargs: Record<string, string> = {};
  // Behind a TLS-inspecting proxy npm needs its CA inside the build (see docker/Dockerfile). The system
  // bundle is the usual place for such a CA; where the base image lacks the file, Node only warns.
  const ca = process.env.NODE_EXTRA_CA_CERTS ?? (existsSync(SYSTEM_CA_BUNDLE) ? SYSTEM_CA_BUNDLE : undefined);
  if (ca) buildargs.NODE_EXTRA_CA_CERTS = ca;
  const stream = await docker.buildImage(tar.stdout!, {
    t: s.image,
    dockerfile: s.build.dockerfile,
    target: s.build.target,
    buildargs,
    networkmode: 'host',
    rm: true,
    forcerm: true,
  });
  await new Promise<void>((resolve, reject) => {
    docker.modem.followProgress(
      stream,
      (err, output) => {
        const failure = (output as Array<{ error?: string }> | undefined)?.find((o) => o.error);
        if (err || failure) reject(new Error(`building ${s.image} failed: ${err?.message ?? failure?.error}`));
        else resolve();
      },
      (event: { stream?: string }) => {
        if (event.stream?.startsWith('Step ')) log(`  ${s.name}: ${event.stream.trim()}`);
      },
    );
  });
}

export async function dockerUp(
  services: ServiceSpec[],
  project: string,
  opts: { build: boolean; log: (l: string) => void; skip: Set<string> },
): Promise<StackState> {
  const docker = dockerClient();
  const network = `${project}_default`;
  const existing = await docker.listNetworks({ filters: { name: [network] } });
  if (!existing.some((n) => n.Name === network))
    await docker.createNetwork({ Name: network, Labels: { [LABEL_PROJECT]: project } });
  const state: StackState = {
    backend: 'docker',
    project,
    startedAt: new Date().toISOString(),
    services: [],
    skipped: [],
  };
  for (const s of services) {
    if (opts.skip.has(s.name)) {
      state.skipped.push({ name: s.name, reason: 'skipped on request' });
      continue;
    }
    if (!(await imageExists(docker, s.image))) {
      if (s.build && opts.build) {
        opts.log(`building ${s.image}...`);
        await buildImage(docker, s, opts.log);
      } else {
        opts.log(`pulling ${s.image}...`);
        if (!(await pullImage(docker, s.image, opts.log))) {
          state.skipped.push({
            name: s.name,
            reason: `image ${s.image} is not available locally and could not be pulled (no registry reachable?)`,
          });
          opts.log(`skipping ${s.name}: image ${s.image} is not available`);
          continue;
        }
      }
    }
    // Replica i is container <project>_<service>_<i+1>, publishes each port + i, and answers to the service's name
    // on the network (compose's DNS gives clients and Prometheus every replica).
    for (let i = 0; i < s.replicas; i++) {
      const name = `${project}_${s.name}_${i + 1}`;
      await docker
        .getContainer(name)
        .remove({ force: true, v: true })
        .catch(() => {});
      const container = await docker.createContainer({
        name,
        Image: s.image,
        ...(s.command.length ? { Cmd: s.command } : {}),
        Env: Object.entries(s.environment).map(([k, v]) => `${k}=${v}`),
        Labels: {
          [LABEL_PROJECT]: project,
          [LABEL_SERVICE]: s.name,
          'com.docker.compose.container-number': String(i + 1),
          'com.docker.compose.oneoff': 'False',
        },
        ExposedPorts: Object.fromEntries(s.ports.map((p) => [`${p.container}/tcp`, {}])),
        ...(s.healthcheck
          ? {
              Healthcheck: {
                Test: s.healthcheck.test,
                Interval: s.healthcheck.intervalMs * 1e6,
                Timeout: s.healthcheck.timeoutMs * 1e6,
                Retries: s.healthcheck.retries,
              },
            }
          : {}),
        HostConfig: {
          NetworkMode: network,
          PortBindings: Object.fromEntries(
            s.ports.map((p) => [`${p.container}/tcp`, [{ HostIp: '127.0.0.1', HostPort: String(p.host + i) }]]),
          ),
          Binds: s.mounts.map((m) => `${m.source}:${m.target}${m.readOnly ? ':ro' : ''}`),
        },
        NetworkingConfig: { EndpointsConfig: { [network]: { Aliases: [s.name] } } },
      });
      await container.start();
      const port = replicaPorts(s)[i];
      state.services.push({
        name: replicaName(s, i),
        containerId: container.id,
        ...(port ? { url: serviceUrl(s, port) } : {}),
      });
      await waitHealthy(container, s, opts.log, port);
    }
  }
  return state;
}

/** Without a healthcheck (e.g. Prometheus from a bare image): ready once its published port answers HTTP. */
const portAnswers = (port: number | undefined) =>
  port ? answersHttp(`http://127.0.0.1:${port}/`) : Promise.resolve(true);

async function waitHealthy(
  container: Docker.Container,
  s: ServiceSpec,
  log: (l: string) => void,
  port: number | undefined,
): Promise<void> {
  const deadline = Date.now() + 180_000;
  for (;;) {
    const info = await container.inspect();
    if (!info.State.Running) {
      const logs = (await container.logs({ stdout: true, stderr: true, tail: 20 })).toString();
      throw new Error(`${s.name} exited (code ${info.State.ExitCode}):\n${logs}`);
    }
    const health = info.State.Health?.Status;
    if (s.healthcheck ? health === 'healthy' : await portAnswers(port)) {
      log(`${s.name} is ${s.healthcheck ? 'healthy' : 'answering'}`);
      return;
    }
    if (Date.now() > deadline)
      throw new Error(`${s.name} not ready after 180 s (health: ${health ?? 'no healthcheck; port not answering'})`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

export async function dockerDown(project: string): Promise<string[]> {
  const docker = dockerClient();
  const containers = await docker.listContainers({ all: true, filters: { label: [`${LABEL_PROJECT}=${project}`] } });
  for (const c of containers) await docker.getContainer(c.Id).remove({ force: true, v: true });
  for (const n of await docker.listNetworks({ filters: { label: [`${LABEL_PROJECT}=${project}`] } }))
    await docker
      .getNetwork(n.Id)
      .remove()
      .catch(() => {});
  return containers.map((c) => c.Labels[LABEL_SERVICE] ?? c.Names[0] ?? c.Id);
}

export async function dockerStatus(project: string) {
  const docker = dockerClient();
  const containers = await docker.listContainers({ all: true, filters: { label: [`${LABEL_PROJECT}=${project}`] } });
  return containers.map((c) => ({
    service: c.Labels[LABEL_SERVICE] ?? '?',
    state: c.State,
    status: c.Status,
    ports: c.Ports.filter((p) => p.PublicPort)
      .map((p) => `${p.IP}:${p.PublicPort}->${p.PrivatePort}`)
      .join(', '),
  }));
}

export async function dockerLogs(project: string, service: string): Promise<string> {
  const docker = dockerClient();
  const [c] = await docker.listContainers({
    all: true,
    filters: { label: [`${LABEL_PROJECT}=${project}`, `${LABEL_SERVICE}=${service}`] },
  });
  if (!c) throw new Error(`no container for service ${service} in project ${project}`);
  return (await docker.getContainer(c.Id).logs({ stdout: true, stderr: true, tail: 200 })).toString();
}
