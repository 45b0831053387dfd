// Hashed bag of words + bigrams + a few shape cues. Hashing keeps the model a fixed size with no
// vocabulary file, and unseen words cost nothing at inference.

export const HASH_BITS = 18;
const MASK = (1 << HASH_BITS) - 1;

/** FNV-1a over UTF-16 code units: fast, deterministic, good enough spread for feature hashing. */
function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

const TOKEN = /[\p{L}\p{N}]+|[{}()[\];=<>+\-*/^%$?#`"]/gu;
const CODE_CUE = /```|=>|\bdef |\bfunction\b|[{};]\s*$|\w\(\)|\bfor\s*\(|==|!=/m;

/** Bucket ids of the features of `text` (may repeat: a feature seen twice counts twice). */
export function featureBuckets(text: string): number[] {
  const tokens = text.toLowerCase().match(TOKEN) ?? [];
  const out: number[] = [];
  const push = (f: string) => out.push(fnv1a(f) & MASK);
  push('__bias_shape__');
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    push(t);
    if (i > 0) push(tokens[i - 1]! + ' ' + t);
  }
  // The opening words carry the request's intent ("write", "summarize", "what is").
  if (tokens.length > 0) push('^' + tokens[0]);
  if (tokens.length > 1) push('^' + tokens[0] + ' ' + tokens[1]);
  const len = tokens.length;
  push(len === 0 ? 'len:0' : len < 4 ? 'len:xs' : len < 12 ? 'len:s' : len < 40 ? 'len:m' : 'len:l');
  if (CODE_CUE.test(text)) push('cue:code');
  if (/\?\s*$/.test(text)) push('cue:ends_question');
  if (/\d\s*[-+*/^=]\s*\d|\d+%|\bx\^?\d/.test(text)) push('cue:arithmetic');
  if (/"[^"]{20,}"|\n\s*\n|:\s*\S[^\n]{120,}/.test(text)) push('cue:quoted_text');
  return out;
}
