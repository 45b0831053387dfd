#!/usr/bin/env -S node --import tsx
// llm-router. Usage: llm-router [--config FILE] [--port N] [--host H] [--workers N]
import cluster from 'node:cluster';
import { createServer } from 'node:http';
import { ConfigError, parseCommandLine } from '@llm-router/yaml-config';
import { loadRouterConfig } from './config/load.ts';
import type { RouterConfig } from './config/schema.ts';
import { createRouterApp } from './app.ts';
import { loadRedisClient } from './state/redis-state.ts';
import { EXIT_LISTEN_FAILED, LISTEN_FAILED, runPrimary } from './workers/primary.ts';
import { applyServerLimits, serverOptions, trackConnections } from './http/server-limits.ts';
import { Drain } from './http/drain.ts';
import { clusterMetricsText, joinClusterMetrics, shareOfLimits } from './workers/worker.ts';

const USAGE = `llm-router: OpenAI-compatible router (POST /v1/chat/completions, /v1/route, /v1/models, /metrics)

  --config FILE    router config (YAML)           [config/router.yaml or ROUTER_CONFIG]
  --port N         listen port (0 = any free)     [server.port or ROUTER_PORT]
  --host H         listen address                 [server.host or ROUTER_HOST]
  --workers N      router processes on the port   [server.workers or ROUTER_WORKERS]`;

const { values } = parseCommandLine('llm-router', USAGE, {
  options: {
    config: { type: 'string', default: process.env.ROUTER_CONFIG ?? 'config/router.yaml' },
    port: { type: 'string', default: process.env.ROUTER_PORT },
    host: { type: 'string', default: process.env.ROUTER_HOST },
    workers: { type: 'string', default: process.env.ROUTER_WORKERS },
  },
});

let config: RouterConfig;
try {
  config = loadRouterConfig(values.config!);
} catch (err) {
  console.error(err instanceof ConfigError ? err.message : err);
  process.exit(1);
}
const host = values.host ?? config.server.host;
const port = values.port !== undefined ? Number(values.port) : config.server.port;
if (!Number.isInteger(port) || port < 0 || port > 65535 || values.port === '') {
  console.error(`llm-router: --port must be a port number from 0 to 65535 (got '${values.port}')\n\n${USAGE}`);
  process.exit(2);
}
const workers = values.workers !== undefined ? Number(values.workers) : config.server.workers;
if (!Number.isInteger(workers) || workers < 1) {
  console.error(`llm-router: --workers must be a whole number >= 1 (got '${values.workers}')`);
  process.exit(2);
}
// One machine-readable line so launchers and tests can find the port when started with --port 0.
const listeningLine = (bound: number) =>
  JSON.stringify({
    msg: 'llm-router listening',
    url: `http://${host}:${bound}`,
    port: bound,
    workers,
    policies: config.policies.map((p) => p.name),
    models: config.models.map((m) => m.name),
  });

// Only a router on shared state loads the Redis client: one on in-process state does not pay for its memory.
if (config.state.backend === 'redis' && !(workers > 1 && cluster.isPrimary)) await loadRedisClient();

if (workers > 1 && cluster.isPrimary) {
  runPrimary(workers, listeningLine, config.server.drain_delay_ms + config.server.drain_timeout_ms);
} else {
  const inCluster = cluster.isWorker;
  const router = inCluster ? createRouterAppInWorker() : createRouterApp(config);
  const server = createServer(serverOptions(config.server), router.handle);
  applyServerLimits(server, config.server);
  const connections = trackConnections(server);
  server.once('error', (err: NodeJS.ErrnoException) => {
    const why =
      err.code === 'EADDRINUSE'
        ? 'the port is in use by another program'
        : err.code === 'EACCES'
          ? 'permission denied'
          : err.message;
    const line = `llm-router: cannot listen on ${host}:${port}: ${why}; pick another with --port N (or ROUTER_PORT)`;
    if (!inCluster) {
      console.error(line);
      process.exit(1);
    }
    // Workers tell the primary, which prints it once and stops instead of respawning into the same wall.
    process.send!({ type: LISTEN_FAILED, message: line }, () => process.exit(EXIT_LISTEN_FAILED));
  });
  server.listen(port, host, () => {
    const addr = server.address();
    if (!inCluster) console.log(listeningLine(typeof addr === 'object' && addr ? addr.port : port));
  });
  server.keepAliveTimeout = 65_000;
  const drain = new Drain(server, router.inProgress, connections, () => router.cutStreams());
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    router.startDraining();
    const { drain_delay_ms: delay, drain_timeout_ms: timeout } = config.server;
    if (drain.inProgress > 0 || delay > 0)
      router.ctx.log.info({ in_progress: drain.inProgress, delay_ms: delay, timeout_ms: timeout }, 'draining');
    void drain
      .run(delay, timeout)
      .then((result) => {
        if (result === 'timed_out') router.ctx.log.warn({ timeout_ms: timeout }, 'drain timed out; connections cut');
        return router.close(result === 'timed_out');
      })
      // The log is written asynchronously: flush its last lines before exiting.
      .then(() => router.ctx.log.flush(() => process.exit(0)));
  };
  // Ctrl-C reaches the primary and the workers; a second Ctrl-C stops at once. SIGTERM only starts the drain.
  process.on('SIGTERM', stop);
  process.on('SIGINT', () => (stopping ? process.exit(1) : stop()));
}

function createRouterAppInWorker() {
  // Shared state (Redis) holds each whole limit for every worker; otherwise each worker enforces its share.
  const ownConfig = config.state.backend === 'redis' ? config : shareOfLimits(config, workers);
  const router = createRouterApp(ownConfig, { metricsText: clusterMetricsText, localProcesses: workers });
  joinClusterMetrics(router.ctx.metrics.registry);
  return router;
}
