// The set-up most end-to-end tests share: llm-sim with some simulated models, and one router in front of it,
// started before the file's tests and stopped (with their temp dir) after them.
//   const stack = simAndRouter({ simModels: [{ id: 'ok' }], routerYaml: (simUrl) => routerYaml(simUrl, {...}) });
//   test('...', async () => { await fetch(`${stack.router.url}/v1/...`) });
import { after, before } from 'node:test';
import { ROUTER_MAIN, SIM_MAIN, simConfigYaml, startService, tempDir, type RunningService } from './services.ts';

export interface SimAndRouterOptions {
  /** llm-sim models, as simConfigYaml takes them. */
  simModels: Array<Record<string, unknown>>;
  /** llm-sim's time_scale (default 0.01: delays 100x shorter). */
  timeScale?: number;
  /** The router's config text, given llm-sim's base URL (and the temp dir, for extra files). */
  routerYaml: (simUrl: string, tmp: ReturnType<typeof tempDir>) => string;
  routerArgs?: string[];
  routerEnv?: NodeJS.ProcessEnv;
  /** Runs once both are up, inside the same hook (a second root before() hook may not wait for this one). */
  onStarted?: (started: { sim: RunningService; router: RunningService }) => void | Promise<void>;
}

export interface SimAndRouter {
  readonly sim: RunningService;
  readonly router: RunningService;
  readonly tmp: ReturnType<typeof tempDir>;
}

/** Registers the file's before/after hooks; the returned object's services exist once the tests run. */
export function simAndRouter(options: SimAndRouterOptions): SimAndRouter {
  const tmp = tempDir();
  let sim: RunningService | undefined;
  let router: RunningService | undefined;
  before(async () => {
    sim = await startService(SIM_MAIN, [
      '--config',
      tmp.write('sim.yaml', simConfigYaml(options.simModels, options.timeScale ?? 0.01)),
    ]);
    router = await startService(
      ROUTER_MAIN,
      ['--config', tmp.write('router.yaml', options.routerYaml(sim.url, tmp)), ...(options.routerArgs ?? [])],
      options.routerEnv ?? {},
    );
    await options.onStarted?.({ sim, router });
  });
  after(async () => {
    await router?.stop();
    await sim?.stop();
    tmp.remove();
  });
  const started = (s: RunningService | undefined, name: string) => {
    if (!s) throw new Error(`${name} is not running: use it inside a test, after the before hook`);
    return s;
  };
  return {
    get sim() {
      return started(sim, 'llm-sim');
    },
    get router() {
      return started(router, 'the router');
    },
    tmp,
  };
}
