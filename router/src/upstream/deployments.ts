// Runtime side of deployments: one undici Pool per upstream origin (keep-alive connections reused
// across requests) and a live DeploymentState per deployment.
import { Pool } from 'undici';
import type { DeploymentConfig, ModelConfig, RouterConfig } from '../config/schema.ts';
import { PROVIDERS_BY_NAME, type Provider } from '../providers/index.ts';
import { DeploymentState } from './deployment-state.ts';
import type { AttemptLimits } from './attempt-signal.ts';
import { ByteBudget } from './byte-budget.ts';
import { type AnswerLimits, ERROR_BODY_LIMIT } from './read-answer.ts';

/** What deployments tell the rest of the router (router events: metrics, logs, the other replicas). */
export interface DeploymentEvents {
  cooldownStarted(dep: Deployment, seconds: number, reason: string): void;
  completionTokensRead(dep: Deployment, tokens: number): void;
}

export interface Deployment {
  config: DeploymentConfig;
  /** The API it speaks: how an attempt's path, headers and body look, and how its answers read back. */
  provider: Provider;
  /** Its provider's auth headers, made once (they depend on the config only). */
  authHeaders: Readonly<Record<string, string>>;
  /** The router's model this deployment serves (a name in `models:`); `config.model` is the upstream's name for it. */
  routerModel: string;
  pool: Pool;
  /** Path of api_base (e.g. /v1), without a trailing slash: endpoint paths go under it. */
  basePath: string;
  state: DeploymentState;
  /** Whether streams ask this deployment for usage (config; off for good once the provider rejects it). */
  streamUsage: boolean;
  /** Bytes of an answer read whole: a 2xx (max_response_bytes), anything else (an error body), and the router's
   * budget for all answers held at once (server.max_response_bytes_in_flight). */
  answerLimits: AnswerLimits;
  /** An attempt's time limits (the deployment's timeout_ms, resilience's first-byte and idle limits). */
  attemptLimits: AttemptLimits;
}

export class DeploymentRegistry {
  private readonly byModel = new Map<string, Deployment[]>();
  readonly models = new Map<string, ModelConfig>();
  /** Upstream answer bytes held at once by every request of this process. */
  readonly answerBudget: ByteBudget;

  constructor(config: RouterConfig, events?: DeploymentEvents) {
    const pools = new Map<string, Pool>();
    const budget = (this.answerBudget = new ByteBudget(config.server.max_response_bytes_in_flight));
    const r = config.resilience;
    for (const m of config.models) {
      this.models.set(m.name, m);
      this.byModel.set(
        m.name,
        m.deployments.map((d) => {
          const url = new URL(d.api_base);
          // Deployments on the same origin share a pool: same sockets, same limits.
          let pool = pools.get(url.origin);
          if (!pool) {
            pool = new Pool(url.origin, {
              connections: d.max_connections,
              keepAliveTimeout: 30_000,
              connect: { timeout: r.connect_timeout_ms },
              // Off: each attempt keeps its first-byte and idle limits itself (upstream/attempt-signal.ts).
              headersTimeout: 0,
              bodyTimeout: 0,
            });
            pools.set(url.origin, pool);
          }
          const dep: Deployment = {
            config: d,
            provider: PROVIDERS_BY_NAME[d.provider],
            authHeaders: PROVIDERS_BY_NAME[d.provider].headers(d),
            routerModel: m.name,
            pool,
            basePath: url.pathname.replace(/\/$/, ''),
            state: new DeploymentState(
              d,
              r.cooldown,
              events && {
                cooldownStarted: (seconds, reason) => events.cooldownStarted(dep, seconds, reason),
                completionTokensRead: (tokens) => events.completionTokensRead(dep, tokens),
              },
            ),
            streamUsage: d.stream_include_usage,
            answerLimits: { ok: d.max_response_bytes, other: ERROR_BODY_LIMIT, budget },
            attemptLimits: {
              totalMs: d.timeout_ms,
              firstByteMs: r.first_byte_timeout_ms,
              idleMs: r.stream_idle_timeout_ms,
            },
          };
          return dep;
        }),
      );
    }
  }

  deploymentsOf(model: string): Deployment[] {
    return this.byModel.get(model) ?? [];
  }

  all(): Deployment[] {
    return [...this.byModel.values()].flat();
  }

  /** Close the upstream pools: gracefully (waiting for requests in progress), or at once with `force`. */
  async close(force = false): Promise<void> {
    const pools = new Set(this.all().map((d) => d.pool));
    await Promise.all([...pools].map((p) => (force ? p.destroy() : p.close())));
  }
}
