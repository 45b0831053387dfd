// Which models a request may be served by, in order: the decided model, its fallbacks, the policy's. Models
// that do not serve the endpoint or lack a capability the request needs are passed over (then the policy's
// capable fallbacks are tried), and so are models whose context window is too small. Pure: config in, plan out.
import type { ModelConfig } from '../config/schema.ts';
import { ApiError } from '../http/errors.ts';
import type { EndpointName } from '../http/endpoints.ts';
import { missingCapabilities, type Capability } from './capabilities.ts';
import type { Policy } from './policies.ts';

export interface ModelPlan {
  models: string[];
  /** Why the decided model was passed over before any attempt (endpoint_*, capability_*, context_window). */
  firstSkip?: string;
}

export function planModels(input: {
  decidedModel: string;
  policy: Policy | undefined;
  endpoint: { name: EndpointName; path: string };
  needs: Capability[];
  promptTokens: number;
  models: ReadonlyMap<string, ModelConfig>;
}): ModelPlan {
  const { decidedModel, policy, endpoint, needs, promptTokens, models } = input;
  const chain = [
    ...new Set([decidedModel, ...(models.get(decidedModel)?.fallbacks ?? []), ...(policy?.fallbacks ?? [])]),
  ];
  const serves = (m: string) => models.get(m)?.endpoints.includes(endpoint.name) === true;
  const capable = (m: string) => serves(m) && missingCapabilities(models.get(m), needs).length === 0;
  let candidates = chain.filter(capable);
  if (candidates.length === 0 && policy) candidates = policy.capableFallbacks.filter(capable);
  if (candidates.length === 0) {
    if (!chain.some(serves)) {
      const have = [...models.values()].filter((m) => m.endpoints.includes(endpoint.name)).map((m) => m.name);
      throw new ApiError(
        400,
        `The model '${decidedModel}' does not serve /v1${endpoint.path} (its config's endpoints)${have.length ? `; models that do: ${have.join(', ')}` : ''}`,
        'invalid_request_error',
        'model_not_supported',
        'model',
      );
    }
    const have = [...models.values()].filter((m) => missingCapabilities(m, needs).length === 0).map((m) => m.name);
    const param = needs.includes('vision') ? 'messages' : needs.includes('tools') ? 'tools' : 'response_format';
    throw new ApiError(
      400,
      `No model this request can be routed to supports ${needs.join(' and ')} (${decidedModel} does not${have.length ? `; models that do: ${have.join(', ')}` : ''})`,
      'invalid_request_error',
      'no_capable_model',
      param,
    );
  }
  const skippedForWindow: string[] = [];
  const fits = candidates.filter((m) => {
    const window = models.get(m)?.context_window;
    if (window !== undefined && promptTokens > window) return (void skippedForWindow.push(m), false);
    return true;
  });
  if (fits.length === 0) {
    throw new ApiError(
      400,
      `The prompt (~${promptTokens} tokens) exceeds the context window of ${skippedForWindow.join(', ')} and of every fallback`,
      'invalid_request_error',
      'context_length_exceeded',
      'messages',
    );
  }
  const firstSkip = !serves(decidedModel)
    ? `endpoint_${endpoint.name}`
    : !capable(decidedModel)
      ? `capability_${missingCapabilities(models.get(decidedModel), needs)[0]}`
      : skippedForWindow.includes(decidedModel)
        ? 'context_window'
        : undefined;
  return { models: fits, ...(firstSkip ? { firstSkip } : {}) };
}
