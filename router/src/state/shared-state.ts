// State that router replicas share: each deployment's rpm/tpm window and its cooldowns. The memory backend is no
// object at all (DeploymentState enforces limits in process); the redis backend is SharedState below.
import type { Deployment } from '../upstream/deployments.ts';

export type Reservation =
  /** Counted in the shared window (or, while the shared store is unreachable, allowed by local limits). */
  | { ok: true; shared: boolean }
  /** The deployment is at its limit across replicas; free again in retryAfterMs. */
  | { ok: false; reason: 'rpm_limit' | 'tpm_limit'; retryAfterMs: number };

export interface SharedState {
  /** Count one request and its prompt tokens against the deployment's shared window, if it has room. Answers at
   * once (no promise) when it can decide locally: a lease in hand, or the store unreachable. */
  reserve(dep: Deployment, promptTokens: number): Reservation | Promise<Reservation>;
  /** Completion tokens, counted once the answer is read (sent in batches). */
  addTokens(dep: Deployment, tokens: number): void;
  /** Tell every replica that this one cooled the deployment down. */
  publishCooldown(dep: Deployment, seconds: number, reason: string): void;
  /** A conversation's pinned model (routing/sessions.ts), as encoded there; undefined when none or unreachable. */
  getSession(key: string): Promise<string | undefined>;
  /** Remember a conversation's model for ttlMs (fire and forget). */
  setSession(key: string, value: string, ttlMs: number): void;
  /** Recent routing decisions, for feedback on any replica (quality/recent-decisions.ts). */
  putDecision(id: string, json: string, ttlMs: number): void;
  getDecision(id: string): Promise<string | undefined>;
  claimFeedback(id: string, ttlMs: number): Promise<boolean | undefined>;
  /** Whether the shared store answers now (false: limits are local, each 1/(replicas x workers)). */
  readonly connected: boolean;
  close(): Promise<void>;
}
