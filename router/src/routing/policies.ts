// A policy = a classifier + a map class -> model. Built once from config.
import { qualityClasses, type ModelConfig, type PolicyConfig, type RouterConfig } from '../config/schema.ts';
import { scoreComplexity, type ComplexityScores } from '../classify/complexity.ts';
import type { PromptView } from '../classify/prompt-text.ts';
import type { TaskClassifier } from '../classify/task-classifier.ts';
import { blendedPrice, modelPrice } from '@llm-router/common/pricing';
import { TASK_CLASSES, UNCERTAIN_CLASS } from '@llm-router/common/task-classes';
import { COMPLEXITY_WEIGHTS, type ComplexityDimension, ZERO_COMPLEXITY } from '../classify/complexity.ts';
import { KServeV2Classifier } from '../classify/kserve-v2.ts';
import { roundScore, StrongNeedScorer } from '../classify/strong-need.ts';

export interface Classification {
  class: string;
  confidence: number;
  /** The classifier's own answer when `class` is "uncertain" (its confidence was under min_confidence). */
  predicted?: string;
  /** Complexity dimensions (complexity classifier only). */
  scores?: ComplexityScores;
  /** The strong-need score, 0..1 (quality classifier only): higher, the strong model is more needed. */
  score?: number;
  /** The strong model's threshold this request was routed with (quality classifier only). */
  threshold?: number;
}

/** Per-request routing options: a quality policy's strong threshold (router/<policy>@0.3, x-router-threshold). */
export interface ClassifyOptions {
  threshold?: number;
}

export interface Policy {
  name: string;
  classifier: PolicyConfig['classifier'];
  classify(view: PromptView, options?: ClassifyOptions): Classification;
  modelFor(cls: string): string;
  baselineModel: string;
  /** Tried after the chosen model's own fallbacks. */
  fallbacks: string[];
  /** An external classifier (KServe v2), when configured; on failure the caller uses classify() instead. */
  external?: {
    kind: string;
    classify(view: PromptView): Promise<Classification>;
    probe(): Promise<string[]>;
    close(): Promise<void>;
  };
  /** When no model of the chain has a capability a request needs: the default, then the policy's other models,
   * then every other configured model, each group cheapest first. */
  capableFallbacks: string[];
}

/** Label for a request with no text to classify (empty prompt, image-only). */
export const EMPTY_CLASS = 'empty';

/** The built-in classifier of a policy: task class, complexity tier, or the strong-need score against thresholds. */
function builtInClassifier(
  p: PolicyConfig,
  taskClassifier: TaskClassifier,
  scorer: () => StrongNeedScorer,
): (view: PromptView) => Classification {
  if (p.classifier === 'task')
    return (view) => {
      if (!view.request) return { class: EMPTY_CLASS, confidence: 0 };
      const pred = taskClassifier.predict(view.request);
      return { class: pred.label, confidence: Math.round(pred.confidence * 1000) / 1000 };
    };
  if (p.classifier === 'complexity') {
    const tiers = p.tiers;
    return (view) => {
      if (!view.request) return { class: EMPTY_CLASS, confidence: 0 };
      return tierOf(tiers, scoreComplexity(view, taskClassifier.evidence(view.request)));
    };
  }
  return qualityClassifier(p.thresholds, qualityClasses(p.models.length), scorer());
}

/** A policy's external classifier (KServe v2 / Triton): a task label, or complexity from NVIDIA's dimensions. */
function externalClassifier(p: PolicyConfig): Policy['external'] {
  if (p.classifier === 'quality' || !p.external) return undefined;
  const cfg = p.external;
  const client = new KServeV2Classifier(cfg, p.classifier === 'task' ? TASK_CLASSES : p.tiers.map((t) => t.name));
  const tiers = p.classifier === 'complexity' ? p.tiers : [];
  return {
    kind: cfg.kind,
    close: () => client.close(),
    probe: () => client.probe(),
    classify: async (view) => {
      if (!view.request) return { class: EMPTY_CLASS, confidence: 0 };
      const a = await client.classify(view.request);
      if (a.label !== undefined) return { class: a.label, confidence: Math.round(a.confidence * 1000) / 1000 };
      // Complexity from NVIDIA's dimensions (or its overall score): the same weights and tiers as built in.
      const dims = a.dimensions ?? {};
      let overall = a.overall;
      if (overall === undefined) {
        overall = 0;
        for (const [dim, w] of Object.entries(COMPLEXITY_WEIGHTS))
          overall += w * (dims[dim as ComplexityDimension] ?? 0);
      }
      return tierOf(tiers, { ...ZERO_COMPLEXITY, ...dims, overall: Math.round(overall * 1000) / 1000 });
    },
  };
}

