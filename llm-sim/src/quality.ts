// Simulated answer quality (a simulation, not a language model): each model has a quality level, each prompt a
// difficulty read from its text (longer, more technical prompts are harder — signals a router can see, plus a
// deterministic share of noise it cannot), and each answer a hidden "right or not", drawn deterministically from
// (model, prompt). The answer carries it as an invisible mark at its end; a judge model reads the marks of the two
// answers it is asked to compare. So cheaper routing shows lower quality, and a router that sends the hard prompts
// to the strong model shows higher quality, with no real model anywhere.

/** Invisible marks appended to an answer: U+2063 (invisible separator) right, U+2062 (invisible times) wrong. */
export const ANSWER_MARK = { right: '\u2063', wrong: '\u2062' } as const;

/** What a judge prompt looks like (the router's shadow evaluation writes it: router/src/quality/judge-prompt.ts). */
const ANSWER_A = '[Answer A]';
const ANSWER_B = '[Answer B]';

const TECHNICAL =
  /\b(prove|proof|derive|theorem|step by step|optimi[sz]e|algorithm|complexity|calculate|compute|equation|integral|debug|refactor|implement|explain why|analy[sz]e|trade-?offs?)\b/gi;

/** FNV-1a over the text: a deterministic number in [0, 1). */
export function unitHash(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) / 2 ** 32;
}

/** A prompt's difficulty in [0, 1]: its length, technical words and digits, and a fixed share of noise. */
export function promptDifficulty(text: string): number {
  const length = Math.min(1, Math.log10(1 + text.length) / 3.3);
  const technical = Math.min(1, (text.match(TECHNICAL)?.length ?? 0) / 3);
  const digits = Math.min(1, (text.match(/\d/g)?.length ?? 0) / 20);
  return Math.min(1, 0.45 * length + 0.2 * technical + 0.1 * digits + 0.25 * unitHash(`difficulty\0${text}`));
}

/** Whether `model` (quality in [0, 1]) answers `prompt` right: likelier the more its quality exceeds the difficulty. */
export function answersRight(modelId: string, quality: number, prompt: string): boolean {
  const p = 1 / (1 + Math.exp(-10 * (quality - promptDifficulty(prompt))));
  return unitHash(`${modelId}\0${prompt}`) < p;
}

/** A judge's verdict on a judge prompt ("A", "B" or "SAME"), or undefined when the text is not one. */
export function judgeVerdict(text: string): 'A' | 'B' | 'SAME' | undefined {
  const a = text.indexOf(ANSWER_A);
  const b = text.indexOf(ANSWER_B);
  if (a < 0 || b < a) return undefined;
  const answerA = text.slice(a + ANSWER_A.length, b);
  const answerB = text.slice(b + ANSWER_B.length);
  const right = (answer: string) => answer.includes(ANSWER_MARK.right);
  if (right(answerA) === right(answerB)) return 'SAME';
  return right(answerA) ? 'A' : 'B';
}

/** The text the simulated quality is judged on: the last user message (what was asked now). */
export function askedText(messages: ReadonlyArray<{ role?: unknown; content?: unknown }>): string {
  for (let i = messages.length - 1; i >= 0; i--) {
    const m = messages[i]!;
    if (m.role !== undefined && m.role !== 'user') continue;
    if (typeof m.content === 'string') return m.content;
    if (Array.isArray(m.content))
      return m.content
        .map((p) => (typeof (p as { text?: unknown }).text === 'string' ? (p as { text: string }).text : ''))
        .join('\n');
  }
  return '';
}
