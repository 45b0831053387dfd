// Prices and what an answer costs: the router books it, the load generator reports it, evaluations compare it.

export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  /** Of the prompt tokens, those read from the provider's prompt cache, and those written to it. */
  cached_tokens?: number;
  cache_write_tokens?: number;
}
/** A deployment's price per million tokens (the router's config `price:`). */
export interface Price {
  input_per_1m: number;
  output_per_1m: number;
  /** Prompt tokens read from, and written to, the provider's prompt cache; the input price when unset. */
  cache_read_per_1m?: number | undefined;
  cache_write_per_1m?: number | undefined;
}

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
export function modelPrice(model: { deployments: ReadonlyArray<{ price: Price }> }): Price {
  return model.deployments.reduce(
    (a, d) => (d.price.input_per_1m + d.price.output_per_1m > a.input_per_1m + a.output_per_1m ? d.price : a),
    model.deployments[0]!.price,
  );
}

/** Blended price used to rank models: 3 prompt tokens per completion token, a typical chat mix. */
export const blendedPrice = (p: Price) => (3 * p.input_per_1m + p.output_per_1m) / 4;
