import type { DeploymentConfig, ModelConfig } from '../config/schema.ts';

export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  /** Of the prompt tokens, those read from the provider's prompt cache, and those written to it. */
  cached_tokens?: number;
  cache_write_tokens?: number;
}
export type Price = DeploymentConfig['price'];

/** The cost of an answer: fresh prompt tokens, cache reads and writes at their own prices, completion tokens. */
export function costUsd(usage: Usage, price: Price): number {
  const read = usage.cached_tokens ?? 0;
  const written = usage.cache_write_tokens ?? 0;
  const fresh = read || written ? Math.max(0, usage.prompt_tokens - read - written) : usage.prompt_tokens;
  return (
    (fresh * price.input_per_1m +
      (read ? read * (price.cache_read_per_1m ?? price.input_per_1m) : 0) +
      (written ? written * (price.cache_write_per_1m ?? price.input_per_1m) : 0) +
      usage.completion_tokens * price.output_per_1m) /
    1_000_000
  );
}

/** A model's list price: its most expensive deployment, so baselines never understate. */
export function modelPrice(model: ModelConfig): Price {
  return model.deployments.reduce(
    (a, d) => (d.price.input_per_1m + d.price.output_per_1m > a.input_per_1m + a.output_per_1m ? d.price : a),
    model.deployments[0]!.price,
  );
}

/** Blended price used to rank models: 3 prompt tokens per completion token, a typical chat mix. */
export const blendedPrice = (p: Price) => (3 * p.input_per_1m + p.output_per_1m) / 4;
