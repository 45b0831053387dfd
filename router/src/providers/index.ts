// The providers by name (config: a deployment's `provider`).
import type { ProviderName } from '../config/vocabulary.ts';
import { anthropic } from './anthropic.ts';
import { azure } from './azure.ts';
import { bedrock } from './bedrock.ts';
import { gemini } from './gemini.ts';
import { openai } from './openai.ts';
import type { Provider } from './provider.ts';

export const PROVIDERS_BY_NAME: Record<ProviderName, Provider> = { openai, azure, anthropic, gemini, bedrock };
export type { Provider, StreamTranslator } from './provider.ts';
