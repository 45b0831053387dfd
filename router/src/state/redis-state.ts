// Shared rpm/tpm windows and cooldowns on Redis (ioredis). One round trip per request, and only for deployments
// with a limit: an atomic script checks and counts the request in the deployment's window. Cooldowns travel by
// pub/sub (and a key with the cooldown's expiry, read by replicas that start or reconnect later).
//
// Redis unreachable (refused, killed, slower than timeout_ms): requests go on at once with local limits, each
// process enforcing limit / (replicas x workers); a log line and llm_router_shared_state_connected say so, and
// shared limits come back by themselves when Redis answers again. Nothing admitted meanwhile is lost to the
// window: before a replica reserves again it adds what it admitted on local limits (RECONCILE), or, when Redis
// came back empty, all it admitted in the last minute, so the minute's total holds across the outage.
// ioredis is loaded by main.ts only with state.backend redis (memory a router on in-process state does not
// pay): this module takes the class, never imports it.
import { randomUUID } from 'node:crypto';
import type { Redis, RedisOptions } from 'ioredis';
import type { StateConfig } from '../config/schema.ts';
import type { Deployment, DeploymentRegistry } from '../upstream/deployments.ts';
import { MinuteWindow } from '../upstream/minute-window.ts';
import { ADD_TOKENS, RECONCILE, RELEASE, RESERVE } from './redis-scripts.ts';
import type { Reservation, SharedState } from './shared-state.ts';

type RedisStateConfig = StateConfig & { url: string };

interface ScriptedRedis extends Redis {
  reserveWindow(
    key: string,
    rpm: number,
    tpm: number,
    tokens: number,
    wanted: number,
    nowMs: string,
    replica: string,
  ): Promise<[number, number, number, number, string, number?]>;
  reconcileWindow(key: string, replica: string, admitted: string, unsynced: string): Promise<number>;
  releaseWindow(key: string, count: number, second: number): Promise<number>;
  addWindowTokens(key: string, tokens: number): Promise<number>;
}

/**
 * Requests counted in the shared window ahead of use, spent here without a round trip. Only far from the limit
 * (the script decides) and for rpm-only deployments; what is left after LEASE_MS goes back to the window.
 */
interface WindowLease {
  left: number;
  until: number;
  /** The second (Redis's clock) the lease was counted in. */
  second: number;
}
/** A lease covers about this much of a deployment's recent request rate... */
const LEASE_SHARE_OF_SECOND = 0.1;
/** ...is only taken at this rate or more (below it, a round trip per request costs little)... */
const LEASE_MIN_RATE = 50;
/** ...and lasts this long. */
const LEASE_MS = 1_000;
const SHARED: Reservation = { ok: true, shared: true };
const LOCAL: Reservation = { ok: true, shared: false };

/** Only host and port: the URL may carry a password. */
export const redisAddress = (url: string) => {
  const u = new URL(url);
  return `${u.hostname}:${u.port || 6379}`;
};

let loaded: (new (url: string, options: RedisOptions) => Redis) | undefined;
/** Load ioredis (once) before a RedisSharedState is made: `await loadRedisClient()`. */
export async function loadRedisClient(): Promise<void> {
  loaded ??= (await import('ioredis')).Redis;
}
function requireRedis() {
  if (!loaded) throw new Error('shared state: call loadRedisClient() before creating RedisSharedState');
  return loaded;
}

/** What the shared state tells the rest of the router (events/router-events.ts; logs and metrics are its sinks). */
export interface SharedStateEvents {
  /** A request decided on local limits because the store did not answer. */
  localDecision(): void;
  /** The store stopped answering: each process enforces `localShare`-th of every limit until it answers again. */
  sharedStateLost(redis: string, localShare: number): void;
  /** Back in touch (or first connected): limits and cooldowns are shared. */
  sharedStateConnected(redis: string): void;
  /** A command failed or the windows could not be brought up to date (the store is then treated as lost). */
  sharedStateFailed(what: 'command' | 'reconcile', message: string): void;
  /** Another replica's cooldown of a deployment reached this one. */
  peerCooldown(dep: Deployment, seconds: number): void;
}

export class RedisSharedState implements SharedState {
  private readonly client: ScriptedRedis;
  private readonly sub: Redis;
  private readonly prefix: string;
  private readonly channel: string;
  private readonly byId = new Map<string, Deployment>();
  private readonly pendingTokens = new Map<Deployment, number>();
  private readonly leases = new Map<Deployment, WindowLease>();
  /** Requests per deployment since the last lease sizing, and when that began: the local rate. */
  private readonly recent = new Map<Deployment, { count: number; since: number }>();
  private readonly flushTimer: NodeJS.Timeout;
  /** What each deployment admitted on local limits while Redis did not answer: added to its window on return. */
  private readonly unsynced = new Map<Deployment, MinuteWindow>();
  /** This process, as the shared windows know it ("seen:<id>"). */
  private readonly replicaId = randomUUID();
  private up = false;
  /** Reconnected, and adding what was admitted meanwhile before shared limits resume. */
  private reconciling = false;
  private closed = false;

