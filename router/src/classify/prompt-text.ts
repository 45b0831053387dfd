// What to classify: the user's latest request. System prompts and earlier turns are context, not the ask.

export interface ChatMessageLike {
  role?: unknown;
  content?: unknown;
}

/** Text of a message's content: a string, or the text parts of a content-part array. */
export function contentText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) {
    return content
      .map((p) => (p && typeof p === 'object' && (p as { type?: unknown }).type === 'text' ? String((p as { text?: unknown }).text ?? '') : ''))
      .filter(Boolean)
      .join('\n');
  }
  return '';
}

export interface PromptView {
  /** The last user message's text (empty when there is none). */
  request: string;
  /** System prompt(s) joined. */
  system: string;
  /** Earlier turns' text, oldest first. */
  history: string;
  turns: number;
}

export function promptView(messages: ReadonlyArray<ChatMessageLike>): PromptView {
  let lastUser = -1;
  for (let i = messages.length - 1; i >= 0; i--) {
    if (messages[i]!.role === 'user') {
      lastUser = i;
      break;
    }
  }
  const system: string[] = [];
  const history: string[] = [];
  messages.forEach((m, i) => {
    if (i === lastUser) return;
    const text = contentText(m.content);
    if (!text) return;
    (m.role === 'system' || m.role === 'developer' ? system : history).push(text);
  });
  return {
    request: lastUser >= 0 ? contentText(messages[lastUser]!.content).trim() : '',
    system: system.join('\n'),
    history: history.join('\n'),
    turns: messages.length,
  };
}

/** Rough prompt size in tokens (~4 characters a token plus message framing): enough for limits and windows. */
export function estimatePromptTokens(messages: ReadonlyArray<ChatMessageLike>): number {
  let total = 3;
  for (const m of messages) total += 4 + Math.ceil(contentText(m.content).length / 4);
  return total;
}
