// The attempts loop: each planned model in turn, its deployments by the balancer, retries with backoff to other
// deployments, all within one time budget. Returns what served the request, or every failure on the way
// (never only the last), for the caller to map to the client's answer. Deployment bookkeeping (cooldowns,
// failure counts, retry metrics) happens here; HTTP errors are not built here.
import type { ResilienceConfig } from '../config/schema.ts';
import type { SharedState } from '../state/shared-state.ts';
import type { AbortEmitter } from './abort-emitter.ts';
import { type PickResult, pickDeployment } from './balancer.ts';
import { callDeployment, type AttemptResult } from './call-deployment.ts';
import type { Deployment, DeploymentRegistry } from './deployments.ts';
import { failureLabel, isRetryable, upstreamErrorCode, type UpstreamFailure } from './failures.ts';

export interface AttemptFailure {
  model: string;
  dep: Deployment;
  failure: UpstreamFailure;
}

export type AttemptsOutcome =
  | {
      kind: 'served';
      dep: Deployment;
      result: Extract<AttemptResult, { kind: 'body' | 'stream' }>;
      fallbackReason?: string;
      failures: AttemptFailure[];
    }
  /** The upstream refused the request itself (a 4xx that no other deployment would answer differently). */
  | { kind: 'refused'; refusal: AttemptFailure; failures: AttemptFailure[] }
  | { kind: 'client_closed' }
  /** The router's own budget for answers held at once is spent (call-deployment.ts): try again shortly. */
  | { kind: 'busy' }
  /** Nothing served it: every attempt failed, no deployment was available, or the time budget ran out. */
  | {
      kind: 'exhausted';
      failures: AttemptFailure[];
      unavailable?: { reason: 'cooling' | 'rate_limited'; retryAfterMs: number };
      budgetSpent: boolean;
    };

export interface AttemptsRequest {
  /** The chosen model first, then the fallbacks the plan kept. */
  models: string[];
  decidedModel: string;
  /** Why the decided model was skipped before any attempt (capability, endpoint, context window), if it was. */
  initialFallbackReason?: string;
  stream: boolean;
  promptTokens: number;
  path(dep: Deployment): string;
  body(dep: Deployment): string;
  /** Called when a deployment refuses the body (e.g. stream_options): returns true to ask it again at once. */
  retryBodyOnce?(dep: Deployment, failure: UpstreamFailure): boolean;
  clientGone: AbortEmitter;
  requestId?: string;
}

export interface AttemptsHooks {
  rateLimitedLocally(model: string, skipped: number): void;
  retry(model: string, reason: string): void;
  attemptFailed(f: AttemptFailure, label: string): void;
}

export interface AttemptsEnv {
  deployments: DeploymentRegistry;
  resilience: ResilienceConfig;
  hooks: AttemptsHooks;
  /** Rate-limit windows shared with other replicas (Redis); absent: limits are this process's own. */
  shared?: SharedState;
  /** Injected in tests: the upstream call, the clock and the jitter. */
  call?: typeof callDeployment;
  now?: () => number;
  random?: () => number;
}

/** No other deployment of its model could take its traffic now: cooling it would leave only 503s. */
const isLastHealthy = (deployments: DeploymentRegistry, dep: Deployment) =>
  !deployments.deploymentsOf(dep.routerModel).some((d) => d !== dep && d.state.health() === 'healthy');

/** Record a failed attempt on the deployment: failure counts, cooldowns, retry-after. */
export function recordDeploymentFailure(
  deployments: DeploymentRegistry,
  dep: Deployment,
  failure: UpstreamFailure,
  now = Date.now(),
): void {
  if (failure.type === 'status' && failure.retryAfterSeconds)
    dep.state.coolFor(failure.retryAfterSeconds, 'retry_after', now);
  dep.state.recordFailure(failureLabel(failure), now, isLastHealthy(deployments, dep));
}

/**
 * A deployment with room now: the balancer's pick, counted in the shared window when there is one. A deployment
 * the shared window refuses is marked full until it frees up, and the balancer picks again without it.
 * Synchronous unless the shared window needs a round trip (in-process state, or a local lease, never waits).
 * Plain functions, not closures in runAttempts: nothing is allocated for them per request.
 */
