// The model prices of a router config, for tools that price what they see the way the router does (the load
// generator). Only what pricing needs is read: unset ${ENV} references (API keys) never stop them, and they need
// none of the router's code.
import { loadYamlConfig } from '@llm-router/yaml-config';
import { z } from 'zod';
import { modelPrice, type Price } from './pricing.ts';

const price = z.looseObject({
  input_per_1m: z.number().nonnegative(),
  output_per_1m: z.number().nonnegative(),
  cache_read_per_1m: z.number().nonnegative().optional(),
  cache_write_per_1m: z.number().nonnegative().optional(),
});
const pricesOnly = z.looseObject({
  models: z.array(z.looseObject({ name: z.string(), deployments: z.array(z.looseObject({ price })).min(1) })),
});

/** Each model's list price (its most expensive deployment), by model name. */
export function routerModelPrices(file: string, env: NodeJS.ProcessEnv = process.env): Map<string, Price> {
  const config = loadYamlConfig(file, pricesOnly, { env, allowMissingEnv: true });
  return new Map(config.models.map((m) => [m.name, modelPrice(m)]));
}
