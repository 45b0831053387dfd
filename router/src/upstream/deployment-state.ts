// Live state of one deployment: in-flight requests, latency, local rpm/tpm use, failures and cooldown.
import type { DeploymentConfig, ResilienceConfig } from '../config/schema.ts';
import { MinuteWindow } from './minute-window.ts';

export type DeploymentHealth = 'healthy' | 'cooling';

/** One request's hold on a deployment. end() is idempotent, so in-flight counts cannot drift. */
export interface Lease {
  end(): void;
}

export class DeploymentState {
  inFlight = 0;
  /** EWMA of the time to upstream response headers, ms; 0 until the first sample. */
  ewmaLatencyMs = 0;
  private readonly window = new MinuteWindow();
  private failures: number[] = [];
  private coolingUntil = 0;
  /** Called when a cooldown starts (for metrics). */
  onCooldown: ((seconds: number, reason: string) => void) | undefined;

  constructor(
    readonly config: DeploymentConfig,
    private readonly cooldown: ResilienceConfig['cooldown'],
  ) {}

  health(now = Date.now()): DeploymentHealth {
    return now < this.coolingUntil ? 'cooling' : 'healthy';
  }

  cooldownRemainingMs(now = Date.now()): number {
    return Math.max(0, this.coolingUntil - now);
  }

  usage(now = Date.now()) {
    return this.window.usage(now);
  }

  /** Remaining requests this minute as a fraction of rpm (1 when unlimited). */
  rpmHeadroom(now = Date.now()): number {
    if (this.config.rpm === 0) return 1;
    return Math.max(0, this.config.rpm - this.window.usage(now).requests) / this.config.rpm;
  }

  /** Why the deployment cannot take a request with `tokens` prompt tokens now, or null if it can. */
  unavailableReason(tokens: number, now = Date.now()): 'cooling' | 'rpm_limit' | 'tpm_limit' | null {
    if (this.health(now) === 'cooling') return 'cooling';
    const { rpm, tpm } = this.config;
    if (rpm === 0 && tpm === 0) return null;
    const used = this.window.usage(now);
    if (rpm > 0 && used.requests >= rpm) return 'rpm_limit';
    if (tpm > 0 && used.tokens + tokens > tpm && used.requests > 0) return 'tpm_limit';
    return null;
  }

  /** When a deployment that is unavailable now can take requests again, ms from now. */
  availableInMs(now = Date.now()): number {
    if (this.health(now) === 'cooling') return this.cooldownRemainingMs(now);
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
  }

  recordLatency(ms: number): void {
    this.ewmaLatencyMs = this.ewmaLatencyMs === 0 ? ms : 0.8 * this.ewmaLatencyMs + 0.2 * ms;
  }

  /** A retryable failure (429, 5xx, timeout, connection error). Cools down past allowed_fails in window_s. */
  recordFailure(reason: string, now = Date.now()): void {
    const windowStart = now - this.cooldown.window_s * 1000;
    this.failures = this.failures.filter((t) => t > windowStart);
    this.failures.push(now);
    if (this.failures.length >= this.cooldown.allowed_fails) this.coolFor(this.cooldown.duration_s, reason, now);
  }

  /** Take the deployment out now (upstream 429 with retry-after, or too many failures). */
  coolFor(seconds: number, reason: string, now = Date.now()): void {
    const until = now + seconds * 1000;
    if (until <= this.coolingUntil) return;
    const wasHealthy = this.health(now) === 'healthy';
    this.coolingUntil = until;
    this.failures = [];
    if (wasHealthy) this.onCooldown?.(seconds, reason);
  }
}
