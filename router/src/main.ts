#!/usr/bin/env -S node --import tsx
// llm-router. Usage: llm-router [--config FILE] [--port N] [--host H]
import { createServer } from 'node:http';
import { parseArgs } from 'node:util';
import { ConfigError } from '@llm-router/yaml-config';
import { loadRouterConfig } from './config/load.ts';
import { createRouterApp } from './app.ts';

const { values } = parseArgs({
  options: {
    config: { type: 'string', default: process.env.ROUTER_CONFIG ?? 'config/router.yaml' },
    port: { type: 'string', default: process.env.ROUTER_PORT },
    host: { type: 'string', default: process.env.ROUTER_HOST },
  },
});

let config;
try {
  config = loadRouterConfig(values.config!);
} catch (err) {
  console.error(err instanceof ConfigError ? err.message : err);
  process.exit(1);
}
const host = values.host ?? config.server.host;
const port = values.port !== undefined ? Number(values.port) : config.server.port;
const router = createRouterApp(config);
const server = createServer(router.handle);
server.once('error', (err) => {
  console.error(`cannot listen on ${host}:${port}: ${err.message}`);
  process.exit(1);
});
server.listen(port, host, () => {
  const addr = server.address();
  const bound = typeof addr === 'object' && addr ? addr.port : port;
  // One machine-readable line so launchers and tests can find the port when started with --port 0.
  console.log(JSON.stringify({ msg: 'llm-router listening', url: `http://${host}:${bound}`, port: bound, policies: config.policies.map((p) => p.name), models: config.models.map((m) => m.name) }));
});
server.keepAliveTimeout = 65_000;
const stop = () => {
  server.close();
  server.closeAllConnections();
  void router.close().then(() => process.exit(0));
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
