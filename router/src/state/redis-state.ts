// Shared rpm/tpm windows and cooldowns on Redis (ioredis). One round trip per request, and only for deployments
// with a limit: an atomic script checks and counts the request in the deployment's window. Cooldowns travel by
// pub/sub (and a key with the cooldown's expiry, read by replicas that start or reconnect later).
//
// Redis unreachable (refused, killed, slower than timeout_ms): requests go on at once with local limits, each
// process enforcing limit / (replicas x workers); a log line and llm_router_shared_state_connected say so, and
// shared limits come back by themselves when Redis answers again.
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { StateConfig } from '../config/schema.ts';
import type { Deployment, DeploymentRegistry } from '../upstream/deployments.ts';
import { ADD_TOKENS, RESERVE } from './redis-scripts.ts';
import type { Reservation, SharedState } from './shared-state.ts';

type RedisStateConfig = StateConfig & { url: string };

interface ScriptedRedis extends Redis {
  reserveWindow(
    key: string,
    rpm: number,
    tpm: number,
    tokens: number,
  ): Promise<[number, number, number, number, string]>;
  addWindowTokens(key: string, tokens: number): Promise<number>;
}

/** Only host and port: the URL may carry a password. */
export const redisAddress = (url: string) => {
  const u = new URL(url);
  return `${u.hostname}:${u.port || 6379}`;
};

export interface RedisStateHooks {
  /** Connection to the shared store gained (true) or lost (false). */
  connectedChanged?(connected: boolean): void;
  /** A request decided on local limits because the store did not answer. */
  localDecision?(): void;
}

export class RedisSharedState implements SharedState {
  private readonly client: ScriptedRedis;
  private readonly sub: Redis;
  private readonly prefix: string;
  private readonly channel: string;
  private readonly byId = new Map<string, Deployment>();
  private readonly pendingTokens = new Map<Deployment, number>();
  private readonly flushTimer: NodeJS.Timeout;
  private up = false;
  private closed = false;

  constructor(
    private readonly config: RedisStateConfig,
    deployments: DeploymentRegistry,
    /** Processes on this host sharing the limits (workers); fallback limits are divided by replicas x this. */
    private readonly localProcesses: number,
    private readonly log: Logger,
    private readonly hooks: RedisStateHooks = {},
  ) {
    this.prefix = config.key_prefix;
    this.channel = `${this.prefix}cooldowns`;
    for (const d of deployments.all()) this.byId.set(d.config.id, d);
    this.fallBackToLocal();
    const options = {
      // Fail fast instead of queueing while disconnected: the request goes on with local limits.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      commandTimeout: config.timeout_ms,
      connectTimeout: 2_000,
      retryStrategy: (times: number) => Math.min(100 * times, 1_000),
      enableAutoPipelining: true,
      lazyConnect: false,
    };
    this.client = new Redis(config.url, options) as ScriptedRedis;
    this.client.defineCommand('reserveWindow', { numberOfKeys: 1, lua: RESERVE });
    this.client.defineCommand('addWindowTokens', { numberOfKeys: 1, lua: ADD_TOKENS });
    this.client.on('ready', () => this.setUp(true));
    this.client.on('close', () => this.setUp(false));
    // Errors are reported once per outage (setUp), not per reconnect attempt.
    this.client.on('error', () => {});

    this.sub = new Redis(config.url, { ...options, enableAutoPipelining: false, commandTimeout: undefined });
    this.sub.on('error', () => {});
    this.sub.on('message', (_channel: string, message: string) => this.onPeerCooldown(message));
    this.sub.on('ready', () => void this.sub.subscribe(this.channel).catch(() => {}));
    this.flushTimer = setInterval(() => this.flushTokens(), 250);
    this.flushTimer.unref();
  }

  get connected(): boolean {
    return this.up;
  }

  private setUp(up: boolean): void {
    if (this.up === up || this.closed) return;
    this.up = up;
    if (up) {
      for (const d of this.byId.values()) d.state.setLocalShare(1);
      void this.loadCooldowns();
    } else this.fallBackToLocal();
    const where = redisAddress(this.config.url);
    if (up) this.log.info({ redis: where }, 'shared state: connected to Redis; rate limits and cooldowns are shared');
    else
      this.log.warn(
        { redis: where, local_share: this.config.replicas * this.localProcesses },
        'shared state: Redis unreachable; enforcing local limits (limit / replicas) until it answers again',
      );
    this.hooks.connectedChanged?.(up);
  }

