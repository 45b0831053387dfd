// One interface over the two ways the stack runs: containers on a Docker engine (dockerode) or local
// processes. main.ts picks one and never branches on which again.
import { readFileSync } from 'node:fs';
import type { ServiceSpec } from './compose.ts';
import { dockerDown, dockerLogs, dockerStatus, dockerUp } from './docker-backend.ts';
import { nativeDown, nativeUp, pidAlive } from './native-backend.ts';
import type { StackState } from './state.ts';

export interface UpOptions {
  stateDir: string;
  repoRoot: string;
  log: (line: string) => void;
  skip: Set<string>;
  build: boolean;
  keepData: boolean;
}

export interface Backend {
  name: StackState['backend'];
  up(services: ServiceSpec[], project: string, options: UpOptions): Promise<StackState>;
  /** Stops what `up` started; returns the services stopped. */
  down(state: StackState): Promise<string[]>;
  /** One line per service. */
  status(state: StackState): Promise<string[]>;
  logs(state: StackState, service: string): Promise<string>;
}

const docker: Backend = {
  name: 'docker',
  up: (services, project, o) => dockerUp(services, project, { build: o.build, log: o.log, skip: o.skip }),
  down: (state) => dockerDown(state.project),
  status: async (state) =>
    (await dockerStatus(state.project)).map((c) => `${c.service.padEnd(12)} ${c.status.padEnd(28)} ${c.ports}`),
  logs: (state, service) => dockerLogs(state.project, service),
};

const native: Backend = {
  name: 'native',
  up: (services, project, o) =>
    nativeUp(services, project, {
      stateDir: o.stateDir,
      repoRoot: o.repoRoot,
      log: o.log,
      skip: o.skip,
      keepData: o.keepData,
    }),
  down: async (state) => nativeDown(state),
  status: async (state) =>
    state.services.map(
      (s) =>
        `${s.name.padEnd(12)} ${s.pid && pidAlive(s.pid) ? `running (pid ${s.pid})` : 'stopped'}`.padEnd(40) +
        (s.url ?? ''),
    ),
  logs: async (state, service) =>
    readFileSync(state.services.find((s) => s.name === service)!.logFile!, 'utf8')
      .split('\n')
      .slice(-50)
      .join('\n'),
};

export const backendFor = (name: StackState['backend']): Backend => (name === 'docker' ? docker : native);
