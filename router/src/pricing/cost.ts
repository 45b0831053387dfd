import type { DeploymentConfig, ModelConfig } from '../config/schema.ts';

export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
}
export type Price = DeploymentConfig['price'];

export const costUsd = (usage: Usage, price: Price): number =>
  (usage.prompt_tokens * price.input_per_1m + usage.completion_tokens * price.output_per_1m) / 1_000_000;

/** A model's list price: its most expensive deployment, so baselines never understate. */
export function modelPrice(model: ModelConfig): Price {
  return model.deployments.reduce(
    (a, d) => (d.price.input_per_1m + d.price.output_per_1m > a.input_per_1m + a.output_per_1m ? d.price : a),
    model.deployments[0]!.price,
  );
}

/** Blended price used to rank models: 3 prompt tokens per completion token, a typical chat mix. */
export const blendedPrice = (p: Price) => (3 * p.input_per_1m + p.output_per_1m) / 4;
