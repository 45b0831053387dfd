// Which models a request may be served by, in order: the decided model, its fallbacks, the policy's. Models
// that do not serve the endpoint or lack a capability the request needs are passed over (then the policy's
// capable fallbacks are tried), and so are models whose context window is too small. Pure: config in, plan out.
import type { ModelConfig } from '../config/schema.ts';
import { apiError } from '../http/errors.ts';
import type { EndpointName } from '../http/endpoints.ts';
import { missingCapabilities, type Capability } from './capabilities.ts';
import type { Policy } from './policies.ts';

/** What a plan needs of an endpoint: the model endpoint serving it, and whether chat models serve it by translation. */
export interface PlannedEndpoint {
  upstream: EndpointName;
  path: string;
  viaChat?: unknown;
}

/** Whether a model serves an endpoint: it lists it, or lists chat and the endpoint translates to chat. */
export const servesEndpoint = (m: ModelConfig | undefined, e: PlannedEndpoint) =>
  m !== undefined && (m.endpoints.includes(e.upstream) || (e.viaChat !== undefined && m.endpoints.includes('chat')));

export interface ModelPlan {
  models: string[];
  /** Why the decided model was passed over before any attempt (endpoint_*, capability_*, context_window). */
  firstSkip?: string;
}

export function planModels(input: {
  decidedModel: string;
  policy: Policy | undefined;
  endpoint: PlannedEndpoint;
  needs: Capability[];
  promptTokens: number;
  models: ReadonlyMap<string, ModelConfig>;
}): ModelPlan {
  const { decidedModel, policy, endpoint, needs, promptTokens, models } = input;
  const chain = [
    ...new Set([decidedModel, ...(models.get(decidedModel)?.fallbacks ?? []), ...(policy?.fallbacks ?? [])]),
  ];
  const serves = (m: string) => servesEndpoint(models.get(m), endpoint);
  const capable = (m: string) => serves(m) && missingCapabilities(models.get(m), needs).length === 0;
  let candidates = chain.filter(capable);
  if (candidates.length === 0 && policy) candidates = policy.capableFallbacks.filter(capable);
  if (candidates.length === 0) {
    if (!chain.some(serves)) {
      const have = [...models.values()].filter((m) => servesEndpoint(m, endpoint)).map((m) => m.name);
      throw apiError(
        'model_not_supported',
        `The model '${decidedModel}' does not serve /v1${endpoint.path} (its config's endpoints)${have.length ? `; models that do: ${have.join(', ')}` : ''}`,
        { param: 'model' },
      );
    }
    const have = [...models.values()].filter((m) => missingCapabilities(m, needs).length === 0).map((m) => m.name);
    const param = needs.includes('vision') ? 'messages' : needs.includes('tools') ? 'tools' : 'response_format';
    throw apiError(
      'no_capable_model',
      `No model this request can be routed to supports ${needs.join(' and ')} (${decidedModel} does not${have.length ? `; models that do: ${have.join(', ')}` : ''})`,
      { param: param },
    );
  }
  const skippedForWindow: string[] = [];
  const fits = candidates.filter((m) => {
    const window = models.get(m)?.context_window;
    if (window !== undefined && promptTokens > window) return (void skippedForWindow.push(m), false);
    return true;
  });
  if (fits.length === 0) {
    throw apiError(
      'context_length_exceeded',
      `The prompt (~${promptTokens} tokens) exceeds the context window of ${skippedForWindow.join(', ')} and of every fallback`,
      { param: 'messages' },
    );
  }
  const firstSkip = !serves(decidedModel)
    ? `endpoint_${endpoint.upstream}`
    : !capable(decidedModel)
      ? `capability_${missingCapabilities(models.get(decidedModel), needs)[0]}`
      : skippedForWindow.includes(decidedModel)
        ? 'context_window'
        : undefined;
  return { models: fits, ...(firstSkip ? { firstSkip } : {}) };
}

/** Distinct plans kept at most: the key is all config (policies x models x capability sets), so far fewer. */
const MAX_REMEMBERED_PLANS = 4096;

/**
 * planModels for one endpoint, remembered per (policy, decided model, needs): the plan allocated per request
 * (sets, filtered arrays, closures) for an answer that only the config decides. Only the context-window
 * check depends on the request: a remembered plan is returned as it is when the prompt fits every window in it,
 * and planned again otherwise. Errors are not remembered (they are rare, and thrown the same either way).
 */
export class ModelPlanner {
  private readonly plans = new Map<string, { plan: ModelPlan; smallestWindow: number }>();

  constructor(
    private readonly endpoint: PlannedEndpoint,
    private readonly models: ReadonlyMap<string, ModelConfig>,
  ) {}

  plan(decidedModel: string, policy: Policy | undefined, needs: Capability[], promptTokens: number): ModelPlan {
    const { endpoint, models } = this;
    const key = `${policy?.name ?? ''}\u0000${decidedModel}\u0000${needs.join()}`;
    let known = this.plans.get(key);
    if (!known) {
      // Planned for an empty prompt: no window can be too small, so this is the plan whenever the prompt fits.
      const plan = planModels({ decidedModel, policy, endpoint, needs, promptTokens: 0, models });
      let smallestWindow = Number.POSITIVE_INFINITY;
      for (const m of plan.models)
        smallestWindow = Math.min(smallestWindow, models.get(m)?.context_window ?? smallestWindow);
      known = { plan, smallestWindow };
      if (this.plans.size < MAX_REMEMBERED_PLANS) this.plans.set(key, known);
    }
    if (promptTokens <= known.smallestWindow) return known.plan;
    return planModels({ decidedModel, policy, endpoint, needs, promptTokens, models });
  }
}
