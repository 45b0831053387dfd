// The routing decision: target -> (policy, class, model). Pure and synchronous, shared by
// POST /v1/chat/completions and POST /v1/route.
import type { PromptView } from '../classify/prompt-text.ts';
import type { ComplexityScores } from '../classify/complexity.ts';
import { MANUAL } from '@llm-router/common/metric-names';
import type { Classification, Policy } from './policies.ts';
import type { RouteTarget } from './resolve-target.ts';
import type { SessionOutcome } from './sessions.ts';

export interface RoutingDecision {
  policy: string;
  classifier: string;
  class: string;
  confidence: number;
  /** The classifier's own class when `class` is "uncertain". */
  predicted?: string;
  scores?: ComplexityScores;
  /** The strong-need score and the strong threshold it was compared with (quality policies). */
  score?: number;
  threshold?: number;
  /** What the conversation's session did (a later turn of a policy-routed conversation). */
  session?: SessionOutcome;
  model: string;
  baselineModel: string;
  classifySeconds: number;
}

/** Why an external classifier did not answer (ExternalClassifierError.reason, or 'error'). */
export type ExternalFallback = (policy: string, reason: string) => void;

/**
 * Synchronous for built-in classifiers (the hot path awaits nothing); a promise when the policy has an external
 * classifier, which falls back to the built-in one on any failure (reported through `onFallback`).
 */
export function decide(
  target: RouteTarget,
  prompt: { readonly view: PromptView },
  policies: Map<string, Policy>,
  onFallback?: ExternalFallback,
): RoutingDecision | Promise<RoutingDecision> {
  if (target.kind === 'manual') {
    return {
      policy: MANUAL,
      classifier: MANUAL,
      class: MANUAL,
      confidence: 1,
      model: target.model,
      baselineModel: target.model,
      classifySeconds: 0,
    };
  }
  const policy = policies.get(target.policy)!;
  const view = prompt.view;
  const t0 = process.hrtime.bigint();
  const options = target.threshold === undefined ? undefined : { threshold: target.threshold };
  if (policy.external) {
    const external = policy.external;
    return external.classify(view).then(
      (result) => decision(policy, result, external.kind, t0),
      (err: unknown) => {
        onFallback?.(policy.name, (err as { reason?: string }).reason ?? 'error');
        return decision(policy, policy.classify(view), policy.classifier, t0);
      },
    );
  }
  return decision(policy, policy.classify(view, options), policy.classifier, t0);
}

function decision(policy: Policy, result: Classification, classifier: string, t0: bigint): RoutingDecision {
  const classifySeconds = Number(process.hrtime.bigint() - t0) / 1e9;
  return {
    policy: policy.name,
    classifier,
    class: result.class,
    confidence: result.confidence,
    ...(result.predicted ? { predicted: result.predicted } : {}),
    ...(result.scores ? { scores: result.scores } : {}),
    ...(result.score !== undefined ? { score: result.score, threshold: result.threshold! } : {}),
    model: policy.modelFor(result.class),
    baselineModel: policy.baselineModel,
    classifySeconds,
  };
}
