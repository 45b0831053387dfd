// Live state of one deployment: in-flight requests, latency, local rpm/tpm use, failures and cooldown.
import type { DeploymentConfig, ResilienceConfig } from '../config/schema.ts';
import { MinuteWindow } from './minute-window.ts';

export type DeploymentHealth = 'healthy' | 'cooling';

/** One request's hold on a deployment. end() is idempotent, so in-flight counts cannot drift. */
export interface Lease {
  end(): void;
}

/** What a deployment's state tells the rest of the router (deployments.ts binds them to the deployment). */
export interface DeploymentStateEvents {
  /** A cooldown started here (for metrics, and to tell other replicas); not for peers' cooldowns. */
  cooldownStarted?(seconds: number, reason: string): void;
  /** Completion tokens of an answer, once read (to count them in a shared window). */
  completionTokensRead?(tokens: number): void;
}

export class DeploymentState {
  inFlight = 0;
  /** EWMA of the time to upstream response headers, ms; 0 until the first sample. */
  ewmaLatencyMs = 0;
  private readonly window = new MinuteWindow();
  private readonly outcomes: OutcomeWindow;
  private consecutiveFailures = 0;
  private coolingUntil = 0;
  /** Limits this process enforces on its own are divided by this (workers, or replicas while Redis is down). */
  private localShare = 1;
  /** The shared window (Redis) refused this deployment until then: it is at its rpm/tpm across replicas. */
  private sharedFullUntil = 0;
  private sharedFullReason: 'rpm_limit' | 'tpm_limit' = 'rpm_limit';
  /** Requests counted in the shared window at its last answer, and when (0: never). */
  private sharedRequests = 0;
  private sharedRequestsAt = 0;
  constructor(
    readonly config: DeploymentConfig,
    private readonly cooldown: ResilienceConfig['cooldown'],
    private readonly events: DeploymentStateEvents = {},
  ) {
    this.outcomes = new OutcomeWindow(cooldown.window_s * 1000);
  }

  health(now = Date.now()): DeploymentHealth {
    return now < this.coolingUntil ? 'cooling' : 'healthy';
  }

  cooldownRemainingMs(now = Date.now()): number {
    return Math.max(0, this.coolingUntil - now);
  }

  /** Whether the deployment has an rpm or tpm limit to enforce. */
  get hasLimit(): boolean {
    return this.config.rpm > 0 || this.config.tpm > 0;
  }

  /** Requests and tokens of the last minute: this process's own, or the shared window's when that saw more lately. */
  usage(now = Date.now()) {
    const local = this.window.usage(now);
    if (now - this.sharedRequestsAt < 1000 && this.sharedRequests > local.requests)
      return { ...local, requests: this.sharedRequests };
    return local;
  }

  /** What this process admitted in the last minute, by second (to re-seed a shared window that lost it). */
  admitted(now = Date.now()): Array<[number, number, number]> {
    return this.window.buckets(now);
  }

  /** Remaining requests this minute as a fraction of rpm (1 when unlimited). */
  rpmHeadroom(now = Date.now()): number {
    if (this.config.rpm === 0) return 1;
    return Math.max(0, this.config.rpm - this.usage(now).requests) / this.config.rpm;
  }

  /** This process enforces 1/share of each limit on its own (workers on one host; replicas while Redis is down). */
  setLocalShare(share: number): void {
    this.localShare = Math.max(1, share);
  }

  /** The shared window refused a request (at its limit across replicas) for `ms`, or answered with its count. */
  sharedWindowFull(ms: number, reason: 'rpm_limit' | 'tpm_limit', now = Date.now()): void {
    this.sharedFullUntil = now + ms;
    this.sharedFullReason = reason;
  }

  sharedWindowCount(requests: number, now = Date.now()): void {
    this.sharedRequests = requests;
    this.sharedRequestsAt = now;
  }

  private localLimit(limit: number): number {
    return limit === 0 || this.localShare === 1 ? limit : Math.max(1, Math.floor(limit / this.localShare));
  }

  /** Why the deployment cannot take a request with `tokens` prompt tokens now, or null if it can. */
  unavailableReason(tokens: number, now = Date.now()): 'cooling' | 'rpm_limit' | 'tpm_limit' | null {
    if (this.health(now) === 'cooling') return 'cooling';
    if (now < this.sharedFullUntil) return this.sharedFullReason;
    const rpm = this.localLimit(this.config.rpm);
    const tpm = this.localLimit(this.config.tpm);
    if (rpm === 0 && tpm === 0) return null;
    const used = this.window.usage(now);
    if (rpm > 0 && used.requests >= rpm) return 'rpm_limit';
    if (tpm > 0 && used.tokens + tokens > tpm && used.requests > 0) return 'tpm_limit';
    return null;
  }

