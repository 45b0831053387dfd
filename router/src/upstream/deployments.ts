// Runtime side of deployments: one undici Pool per deployment (keep-alive connections reused across
// requests), and the choice of a deployment for a model.
import { Pool } from 'undici';
import type { DeploymentConfig, ModelConfig, RouterConfig } from '../config/schema.ts';

export interface Deployment {
  config: DeploymentConfig;
  model: string;
  pool: Pool;
  /** Path of the chat completions endpoint under api_base. */
  chatPath: string;
}

export class DeploymentRegistry {
  private readonly byModel = new Map<string, Deployment[]>();
  readonly models = new Map<string, ModelConfig>();

  constructor(config: RouterConfig) {
    const pools = new Map<string, Pool>();
    for (const m of config.models) {
      this.models.set(m.name, m);
      this.byModel.set(
        m.name,
        m.deployments.map((d) => {
          const url = new URL(d.api_base);
          // Deployments on the same origin share a pool: same sockets, same limits.
          let pool = pools.get(url.origin);
          if (!pool) {
            pool = new Pool(url.origin, { connections: d.max_connections, keepAliveTimeout: 30_000, connect: { timeout: 10_000 } });
            pools.set(url.origin, pool);
          }
          return { config: d, model: m.name, pool, chatPath: url.pathname.replace(/\/$/, '') + '/chat/completions' };
        }),
      );
    }
  }

  deploymentsOf(model: string): Deployment[] {
    return this.byModel.get(model) ?? [];
  }

  /** Weighted random choice among a model's deployments. */
  pick(model: string): Deployment {
    const list = this.deploymentsOf(model);
    if (list.length === 1) return list[0]!;
    const total = list.reduce((s, d) => s + d.config.weight, 0);
    let r = Math.random() * total;
    for (const d of list) if ((r -= d.config.weight) < 0) return d;
    return list.at(-1)!;
  }

  async close(): Promise<void> {
    const pools = new Set([...this.byModel.values()].flat().map((d) => d.pool));
    await Promise.all([...pools].map((p) => p.close()));
  }
}
