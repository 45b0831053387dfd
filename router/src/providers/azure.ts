// Azure OpenAI: OpenAI's API on per-deployment URLs — /openai/deployments/{deployment}/chat/completions?api-version=…
// under the resource's base URL — with an `api-key` header; or, with api_version "v1", the newer /openai/v1 form
// (api_base ending in /openai/v1, OpenAI's paths). Bodies, answers and streams are OpenAI's: they pass through.
import type { Provider } from './provider.ts';
import { openai } from './openai.ts';

export const azure: Provider = {
  name: 'azure',
  endpoints: openai.endpoints,
  path: (endpoint, dep, stream) => {
    const path = openai.path(endpoint, dep, stream);
    if (dep.api_version === 'v1') return path;
    const deployment = encodeURIComponent(dep.azure_deployment ?? dep.model);
    return `/openai/deployments/${deployment}${path}?api-version=${encodeURIComponent(dep.api_version)}`;
  },
  headers: (dep): Record<string, string> => (dep.api_key ? { 'api-key': dep.api_key } : {}),
};