  /** When a deployment that is unavailable now can take requests again, ms from now. */
  availableInMs(now = Date.now()): number {
    if (this.health(now) === 'cooling') return this.cooldownRemainingMs(now);
    if (now < this.sharedFullUntil) return this.sharedFullUntil - now;
    return this.window.msUntilOldestExpires(now);
  }

  begin(promptTokens: number, now = Date.now()): Lease {
    this.inFlight++;
    this.window.add(1, promptTokens, now);
    let ended = false;
    return {
      end: () => {
        if (ended) return;
        ended = true;
        this.inFlight--;
      },
    };
  }

  recordCompletionTokens(tokens: number): void {
    this.window.add(0, tokens);
    this.events.completionTokensRead?.(tokens);
  }

  recordLatency(ms: number): void {
    this.ewmaLatencyMs = this.ewmaLatencyMs === 0 ? ms : 0.8 * this.ewmaLatencyMs + 0.2 * ms;
  }

  /** An answered attempt: ends a run of failures and counts towards the failure ratio. */
  recordSuccess(now = Date.now()): void {
    this.consecutiveFailures = 0;
    this.outcomes.add(false, now);
  }

  /**
   * A retryable failure. Cools the deployment down after allowed_fails in a row, or at failure_ratio over the
   * window (with min_requests seen). `lastHealthy`: no other deployment of the model could take its traffic;
   * then only a deployment that fails nearly always (last_deployment_ratio) and allowed_fails in a row goes.
   */
  recordFailure(reason: string, now = Date.now(), lastHealthy = false): void {
    this.consecutiveFailures++;
    this.outcomes.add(true, now);
    const { requests, failures } = this.outcomes.totals(now);
    const ratio = failures / requests;
    const c = this.cooldown;
    const inARow = this.consecutiveFailures >= c.allowed_fails;
    const cool = lastHealthy
      ? inARow && ratio >= c.last_deployment_ratio
      : inARow || (requests >= c.min_requests && ratio >= c.failure_ratio);
    if (cool) this.coolFor(c.duration_s, reason, now);
  }

  /** Requests and failures seen over the cooldown window. */
  outcomeTotals(now = Date.now()) {
    return this.outcomes.totals(now);
  }

  /** Another replica cooled the deployment down until `until` (its clock's remaining time, on ours). */
  peerCooldown(until: number, now = Date.now()): boolean {
    return until > now && this.coolUntil(until);
  }

  /** Take the deployment out now (upstream 429 with retry-after, or too many failures). */
  coolFor(seconds: number, reason: string, now = Date.now()): void {
    const wasHealthy = this.health(now) === 'healthy';
    if (this.coolUntil(now + seconds * 1000) && wasHealthy) this.events.cooldownStarted?.(seconds, reason);
  }

  /** Out of rotation until `until`, unless already out longer; a fresh start for the failure counts after it. */
  private coolUntil(until: number): boolean {
    if (until <= this.coolingUntil) return false;
    this.coolingUntil = until;
    this.consecutiveFailures = 0;
    this.outcomes.clear();
    return true;
  }
}

/** Attempts and failures over a sliding window, in 12 buckets: constant memory and cost at any rate. */
export class OutcomeWindow {
  private static readonly BUCKETS = 12;
  private readonly width: number;
  private readonly start = new Float64Array(OutcomeWindow.BUCKETS);
  private readonly requests = new Uint32Array(OutcomeWindow.BUCKETS);
  private readonly failures = new Uint32Array(OutcomeWindow.BUCKETS);

  constructor(windowMs: number) {
    this.width = windowMs / OutcomeWindow.BUCKETS;
  }

  add(failed: boolean, now: number): void {
    const slot = Math.floor(now / this.width);
    const i = slot % OutcomeWindow.BUCKETS;
    if (this.start[i] !== slot) {
      this.start[i] = slot;
      this.requests[i] = 0;
      this.failures[i] = 0;
    }
    this.requests[i]!++;
    if (failed) this.failures[i]!++;
  }

  totals(now: number): { requests: number; failures: number } {
    const oldest = Math.floor(now / this.width) - OutcomeWindow.BUCKETS + 1;
    let requests = 0;
    let failures = 0;
    for (let i = 0; i < OutcomeWindow.BUCKETS; i++) {
      if (this.start[i]! >= oldest) (requests += this.requests[i]!), (failures += this.failures[i]!);
    }
    return { requests, failures };
  }

  clear(): void {
    this.start.fill(-1);
  }
}
