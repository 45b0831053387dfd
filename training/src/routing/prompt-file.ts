// The prompt files routing-eval and routing-calibrate read: JSONL, one prompt a line, as "prompt" (or "text") or
// chat "messages", with "strong_correct" and "weak_correct" (booleans, or 0..1 quality scores) where known.
import { readFileSync } from 'node:fs';
import type { ChatMessageLike } from '@llm-router/router/classify/prompt-text';

export interface FilePrompt {
  messages: ChatMessageLike[];
  /** How right each model was (1/0 for booleans), when the line says. */
  strong?: number;
  weak?: number;
}

const score = (v: unknown) => (typeof v === 'boolean' ? +v : typeof v === 'number' && v >= 0 && v <= 1 ? v : undefined);

/** Every line of `file`; with `labels: true` each must carry both models' correctness. Errors name file:line. */
export function readPromptFile(file: string, labels: boolean): FilePrompt[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .flatMap((line, i) => {
      if (!line.trim()) return [];
      const r = JSON.parse(line) as Record<string, unknown>;
      const text = r.prompt ?? r.text;
      const messages = Array.isArray(r.messages)
        ? (r.messages as ChatMessageLike[])
        : typeof text === 'string'
          ? [{ role: 'user', content: text }]
          : undefined;
      const strong = score(r.strong_correct);
      const weak = score(r.weak_correct);
      const labelled = strong !== undefined && weak !== undefined;
      if (!messages || (labels && !labelled))
        throw new Error(
          `${file}:${i + 1}: needs "prompt" (or "text", a string) or chat "messages"${labels ? ', and "strong_correct", "weak_correct" (booleans or 0..1)' : ''}`,
        );
      return [{ messages, ...(labelled ? { strong, weak } : {}) }];
    });
}
