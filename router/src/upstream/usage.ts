// Token usage from an upstream answer, checked: the counts feed counters and costs, and a malformed value
// (a string, a negative number) from a misbehaving upstream must not throw in the metrics or skew the cost.
// (Parsing only the usage object instead of the whole body was measured: 0.9 µs saved on a 4 KB answer,
// not worth the code.)
import type { Usage } from '../pricing/cost.ts';

/** The usage if it has the two counts as non-negative finite numbers. */
export function validUsage(value: unknown): Usage | undefined {
  const u = value as { prompt_tokens?: unknown; completion_tokens?: unknown } | null;
  const ok = (n: unknown): n is number => typeof n === 'number' && Number.isFinite(n) && n >= 0;
  return u && typeof u === 'object' && ok(u.prompt_tokens) && ok(u.completion_tokens)
    ? { prompt_tokens: u.prompt_tokens, completion_tokens: u.completion_tokens }
    : undefined;
}
