// The routing decision: target -> (policy, class, model). Pure and synchronous, shared by
// POST /v1/chat/completions and POST /v1/route.
import { promptView, type ChatMessageLike } from '../classify/prompt-text.ts';
import type { ComplexityScores } from '../classify/complexity.ts';
import { MANUAL } from '../metrics/names.ts';
import type { Policy } from './policies.ts';
import type { RouteTarget } from './resolve-target.ts';

export interface RoutingDecision {
  policy: string;
  classifier: string;
  class: string;
  confidence: number;
  /** The classifier's own class when `class` is "uncertain". */
  predicted?: string;
  scores?: ComplexityScores;
  model: string;
  baselineModel: string;
  classifySeconds: number;
}

export function decide(target: RouteTarget, messages: ReadonlyArray<ChatMessageLike>, policies: Map<string, Policy>): RoutingDecision {
  if (target.kind === 'manual') {
    return { policy: MANUAL, classifier: MANUAL, class: MANUAL, confidence: 1, model: target.model, baselineModel: target.model, classifySeconds: 0 };
  }
  const policy = policies.get(target.policy)!;
  const t0 = process.hrtime.bigint();
  const result = policy.classify(promptView(messages));
  const classifySeconds = Number(process.hrtime.bigint() - t0) / 1e9;
  return {
    policy: policy.name,
    classifier: policy.classifier,
    class: result.class,
    confidence: result.confidence,
    ...(result.predicted ? { predicted: result.predicted } : {}),
    ...(result.scores ? { scores: result.scores } : {}),
    model: policy.modelFor(result.class),
    baselineModel: policy.baselineModel,
    classifySeconds,
  };
}
