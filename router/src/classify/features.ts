// Hashed features of a prompt for the task classifier. Hashing keeps the model a fixed size with no
// vocabulary file, and unseen words cost nothing at inference.
//
// The ask is usually in the first paragraph ("Summarize the passage below."), and a pasted passage after it
// says little about the task but a lot of words: so the opening paragraph gets word bigrams and its own
// namespace, the rest only unigrams; the last paragraph (where a question after a document sits) gets its
// opening words. Measured on held-out public prompts (make classifier-eval), this beats a flat bag of words.

export const HASH_BITS = 18;
const MASK = (1 << HASH_BITS) - 1;
/** Namespaces, mixed into the hash so "write" in the ask and "write" in a passage are different features. */
const NS_ASK = 0x9e3779b1;
const NS_REST = 0x85ebca77;

/** FNV-1a over UTF-16 code units, seeded per namespace: fast, deterministic, good spread. */
function fnv1a(s: string, seed = 0x811c9dc5): number {
  let h = seed;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

const TOKEN = /[\p{L}\p{N}]+|[{}()[\];=<>+\-*/^%$?#`"':_.,!|&@\\]/gu;
const PARAGRAPH = /\n\s*\n/;
/** Characters of the opening paragraph read as "the ask"; past that it is a passage. */
const ASK_CHARS = 600;
const CODE_CUE =
  /```|=>|\bdef |\bfunction\b|[{};]\s*$|\w\(\)|\bfor\s*\(|==|!=|\bSELECT\b|\breturn\b|#include|\bimport\s+\w|\bconst\s+\w|""".*>>>/ms;
const ARITHMETIC =
  /\d\s*[-+*/^=x×]\s*\d|\d+%|\$\s?\d|\b\d+(\.\d+)?\s*(per|each|every|times|hours?|minutes?|days?|weeks?|years?|dollars?|cents?|miles?|km|kg|pounds?)\b/i;

const lengthBucket = (n: number) => (n === 0 ? '0' : n < 4 ? 'xs' : n < 12 ? 's' : n < 40 ? 'm' : n < 120 ? 'l' : 'xl');

/** Bucket ids of the features of `text` (may repeat: a feature seen twice counts twice). */
export function featureBuckets(text: string): number[] {
  const out: number[] = [];
  const push = (f: string, seed?: number) => out.push(fnv1a(f, seed) & MASK);
  push('__bias_shape__');
  const trimmed = text.trim();
  const split = trimmed.search(PARAGRAPH);
  let ask = split < 0 ? trimmed : trimmed.slice(0, split);
  let rest = split < 0 ? '' : trimmed.slice(split).trim();
  if (ask.length > ASK_CHARS) {
    rest = ask.slice(ASK_CHARS) + (rest ? `\n\n${rest}` : '');
    ask = ask.slice(0, ASK_CHARS);
  }
  const askTokens = ask.toLowerCase().match(TOKEN) ?? [];
  for (let i = 0; i < askTokens.length; i++) {
    const t = askTokens[i]!;
    push(t);
    push(t, NS_ASK);
    if (i > 0) push(`${askTokens[i - 1]!} ${t}`, NS_ASK);
  }
  // The opening words carry the request's intent ("write", "summarize", "what is").
  if (askTokens.length > 0) push(`^${askTokens[0]}`);
  if (askTokens.length > 1) push(`^${askTokens[0]} ${askTokens[1]}`);
  if (askTokens.length > 2) push(`^${askTokens[0]} ${askTokens[1]} ${askTokens[2]}`);
  push(`len:${lengthBucket(askTokens.length)}`);
  if (rest) {
    const restTokens = rest.toLowerCase().match(TOKEN) ?? [];
    for (const t of restTokens) push(t, NS_REST);
    push(`rest:${lengthBucket(restTokens.length)}`);
    // A question or instruction after the passage ("...\n\nWhat year did she move?").
    const last =
      rest
        .slice(rest.lastIndexOf('\n') + 1)
        .toLowerCase()
        .match(TOKEN) ?? [];
    if (last.length > 0 && last.length < 40) {
      push(`$${last[0]}`);
      if (last.length > 1) push(`$${last[0]} ${last[1]}`);
    }
  }
  if (CODE_CUE.test(text)) push('cue:code');
  if (/\?\s*$/.test(ask)) push('cue:ends_question');
  if (ARITHMETIC.test(text)) push('cue:arithmetic');
  if (/"[^"]{20,}"|:\s*\S[^\n]{120,}/.test(ask)) push('cue:quoted_text');
  return out;
}