export function buildPolicies(
  config: RouterConfig,
  taskClassifier: TaskClassifier,
  strongNeed?: StrongNeedScorer,
): Map<string, Policy> {
  const models = new Map<string, ModelConfig>(config.models.map((m) => [m.name, m]));
  let scorer = strongNeed;
  const loadScorer = () => (scorer ??= StrongNeedScorer.load(taskClassifier));
  const policies = new Map<string, Policy>();
  const priceOf = (name: string) => blendedPrice(modelPrice(models.get(name)!));
  const byPrice = (names: string[]) => [...names].sort((a, b) => priceOf(a) - priceOf(b));
  for (const p of config.policies) {
    const uncertainModel = (p.classifier !== 'quality' && p.uncertain) || p.default;
    const targets = [...new Set([p.default, uncertainModel, ...Object.values(p.routes)])];
    const baselineModel = p.baseline_model ?? targets.reduce((a, b) => (priceOf(b) > priceOf(a) ? b : a));
    const classify = builtInClassifier(p, taskClassifier, loadScorer);
    const external = externalClassifier(p);
    // Doubt is a route of its own: a policy can send what its classifier is unsure of to a safe model.
    const doubt = (c: Classification): Classification =>
      c.class !== EMPTY_CLASS && c.confidence < p.min_confidence
        ? { ...c, class: UNCERTAIN_CLASS, predicted: c.class }
        : c;
    if (external && p.min_confidence > 0) {
      const remote = external.classify;
      external.classify = async (view) => doubt(await remote(view));
    }
    policies.set(p.name, {
      name: p.name,
      classifier: p.classifier,
      classify: p.min_confidence > 0 ? (view: PromptView) => doubt(classify(view)) : classify,
      ...(external ? { external } : {}),
      modelFor: (cls) =>
        cls === UNCERTAIN_CLASS ? uncertainModel : Object.hasOwn(p.routes, cls) ? p.routes[cls]! : p.default,
      baselineModel,
      fallbacks: p.fallbacks,
      capableFallbacks: [
        p.default,
        ...byPrice(targets.filter((t) => t !== p.default)),
        ...byPrice([...models.keys()].filter((m) => !targets.includes(m))),
      ],
    });
  }
  return policies;
}

/**
 * A quality policy's classifier: the strong-need score against the thresholds (one per model after the first).
 * A per-request threshold replaces the strong model's; a middle model whose threshold is above it is passed over.
 * Confidence: how far the score sits from the threshold that decided it, on the same 0.5..1 scale as tiers.
 */
function qualityClassifier(thresholds: number[], classes: string[], scorer: StrongNeedScorer) {
  return (view: PromptView, options?: ClassifyOptions): Classification => {
    if (!view.request) return { class: EMPTY_CLASS, confidence: 0 };
    // Decided on the score as reported (x-router-score, /v1/route), so a client can check it against a threshold.
    const score = roundScore(scorer.score(view));
    const strong = options?.threshold ?? thresholds.at(-1)!;
    const last = thresholds.length - 1;
    const effective = thresholds.map((t, i) => (i === last ? strong : Math.min(t, strong)));
    let level = 0;
    while (level <= last && score >= effective[level]!) level++;
    const distance = Math.min(
      level > 0 ? score - effective[level - 1]! : Number.POSITIVE_INFINITY,
      level <= last ? effective[level]! - score : Number.POSITIVE_INFINITY,
    );
    return { class: classes[level]!, confidence: roundScore(Math.min(1, 0.5 + distance)), score, threshold: strong };
  };
}

/** The tier of a complexity score; confidence: how far the score sits from the nearest tier boundary. */
function tierOf(tiers: ReadonlyArray<{ name: string; max_score: number }>, scores: ComplexityScores): Classification {
  const tier = tiers.find((t) => scores.overall <= t.max_score) ?? tiers.at(-1)!;
  const i = tiers.indexOf(tier);
  const lo = i === 0 ? 0 : tiers[i - 1]!.max_score;
  const half = (tier.max_score - lo) / 2 || 1;
  const confidence = Math.min(1, 0.5 + Math.min(scores.overall - lo, tier.max_score - scores.overall) / half / 2);
  return { class: tier.name, confidence: Math.round(confidence * 1000) / 1000, scores };
}