function choose(
  env: AttemptsEnv,
  req: AttemptsRequest,
  model: string,
  tried: ReadonlySet<Deployment>,
  random: () => number,
  now: () => number,
): PickResult | Promise<PickResult> {
  const { deployments } = env;
  for (;;) {
    const p = pickDeployment(
      deployments.deploymentsOf(model),
      deployments.models.get(model)!.strategy,
      req.promptTokens,
      tried,
      random,
      now(),
    );
    if (p.rateLimitedSkips > 0) env.hooks.rateLimitedLocally(model, p.rateLimitedSkips);
    if (!p.ok || !env.shared || !p.deployment.state.hasLimit) return p;
    const r = env.shared.reserve(p.deployment, req.promptTokens);
    if (r instanceof Promise)
      return r.then((x) => {
        if (x.ok) return p;
        p.deployment.state.sharedWindowFull(x.retryAfterMs, x.reason, now());
        return choose(env, req, model, tried, random, now);
      });
    if (r.ok) return p;
    p.deployment.state.sharedWindowFull(r.retryAfterMs, r.reason, now());
  }
}

/** One call to `dep` with the request's path and body for it. */
const send = (call: typeof callDeployment, req: AttemptsRequest, dep: Deployment) =>
  call(dep, req.path(dep), req.body(dep), req.stream, req.promptTokens, req.clientGone, req.requestId);

export async function runAttempts(req: AttemptsRequest, env: AttemptsEnv): Promise<AttemptsOutcome> {
  const { deployments, resilience, hooks } = env;
  const call = env.call ?? callDeployment;
  const now = env.now ?? Date.now;
  const random = env.random ?? Math.random;
  const deadline = now() + resilience.max_retry_ms;
  const failures: AttemptFailure[] = [];
  let unavailable: { reason: 'cooling' | 'rate_limited'; retryAfterMs: number } | undefined;
  let fallbackReason = req.initialFallbackReason;

  for (const model of req.models) {
    const tried = new Set<Deployment>();
    let lastLabel = '';
    let nextModel = false;
    for (let attempt = 0; attempt <= resilience.retries && !nextModel; attempt++) {
      if (req.clientGone.aborted) return { kind: 'client_closed' };
      const chosen = choose(env, req, model, tried, random, now);
      const pick = chosen instanceof Promise ? await chosen : chosen;
      if (!pick.ok) {
        if (pick.reason !== 'exhausted') unavailable = { reason: pick.reason, retryAfterMs: pick.retryAfterMs };
        break;
      }
      const dep = pick.deployment;
      tried.add(dep);
      if (attempt > 0) {
        hooks.retry(model, lastLabel);
        const wait = Math.min(resilience.backoff_ms * 2 ** (attempt - 1) * (0.5 + random() / 2), deadline - now());
        if (wait > 0) await req.clientGone.wait(wait);
        // The client may have left during the wait: the retry must not be sent (nor billed, nor leaked).
        if (req.clientGone.aborted) return { kind: 'client_closed' };
      }
      if (now() >= deadline) break;
      let result = await send(call, req, dep);
      if (result.kind === 'failed' && req.retryBodyOnce?.(dep, result.failure)) result = await send(call, req, dep);
      if (result.kind === 'client_closed') return { kind: 'client_closed' };
      if (result.kind === 'busy') return { kind: 'busy' };
      if (result.kind !== 'failed') {
        dep.state.recordSuccess(now());
        return {
          kind: 'served',
          dep,
          result,
          failures,
          ...(model !== req.decidedModel ? { fallbackReason: fallbackReason ?? 'error' } : {}),
        };
      }
      const f: AttemptFailure = { model, dep, failure: result.failure };
      failures.push(f);
      if (upstreamErrorCode(result.failure) === 'context_length_exceeded') {
        // Too long for this model: the next one may have a larger window. Not the deployment's fault.
        fallbackReason ??= 'context_window';
        nextModel = true;
        continue;
      }
      if (!isRetryable(result.failure)) return { kind: 'refused', refusal: f, failures };
      lastLabel = failureLabel(result.failure);
      hooks.attemptFailed(f, lastLabel);
      recordDeploymentFailure(deployments, dep, result.failure, now());
    }
    fallbackReason ??= unavailable && failures.length === 0 ? 'unavailable' : 'error';
    if (now() >= deadline)
      return { kind: 'exhausted', failures, ...(unavailable ? { unavailable } : {}), budgetSpent: true };
  }
  return { kind: 'exhausted', failures, ...(unavailable ? { unavailable } : {}), budgetSpent: false };
}
