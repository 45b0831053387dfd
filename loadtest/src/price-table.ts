// Model prices come from the router's own config, so the load generator's cost matches the router's.
import { loadRouterConfig } from '@llm-router/router/config';
import { costUsd, modelPrice, type Price } from '@llm-router/router/pricing';

export class PriceTable {
  constructor(private readonly prices: Map<string, Price>) {}

  static fromRouterConfig(file: string): PriceTable {
    // Only prices are read: unset ${ENV} references (API keys) must not stop a load test.
    const config = loadRouterConfig(file, process.env, { allowMissingEnv: true });
    return new PriceTable(new Map(config.models.map((m) => [m.name, modelPrice(m)])));
  }

  static empty(): PriceTable {
    return new PriceTable(new Map());
  }

  has(model: string): boolean {
    return this.prices.has(model);
  }

  cost(model: string, usage: { prompt_tokens: number; completion_tokens: number }): number {
    const price = this.prices.get(model);
    return price ? costUsd(usage, price) : 0;
  }
}
