// docker-compose.yml is the single description of the stack: images, ports, mounts, environment,
// dependencies and health checks. Both backends read it through this module.
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { z } from 'zod';
import { parseYamlConfig } from '@llm-router/yaml-config';

const healthcheck = z
  .object({
    test: z.array(z.string()),
    interval: z.string().optional(),
    timeout: z.string().optional(),
    retries: z.number().optional(),
  })
  .loose();
const service = z
  .object({
    image: z.string(),
    build: z.object({ context: z.string(), dockerfile: z.string(), target: z.string() }).optional(),
    command: z.array(z.string()).optional(),
    environment: z.record(z.string(), z.union([z.string(), z.number()])).optional(),
    env_file: z.string().optional(),
    volumes: z.array(z.string()).optional(),
    ports: z.array(z.string()).optional(),
    depends_on: z.union([z.array(z.string()), z.record(z.string(), z.object({ condition: z.string() }))]).optional(),
    healthcheck: healthcheck.optional(),
    /** Containers of the service (compose's `scale`; e.g. router replicas). Text from ${VAR} is read as a number. */
    scale: z.coerce.number().int().min(1).max(16).optional(),
  })
  .loose();
const composeSchema = z.object({ version: z.string().optional(), services: z.record(z.string(), service) }).loose();

export interface PortMapping {
  host: number;
  container: number;
}
export interface Mount {
  source: string;
  target: string;
  readOnly: boolean;
}
export interface ServiceSpec {
  name: string;
  image: string;
  build?: { context: string; dockerfile: string; target: string };
  command: string[];
  environment: Record<string, string>;
  ports: PortMapping[];
  mounts: Mount[];
  dependsOn: string[];
  healthcheck?: { test: string[]; intervalMs: number; timeoutMs: number; retries: number };
  /** How many of it run. Replica i (from 0) publishes each host port + i, and answers to the service's name. */
  replicas: number;
}

/** Host ports of every replica of a service's first published port. */
export const replicaPorts = (s: ServiceSpec): number[] =>
  s.ports[0] ? Array.from({ length: s.replicas }, (_, i) => s.ports[0]!.host + i) : [];

/** Replica i's name: the service's own for the first, then name-2, name-3... */
/** The address a service is reached at on this machine: redis:// for Redis (not a web page), http:// for the rest. */
export const serviceUrl = (s: ServiceSpec, port: number) =>
  `${s.image.startsWith('redis') ? 'redis' : 'http'}://127.0.0.1:${port}`;

export const replicaName = (s: ServiceSpec, i: number) => (i === 0 ? s.name : `${s.name}-${i + 1}`);

const durationMs = (d: string | undefined, fallback: number) => {
  const m = d ? /^(\d+(?:\.\d+)?)(ms|s|m)$/.exec(d) : null;
  return m ? Number(m[1]) * ({ ms: 1, s: 1000, m: 60_000 } as const)[m[2] as 'ms' | 's' | 'm'] : fallback;
};

/** Services of the compose file, in dependency order (a service comes after what it depends on). */
export function readCompose(file: string, env: NodeJS.ProcessEnv = process.env): ServiceSpec[] {
  const dir = dirname(resolve(file));
  const compose = parseYamlConfig(file, readFileSync(file, 'utf8'), composeSchema, { env });
  const specs = Object.entries(compose.services).map(([name, s]): ServiceSpec => {
    const environment: Record<string, string> = {};
    if (s.env_file) {
      for (const line of readFileSync(join(dir, s.env_file), 'utf8').split('\n')) {
        const m = /^\s*([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
        if (m) environment[m[1]!] = m[2]!;
      }
    }
    for (const [k, v] of Object.entries(s.environment ?? {})) environment[k] = String(v);
    return {
      name,
      image: s.image,
      ...(s.build ? { build: { ...s.build, context: resolve(dir, s.build.context) } } : {}),
      command: s.command ?? [],
      environment,
      // "HOST:CONTAINER" or "IP:HOST:CONTAINER" (both backends publish on 127.0.0.1).
      ports: (s.ports ?? []).map((p) => {
        const [host, container] = p.split(':').slice(-2).map(Number);
        return { host: host!, container: container! };
      }),
      mounts: (s.volumes ?? []).map((v) => {
        const [source, target, mode] = v.split(':');
        return {
          source: isAbsolute(source!) ? source! : resolve(dir, source!),
          target: target!,
          readOnly: mode === 'ro',
        };
      }),
      dependsOn: Array.isArray(s.depends_on) ? s.depends_on : Object.keys(s.depends_on ?? {}),
      replicas: s.scale ?? 1,
      ...(s.healthcheck
        ? {
            healthcheck: {
              test: s.healthcheck.test,
              intervalMs: durationMs(s.healthcheck.interval, 5000),
              timeoutMs: durationMs(s.healthcheck.timeout, 3000),
              retries: s.healthcheck.retries ?? 10,
            },
          }
        : {}),
    };
  });
  const ordered: ServiceSpec[] = [];
  const visit = (s: ServiceSpec, path: string[]) => {
    if (ordered.includes(s)) return;
    if (path.includes(s.name)) throw new Error(`${file}: dependency cycle ${[...path, s.name].join(' -> ')}`);
    for (const d of s.dependsOn) {
      const dep = specs.find((x) => x.name === d);
      if (!dep) throw new Error(`${file}: services.${s.name}.depends_on names unknown service "${d}"`);
      visit(dep, [...path, s.name]);
    }
    ordered.push(s);
  };
  for (const s of specs) visit(s, []);
  return ordered;
}

/** The URL a compose healthcheck probes (our node services fetch one), if any. */
export function healthUrl(s: ServiceSpec): URL | undefined {
  const m = /https?:\/\/[^'"\s)]+/.exec(s.healthcheck?.test.join(' ') ?? '');
  return m ? new URL(m[0]) : undefined;
}
