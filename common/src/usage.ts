// Token usage from an upstream answer, checked: the counts feed counters and costs, and a malformed value
// (a string, a negative number) from a misbehaving upstream must not throw in the metrics or skew the cost.
// (Parsing only the usage object instead of the whole body was measured: too little saved to be worth the
// code.)
import type { Usage } from './pricing.ts';

/**
 * The usage if it has the two counts as non-negative finite numbers; with the prompt's cache reads and writes
 * (prompt_tokens_details.cached_tokens, .cache_write_tokens) where given, for their prices.
 */
export function validUsage(value: unknown): Usage | undefined {
  const u = value as {
    prompt_tokens?: unknown;
    completion_tokens?: unknown;
    prompt_tokens_details?: { cached_tokens?: unknown; cache_write_tokens?: unknown } | null;
  } | null;
  const ok = (n: unknown): n is number => typeof n === 'number' && Number.isFinite(n) && n >= 0;
  if (!u || typeof u !== 'object' || !ok(u.prompt_tokens) || !ok(u.completion_tokens)) return undefined;
  const usage: Usage = { prompt_tokens: u.prompt_tokens, completion_tokens: u.completion_tokens };
  const d = u.prompt_tokens_details;
  if (d && typeof d === 'object') {
    if (ok(d.cached_tokens) && d.cached_tokens > 0) usage.cached_tokens = Math.min(d.cached_tokens, u.prompt_tokens);
    if (ok(d.cache_write_tokens) && d.cache_write_tokens > 0)
      usage.cache_write_tokens = Math.min(d.cache_write_tokens, u.prompt_tokens);
  }
  return usage;
}
