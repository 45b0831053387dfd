#!/usr/bin/env -S node --import tsx
// stack: start/stop the services of docker-compose.yml on Docker (dockerode) or natively.
//   stack up [--backend auto|docker|native] [--skip grafana] [--free-ports] [--no-build]
//   stack down | status | logs SERVICE | build
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseCommandLine } from '@llm-router/yaml-config';
import { readCompose } from './compose.ts';
import { backendFor } from './backend.ts';
import { buildImage, dockerAvailable, dockerClient } from './docker-backend.ts';
import { StateStore, type StackState } from './state.ts';
import { freePortEnv } from './ports.ts';
import { formatLinks, stackLinks } from './links.ts';
import { readableLog } from './log-format.ts';

const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
const USAGE = `stack: start and stop the services of docker-compose.yml, on Docker (dockerode) or as local processes

  stack up [--backend auto|docker|native] [--skip grafana] [--free-ports] [--no-build] [--keep-data]
  stack down | status [--json] | logs [SERVICE] [--json] | build

  --backend B         auto (Docker if an engine answers, else native), docker or native  [STACK_BACKEND]
  --skip LIST         services not to start, comma-separated
  --free-ports        use free host ports instead of the compose defaults (tests)
  --no-build          do not build images first
  --json              status: the state as JSON; logs: the services' lines as written (JSON), not for reading
  --keep-data         native: keep Prometheus's data from the last up (default: fresh)  [KEEP_PROMETHEUS_DATA=1]
  --project NAME      compose project name                                [llm-router]
  --compose-file F    [docker-compose.yml]     --state-dir D   [.state]`;

const { values: o, positionals } = parseCommandLine('stack', USAGE, {
  allowPositionals: true,
  options: {
    backend: { type: 'string', default: process.env.STACK_BACKEND ?? 'auto' },
    project: { type: 'string', default: 'llm-router' },
    'compose-file': { type: 'string', default: resolve(REPO_ROOT, 'docker-compose.yml') },
    'state-dir': { type: 'string', default: resolve(REPO_ROOT, '.state') },
    skip: { type: 'string', default: '' },
    'free-ports': { type: 'boolean', default: false },
    'no-build': { type: 'boolean', default: false },
    'keep-data': { type: 'boolean', default: process.env.KEEP_PROMETHEUS_DATA === '1' },
    json: { type: 'boolean', default: false },
  },
});
const [command = 'status', arg] = positionals;
const store = new StateStore(o['state-dir']!);
const log = (l: string) => console.error(l);

/** --free-ports: every ${X_PORT:-n} in the compose file gets a free port instead of its default. */
const composeEnv = () => (o['free-ports'] ? freePortEnv(o['compose-file']!) : Promise.resolve(process.env));

async function printState(state: StackState): Promise<void> {
  if (o.json) {
    console.log(JSON.stringify(state));
    return;
  }
  console.log(`\nStack "${state.project}" is up (${state.backend}):`);
  console.log(formatLinks(await stackLinks(state)));
  console.log(`\nStop it with: make down`);
}

async function main(): Promise<number> {
  switch (command) {
    case 'up': {
      const previous = store.read();
      if (previous)
        throw new Error(
          `a stack is already up (${previous.backend}, started ${previous.startedAt}); run 'make down' first`,
        );
      const backend = o.backend === 'auto' ? ((await dockerAvailable()) ? 'docker' : 'native') : o.backend;
      if (backend === 'docker' && !(await dockerAvailable()))
        throw new Error('no Docker engine answers (set DOCKER_HOST or start dockerd), or use --backend native');
      if (o.backend === 'auto' && backend === 'native') log('No Docker engine found: running the services natively.');
      const services = readCompose(o['compose-file']!, await composeEnv());
      const skip = new Set(o.skip!.split(',').filter(Boolean));
      const state = await backendFor(backend === 'docker' ? 'docker' : 'native').up(services, o.project!, {
        stateDir: o['state-dir']!,
        repoRoot: REPO_ROOT,
        log,
        skip,
        build: !o['no-build'],
        keepData: o['keep-data']!,
      });
      store.write(state);
      await printState(state);
      return 0;
    }
    case 'down': {
      const state = store.read();
      if (!state) {
        console.log('Nothing to stop: no stack was started from this folder.');
        return 0;
      }
      const stopped = await backendFor(state.backend).down(state);
      store.clear();
      console.log(`Stopped ${stopped.length ? stopped.join(', ') : 'nothing (already gone)'}.`);
      return 0;
    }
    case 'status': {
      const state = store.read();
      if (!state) {
        console.log('No stack is up. Start one with: make metrics');
        return 0;
      }
      for (const line of await backendFor(state.backend).status(state)) console.log(line);
      for (const s of state.skipped) console.log(`${s.name.padEnd(12)} not started: ${s.reason}`);
      return 0;
    }
    case 'logs': {
      const state = store.read();
      if (!state) throw new Error('no stack is up');
      const names = arg ? [arg] : state.services.map((s) => s.name);
      for (const name of names) {
        const s = state.services.find((x) => x.name === name);
        if (!s) throw new Error(`unknown service ${name} (running: ${state.services.map((x) => x.name).join(', ')})`);
        console.log(`==> ${name} <==`);
        const text = await backendFor(state.backend).logs(state, s.name);
        console.log(o.json ? text : readableLog(text));
      }
      return 0;
    }
    case 'build': {
      const docker = dockerClient();
      if (!(await dockerAvailable(docker)))
        throw new Error('no Docker engine answers (set DOCKER_HOST or start dockerd)');
      for (const s of readCompose(o['compose-file']!))
        if (s.build) {
          log(`building ${s.image}...`);
          await buildImage(docker, s, log);
        }
      return 0;
    }
    default:
      throw new Error(`unknown command "${command}" (use up, down, status, logs, build)`);
  }
}

let settled = false;
// Node exits when nothing is left to wait on, even mid-`await`: never let that pass as success.
process.once('beforeExit', () => {
  if (settled) return;
  console.error(`stack: ${command} stopped before finishing (nothing left waiting: a stuck network call?)`);
  process.exit(1);
});
main().then(
  (code) => {
    settled = true;
    process.exit(code);
  },
  (err: Error) => {
    settled = true;
    console.error(`stack: ${err.message}`);
    process.exit(1);
  },
);