  /** Local limits while the store is away: this process's share of each deployment's limit. */
  private fallBackToLocal(): void {
    for (const d of this.byId.values()) d.state.setLocalShare(this.config.replicas * this.localProcesses);
  }

  private windowKey(dep: Deployment): string {
    return `${this.prefix}window:${dep.config.id}`;
  }

  private cooldownKey(id: string): string {
    return `${this.prefix}cooldown:${id}`;
  }

  async reserve(dep: Deployment, promptTokens: number): Promise<Reservation> {
    if (!this.up) return this.local();
    try {
      const [allowed, requests, , waitMs, why] = await this.client.reserveWindow(
        this.windowKey(dep),
        dep.config.rpm,
        dep.config.tpm,
        promptTokens,
      );
      dep.state.sharedWindowCount(requests);
      if (allowed === 1) return { ok: true, shared: true };
      return { ok: false, reason: why === 'tpm_limit' ? 'tpm_limit' : 'rpm_limit', retryAfterMs: Math.max(50, waitMs) };
    } catch (err) {
      // Too slow or gone: this request goes on with local limits; so do the next until Redis answers again.
      if (this.up && !this.closed) {
        this.log.warn({ err: (err as Error).message }, 'shared state: Redis command failed');
        this.setUp(false);
        // A hung server keeps the socket open: check again shortly rather than wait for a close that never comes.
        setTimeout(() => void this.probe(), 1_000).unref();
      }
      return this.local();
    }
  }

  private local(): Reservation {
    this.hooks.localDecision?.();
    return { ok: true, shared: false };
  }

  private async probe(): Promise<void> {
    if (this.closed || this.up || this.client.status !== 'ready') return;
    try {
      await this.client.ping();
      this.setUp(true);
    } catch {
      setTimeout(() => void this.probe(), 1_000).unref();
    }
  }

  addTokens(dep: Deployment, tokens: number): void {
    if (tokens > 0 && dep.state.limited) this.pendingTokens.set(dep, (this.pendingTokens.get(dep) ?? 0) + tokens);
  }

  private flushTokens(): void {
    if (this.pendingTokens.size === 0 || !this.up) return;
    for (const [dep, tokens] of this.pendingTokens)
      void this.client.addWindowTokens(this.windowKey(dep), tokens).catch(() => {});
    this.pendingTokens.clear();
  }

  publishCooldown(dep: Deployment, seconds: number, reason: string): void {
    if (!this.up) return;
    const ms = Math.round(seconds * 1000);
    void this.client
      .multi()
      .set(this.cooldownKey(dep.config.id), reason, 'PX', ms)
      .publish(this.channel, `${dep.config.id} ${ms} ${reason}`)
      .exec()
      .catch(() => {});
  }

  private onPeerCooldown(message: string): void {
    const [id, ms] = message.split(' ');
    const dep = this.byId.get(id ?? '');
    const remaining = Number(ms);
    if (!dep || !(remaining > 0)) return;
    if (dep.state.peerCooldown(Date.now() + remaining))
      this.log.info(
        { model: dep.model, deployment: id, seconds: remaining / 1000 },
        'deployment cooling down (shared)',
      );
  }

  /** Cooldowns that began before this replica connected: their keys expire when the cooldown ends. */
  private async loadCooldowns(): Promise<void> {
    const ids = [...this.byId.keys()];
    const pipeline = this.client.pipeline();
    for (const id of ids) pipeline.pttl(this.cooldownKey(id));
    try {
      const results = (await pipeline.exec()) ?? [];
      const now = Date.now();
      results.forEach(([err, ttl], i) => {
        if (!err && typeof ttl === 'number' && ttl > 0) this.byId.get(ids[i]!)!.state.peerCooldown(now + ttl, now);
      });
    } catch {
      // Not connected yet: the next 'ready' loads them.
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.flushTimer);
    this.flushTokens();
    await Promise.allSettled([this.client.quit(), this.sub.quit()]);
    this.client.disconnect();
    this.sub.disconnect();
  }
}
