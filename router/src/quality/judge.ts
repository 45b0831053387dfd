// The judge's side of shadow evaluation: the prompt that asks a judge model which of two answers to the same
// request is better, how its reply is read, and how the two orders (to cancel position bias) make one verdict.

export type Verdict = 'better' | 'same' | 'worse';
export const VERDICTS: readonly Verdict[] = ['better', 'same', 'worse'];

/** At most this much of the request and of each answer goes to the judge (its context and its cost are finite). */
const MAX_CHARS = 6000;
const clip = (s: string) => (s.length <= MAX_CHARS ? s : `${s.slice(0, MAX_CHARS)}\n[...]`);

/** Chat messages asking which answer is better; the section markers are what llm-sim's simulated judge reads. */
export function judgeMessages(request: string, answerA: string, answerB: string) {
  return [
    {
      role: 'system',
      content:
        'You compare two answers to the same request for correctness and helpfulness. Reply with exactly one word: ' +
        'A if answer A is better, B if answer B is better, SAME if they are equally good or equally bad.',
    },
    {
      role: 'user',
      content: `[Request]\n${clip(request)}\n[Answer A]\n${clip(answerA)}\n[Answer B]\n${clip(answerB)}\n[End]`,
    },
  ];
}

/** The judge's reply: A, B, SAME, or undefined when it said something else. */
export function readJudgement(reply: string): 'A' | 'B' | 'SAME' | undefined {
  const m = /\b(SAME|A|B)\b/i.exec(reply.trim());
  return m ? (m[1]!.toUpperCase() as 'A' | 'B' | 'SAME') : undefined;
}

/**
 * The routed answer's verdict from both orders: reference first (A) then routed first (A). A win in one order and
 * a tie in the other still counts; a win and a loss (position bias) is "same".
 */
export function combine(referenceFirst: 'A' | 'B' | 'SAME', routedFirst: 'A' | 'B' | 'SAME'): Verdict {
  const points =
    (referenceFirst === 'B' ? 1 : referenceFirst === 'A' ? -1 : 0) +
    (routedFirst === 'A' ? 1 : routedFirst === 'B' ? -1 : 0);
  return points > 0 ? 'better' : points < 0 ? 'worse' : 'same';
}
