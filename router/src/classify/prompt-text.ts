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
      .map((p) =>
        p && typeof p === 'object' && (p as { type?: unknown }).type === 'text'
          ? String((p as { text?: unknown }).text ?? '')
          : '',
      )
      .filter(Boolean)
      .join('\n');
  }
  return '';
}

/** Each message's text, in order: what every reader of the prompt starts from (computed once by PromptFacts). */
export const messageTexts = (messages: ReadonlyArray<ChatMessageLike>): string[] =>
  messages.map((m) => contentText(m.content));

/**
 * The classifiers read a window of long texts: the opening, where the ask usually is ("Summarize the
 * following..."), and the end, where a question after a pasted document is. Like NVIDIA's classifier
 * truncating to 512 tokens, this bounds the cost per request (classifying a whole long document costs
 * milliseconds) and keeps a long document from drowning the instruction.
 */
export const WINDOW_HEAD_CHARS = 1000;
export const WINDOW_TAIL_CHARS = 500;
const WINDOW_GAP = '\n…\n';

export function classificationWindow(text: string): string {
  if (text.length <= WINDOW_HEAD_CHARS + WINDOW_TAIL_CHARS + WINDOW_GAP.length) return text;
  return text.slice(0, WINDOW_HEAD_CHARS) + WINDOW_GAP + text.slice(-WINDOW_TAIL_CHARS);
}

const wordCount = (text: string) => text.split(/\s+/).filter(Boolean).length;
/** Words in `full`, counted in its window and estimated (~6 characters a word) for what the window left out. */
const wordsOf = (full: string, window: string) => wordCount(window) + Math.round((full.length - window.length) / 6);

export interface PromptView {
  /** The last user message's text (empty when there is none), windowed. */
  request: string;
  /** Words in the whole last user message. */
  requestWords: number;
  /** System prompt(s) joined, windowed. */
  system: string;
  /** Earlier turns' text, oldest first, windowed. */
  history: string;
  /** Words in all earlier turns. */
  historyWords: number;
  turns: number;
}

/** `texts`: each message's contentText when the caller has them already (PromptFacts). */
export function promptView(
  messages: ReadonlyArray<ChatMessageLike>,
  texts: readonly string[] = messageTexts(messages),
): PromptView {
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
    const text = texts[i]!;
    if (!text) return;
    (m.role === 'system' || m.role === 'developer' ? system : history).push(text);
  });
  const fullRequest = lastUser >= 0 ? texts[lastUser]!.trim() : '';
  const request = classificationWindow(fullRequest);
  const fullHistory = history.join('\n');
  const historyWindow = classificationWindow(fullHistory);
  return {
    request,
    requestWords: wordsOf(fullRequest, request),
    system: classificationWindow(system.join('\n')),
    history: historyWindow,
    historyWords: wordsOf(fullHistory, historyWindow),
    turns: messages.length,
  };
}

/** Rough prompt size in tokens (~4 characters a token plus message framing): enough for limits and windows. */
export function estimatePromptTokens(
  messages: ReadonlyArray<ChatMessageLike>,
  texts: readonly string[] = messageTexts(messages),
): number {
  let total = 3;
  for (const t of texts) total += 4 + Math.ceil(t.length / 4);
  return total;
}
