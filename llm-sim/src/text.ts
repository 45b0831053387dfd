import type { Rng } from './rng.ts';

// Roughly one token per word: a plausible-looking answer without shipping a language model.
const WORDS = (
  'the a model router request token latency answer data system result value first next then because ' +
  'however therefore example simple quick function returns list number step cost policy class we you it ' +
  'is are can will should this that with for from into over under about each every more less'
).split(' ');

export function generateTokens(rng: Rng, count: number): string[] {
  const out: string[] = new Array(count);
  for (let i = 0; i < count; i++) {
    const w = WORDS[rng.int(WORDS.length)]!;
    out[i] = (i === 0 ? w[0]!.toUpperCase() + w.slice(1) : ` ${w}`) + (i === count - 1 ? '.' : '');
  }
  return out;
}

/** Token estimate of the OpenAI chat format: ~4 characters a token plus per-message framing. */
export function estimatePromptTokens(messages: ReadonlyArray<{ content?: unknown }>): number {
  let total = 3;
  for (const m of messages) {
    total += 4;
    const c = m.content;
    if (typeof c === 'string') total += Math.ceil(c.length / 4);
    else if (Array.isArray(c)) {
      for (const part of c) {
        if (part && typeof part === 'object' && typeof (part as { text?: unknown }).text === 'string') {
          total += Math.ceil((part as { text: string }).text.length / 4);
        } else total += 85; // an image part, as OpenAI counts a low-detail image
      }
    }
  }
  return total;
}
