// Chooses a deployment of a model among those available now (not cooling, under local rpm/tpm).
import type { BalancingStrategy } from '../config/schema.ts';
import { blendedPrice } from '@llm-router/common/pricing';
import type { Deployment } from './deployments.ts';

/** rateLimitedSkips: deployments passed over because they were at their local rpm/tpm limit. */
export type PickResult =
  | { ok: true; deployment: Deployment; rateLimitedSkips: number }
  | { ok: false; reason: 'cooling' | 'rate_limited' | 'exhausted'; retryAfterMs: number; rateLimitedSkips: number };

type Strategy = (candidates: Deployment[], random: () => number) => Deployment;

const weightedRandom: Strategy = (c, random) => {
  const total = c.reduce((s, d) => s + d.config.weight, 0);
  let r = random() * total;
  for (const d of c) if ((r -= d.config.weight) < 0) return d;
  return c.at(-1)!;
};

/** Lowest value of `score`, ties broken at random so equal deployments share the load. */
function lowest(c: Deployment[], random: () => number, score: (d: Deployment) => number): Deployment {
  let best: Deployment[] = [];
  let bestScore = Infinity;
  for (const d of c) {
    const s = score(d);
    if (s < bestScore) (bestScore = s), (best = [d]);
    else if (s === bestScore) best.push(d);
  }
  return best[Math.floor(random() * best.length)]!;
}

const STRATEGIES: Record<BalancingStrategy, Strategy> = {
  weighted_random: weightedRandom,
  least_in_flight: (c, random) => lowest(c, random, (d) => d.state.inFlight / d.config.weight),
  // Power of two choices over EWMA latency x load: near-best choice without herding onto one deployment.
  latency_aware: (c, random) => {
    if (c.length === 1) return c[0]!;
    const a = c[Math.floor(random() * c.length)]!;
    let b = c[Math.floor(random() * (c.length - 1))]!;
    if (b === a) b = c[c.length - 1]!;
    const cost = (d: Deployment) => (d.state.ewmaLatencyMs || 1) * (d.state.inFlight + 1);
    return cost(a) <= cost(b) ? a : b;
  },
  headroom: (c, random) => lowest(c, random, (d) => -d.state.rpmHeadroom()),
  lowest_cost: (c, random) => lowest(c, random, (d) => blendedPrice(d.config.price)),
};

export function pickDeployment(
  all: Deployment[],
  strategy: BalancingStrategy,
  promptTokens: number,
  exclude: ReadonlySet<Deployment>,
  random = Math.random,
  now = Date.now(),
): PickResult {
  const candidates: Deployment[] = [];
  let cooling = 0;
  let limited = 0;
  let retryAfterMs = Infinity;
  for (const d of all) {
    if (exclude.has(d)) continue;
    const why = d.state.unavailableReason(promptTokens, now);
    if (why === null) candidates.push(d);
    else {
      if (why === 'cooling') cooling++;
      else limited++;
      retryAfterMs = Math.min(retryAfterMs, d.state.availableInMs(now));
    }
  }
  if (candidates.length > 0)
    return { ok: true, deployment: STRATEGIES[strategy](candidates, random), rateLimitedSkips: limited };
  if (cooling + limited === 0) return { ok: false, reason: 'exhausted', retryAfterMs: 0, rateLimitedSkips: 0 };
  return {
    ok: false,
    reason: limited > 0 && cooling === 0 ? 'rate_limited' : 'cooling',
    retryAfterMs: Number.isFinite(retryAfterMs) ? retryAfterMs : 1000,
    rateLimitedSkips: limited,
  };
}