  constructor(
    private readonly config: RedisStateConfig,
    deployments: DeploymentRegistry,
    /** Processes on this host sharing the limits (workers); fallback limits are divided by replicas x this. */
    private readonly localProcesses: number,
    private readonly events: SharedStateEvents,
  ) {
    const RedisClient = requireRedis();
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
    this.client = new RedisClient(config.url, options) as ScriptedRedis;
    this.client.defineCommand('reserveWindow', { numberOfKeys: 1, lua: RESERVE });
    this.client.defineCommand('addWindowTokens', { numberOfKeys: 1, lua: ADD_TOKENS });
    this.client.defineCommand('releaseWindow', { numberOfKeys: 1, lua: RELEASE });
    this.client.defineCommand('reconcileWindow', { numberOfKeys: 1, lua: RECONCILE });
    this.client.on('ready', () => this.setUp(true));
    this.client.on('close', () => this.setUp(false));
    // Errors are reported once per outage (setUp), not per reconnect attempt.
    this.client.on('error', () => {});

    // The subscriber waits for messages indefinitely: no command timeout there.
    const { commandTimeout: _, ...subscriberOptions } = options;
    this.sub = new RedisClient(config.url, { ...subscriberOptions, enableAutoPipelining: false });
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
    const where = redisAddress(this.config.url);
    if (up) {
      if (!this.reconciling) void this.reconcileThenShare(where);
    } else {
      this.up = false;
      this.fallBackToLocal();
      this.events.sharedStateLost(where, this.config.replicas * this.localProcesses);
    }
  }

