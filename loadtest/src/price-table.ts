// Model prices come from the router's own config, so the load generator's cost matches the router's.
import { costUsd, type Price } from '@llm-router/common/pricing';
import { routerModelPrices } from '@llm-router/common/router-prices';

export class PriceTable {
  constructor(private readonly prices: Map<string, Price>) {}

  static fromRouterConfig(file: string): PriceTable {
    return new PriceTable(routerModelPrices(file));
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
