import { loadYamlConfig, parseYamlConfig, type LoadOptions } from '@llm-router/yaml-config';
import { routerConfigSchema, type RouterConfig } from './schema.ts';

export const loadRouterConfig = (
  file: string,
  env: NodeJS.ProcessEnv = process.env,
  options: Omit<LoadOptions, 'env'> = {},
): RouterConfig => loadYamlConfig(file, routerConfigSchema, { ...options, env });

export const parseRouterConfig = (
  text: string,
  file = '<inline>',
  env: NodeJS.ProcessEnv = process.env,
): RouterConfig => parseYamlConfig(file, text, routerConfigSchema, { env });
