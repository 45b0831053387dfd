#!/usr/bin/env -S node --import tsx
// llm-sim: simulated OpenAI-compatible models. Usage: llm-sim [--config FILE] [--port N] [--host H] [--seed N] [--time-scale X]
import { ConfigError, parseCommandLine } from '@llm-router/yaml-config';
import { loadSimConfig } from './config.ts';
import { createSimServer } from './server.ts';

const USAGE = `llm-sim: simulated OpenAI-compatible models (POST /v1/chat/completions, /v1/models, /metrics)

  --config FILE      models (YAML)                  [config/llm-sim.yaml or LLM_SIM_CONFIG]
  --port N           listen port (0 = any free)     [8000 or LLM_SIM_PORT]
  --host H           listen address                 [127.0.0.1 or LLM_SIM_HOST]
  --seed N           random seed (same seed, same answers)
  --time-scale X     multiply every delay (0 = instant) [or LLM_SIM_TIME_SCALE]`;

const { values } = parseCommandLine('llm-sim', USAGE, {
  options: {
    config: { type: 'string', default: process.env.LLM_SIM_CONFIG ?? 'config/llm-sim.yaml' },
    port: { type: 'string', default: process.env.LLM_SIM_PORT ?? '8000' },
    host: { type: 'string', default: process.env.LLM_SIM_HOST ?? '127.0.0.1' },
    seed: { type: 'string' },
    'time-scale': { type: 'string', default: process.env.LLM_SIM_TIME_SCALE },
  },
});

try {
  const config = loadSimConfig(values.config!);
  if (values.seed !== undefined) config.seed = Number(values.seed);
  if (values['time-scale'] !== undefined) config.time_scale = Number(values['time-scale']);
  const sim = createSimServer(config);
  const port = await sim.listen(Number(values.port), values.host);
  // One machine-readable line so launchers and tests can find the port when started with --port 0.
  console.log(
    JSON.stringify({
      msg: 'llm-sim listening',
      url: `http://${values.host}:${port}`,
      port,
      models: config.models.map((m) => m.id),
    }),
  );
  const stop = () => void sim.close().then(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
} catch (err) {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'EADDRINUSE' || code === 'EACCES')
    console.error(
      `llm-sim: cannot listen on ${values.host}:${values.port}: ${code === 'EADDRINUSE' ? 'port in use by another program' : 'permission denied'}; pick another with --port N (or LLM_SIM_PORT).`,
    );
  else console.error(err instanceof ConfigError ? err.message : err);
  process.exit(1);
}
