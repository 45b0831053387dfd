// OpenAI-compatible upstreams (OpenAI, vLLM, NIM, llm-sim): the client's body goes as it is (model set), answers and
// streams pass through untouched.
import { ENDPOINTS } from '../config/vocabulary.ts';
import type { Provider } from './provider.ts';

const PATHS = {
  chat: '/chat/completions',
  completions: '/completions',
  responses: '/responses',
  embeddings: '/embeddings',
} as const;

export const openai: Provider = {
  name: 'openai',
  endpoints: ENDPOINTS,
  path: (endpoint) => PATHS[endpoint],
  headers: (dep): Record<string, string> => (dep.api_key ? { authorization: `Bearer ${dep.api_key}` } : {}),
};