  /**
   * Back in touch: every limited deployment's window gets what this process admitted without it (or all it admitted
   * in the minute, if the window lost it), then limits are shared again. Until then requests stay on local limits;
   * a failure leaves it down (the next 'ready' or probe tries again).
   */
  private async reconcileThenShare(where: string): Promise<void> {
    this.reconciling = true;
    // Taken out now: what is admitted locally while the windows are being updated is counted for the next time.
    const taken = new Map(this.unsynced);
    this.unsynced.clear();
    try {
      const now = Date.now();
      const encode = (b: Array<[number, number, number]>) => b.map(([s, r, t]) => `${s}:${r}:${t}`).join(',');
      await Promise.all(
        [...this.byId.values()]
          .filter((d) => d.state.hasLimit)
          .map(async (d) => {
            const total = await this.withinTimeout(
              this.client.reconcileWindow(
                this.windowKey(d),
                this.replicaId,
                encode(d.state.admitted(now)),
                encode(taken.get(d)?.buckets(now) ?? []),
              ),
            );
            taken.delete(d);
            d.state.sharedWindowCount(total);
          }),
      );
    } catch (err) {
      // What was not added is still owed to the windows.
      for (const [d, w] of taken)
        for (const [second, requests, tokens] of w.buckets()) this.unsyncedOf(d).add(requests, tokens, second * 1000);
      this.events.sharedStateFailed('reconcile', (err as Error).message);
      setTimeout(() => void this.probe(), 1_000).unref();
      return;
    } finally {
      this.reconciling = false;
    }
    if (this.closed || this.up) return;
    this.up = true;
    for (const d of this.byId.values()) d.state.setLocalShare(1);
    void this.loadCooldowns();
    this.events.sharedStateConnected(where);
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

  reserve(dep: Deployment, promptTokens: number): Reservation | Promise<Reservation> {
    if (!this.up) return this.local(dep, promptTokens);
    const now = Date.now();
    const lease = this.leases.get(dep);
    if (lease && lease.left > 0 && now < lease.until) {
      lease.left--;
      return SHARED;
    }
    if (lease) this.giveBack(dep, lease);
    return this.reserveRemote(dep, promptTokens, now);
  }

  private async reserveRemote(dep: Deployment, promptTokens: number, now: number): Promise<Reservation> {
    try {
      const [granted, requests, , waitMs, why, second] = await this.withinTimeout(
        this.client.reserveWindow(
          this.windowKey(dep),
          dep.config.rpm,
          dep.config.tpm,
          promptTokens,
          this.wanted(dep, now),
          '',
          this.replicaId,
        ),
      );
      if (granted > 1 && second !== undefined) this.keepLease(dep, granted - 1, second);
      dep.state.sharedWindowCount(requests);
      if (granted > 0) return SHARED;
      return { ok: false, reason: why === 'tpm_limit' ? 'tpm_limit' : 'rpm_limit', retryAfterMs: Math.max(50, waitMs) };
    } catch (err) {
      // Too slow or gone: this request goes on with local limits; so do the next until Redis answers again.
      if (this.up && !this.closed) {
        this.events.sharedStateFailed('command', (err as Error).message);
        this.setUp(false);
        // A hung server keeps the socket open: check again shortly rather than wait for a close that never comes.
        setTimeout(() => void this.probe(), 1_000).unref();
      }
      return this.local(dep, promptTokens);
    }
  }

  /**
   * A command's answer, or a rejection once timeout_ms has passed: ioredis's own commandTimeout starts when the
   * command is written, so a request could wait longer than timeout_ms behind a stalled server.
   */
  private withinTimeout<T>(command: Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const limit = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`no answer within ${this.config.timeout_ms} ms`)),
        this.config.timeout_ms,
      );
    });
    command.catch(() => {}); // answered late or failed after the deadline: already decided locally
    return Promise.race([command, limit]).finally(() => clearTimeout(timer));
  }

  /** How many requests to ask for: one, or a lease of about a tenth of a second at this deployment's recent rate. */
  private wanted(dep: Deployment, now: number): number {
    if (dep.config.tpm > 0) return 1;
    const r = this.recent.get(dep) ?? { count: 0, since: now };
    r.count++;
    this.recent.set(dep, r);
    const elapsed = now - r.since;
    if (elapsed < 200) return 1;
    const rate = (r.count * 1000) / elapsed;
    if (elapsed > 2_000) this.recent.set(dep, { count: 0, since: now });
    return rate < LEASE_MIN_RATE ? 1 : Math.ceil(rate * LEASE_SHARE_OF_SECOND);
  }

  /** Concurrent requests may each bring back a lease: one counted in the same second joins the one held. */
  private keepLease(dep: Deployment, left: number, second: number): void {
    const held = this.leases.get(dep);
    if (held && held.second === second) {
      held.left += left;
      return;
    }
    if (held) this.giveBack(dep, held);
    this.leases.set(dep, { left, until: Date.now() + LEASE_MS, second });
  }

  /** The unspent part of a lease goes back to the shared window (if its second is still in it). */
  private giveBack(dep: Deployment, lease: WindowLease): void {
    this.leases.delete(dep);
    if (lease.left > 0 && this.up)
      void this.client.releaseWindow(this.windowKey(dep), lease.left, lease.second).catch(() => {});
  }

  /** Decided on local limits: counted, to be added to the shared window when Redis answers again. */
  private local(dep: Deployment, promptTokens: number): Reservation {
    this.events.localDecision();
    this.unsyncedOf(dep).add(1, promptTokens);
    return LOCAL;
  }

  private unsyncedOf(dep: Deployment): MinuteWindow {
    let w = this.unsynced.get(dep);
    if (!w) this.unsynced.set(dep, (w = new MinuteWindow()));
    return w;
  }

  private async probe(): Promise<void> {
    if (this.closed || this.up || this.reconciling || this.client.status !== 'ready') return;
    try {
      await this.withinTimeout(this.client.ping());
      this.setUp(true);
    } catch {
      setTimeout(() => void this.probe(), 1_000).unref();
    }
  }

  addTokens(dep: Deployment, tokens: number): void {
    if (tokens > 0 && dep.state.hasLimit) this.pendingTokens.set(dep, (this.pendingTokens.get(dep) ?? 0) + tokens);
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
    if (dep.state.peerCooldown(Date.now() + remaining)) this.events.peerCooldown(dep, remaining / 1000);
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

  private sessionKey(key: string): string {
    return `${this.prefix}session:${key}`;
  }

  async getSession(key: string): Promise<string | undefined> {
    if (!this.up) return undefined;
    try {
      return (await this.client.get(this.sessionKey(key))) ?? undefined;
    } catch {
      // Too slow or gone: this process's own memory of the session answers (the caller's fallback).
      return undefined;
    }
  }

  setSession(key: string, value: string, ttlMs: number): void {
    if (this.up) void this.client.set(this.sessionKey(key), value, 'PX', ttlMs).catch(() => {});
  }

  putDecision(id: string, json: string, ttlMs: number): void {
    if (this.up) void this.client.set(`${this.prefix}decision:${id}`, json, 'PX', ttlMs).catch(() => {});
  }

  async getDecision(id: string): Promise<string | undefined> {
    if (!this.up) return undefined;
    try {
      return (await this.client.get(`${this.prefix}decision:${id}`)) ?? undefined;
    } catch {
      return undefined;
    }
  }

  async claimFeedback(id: string, ttlMs: number): Promise<boolean | undefined> {
    if (!this.up) return undefined;
    try {
      return (await this.client.set(`${this.prefix}feedback:${id}`, '1', 'PX', ttlMs, 'NX')) === 'OK';
    } catch {
      return undefined;
    }
  }

  async close(): Promise<void> {
    for (const [dep, lease] of this.leases) this.giveBack(dep, lease);
    this.closed = true;
    clearInterval(this.flushTimer);
    this.flushTokens();
    await Promise.allSettled([this.client.quit(), this.sub.quit()]);
    this.client.disconnect();
    this.sub.disconnect();
  }
}
