// Watches an OpenAI SSE stream as it passes through: finds the first generated token (text, tool call or
// reasoning) and the usage chunk, and drops the usage-only chunk when the router added include_usage itself.
//
// Events are read by the WHATWG event-stream rules: lines end in CRLF, LF or a lone CR; a blank line ends an
// event; "data:" with or without a space; several data lines join with "\n"; ":" lines are comments; id,
// event and retry fields pass through. Each event is forwarded as soon as its blank line arrives, byte for
// byte as the upstream sent it. Only new text is scanned and an unfinished event's pieces are joined once, when
// it completes (linear in the stream's size, however the upstream splits it), and an event larger than
// maxEventBytes (UTF-8) fails the attempt instead of growing without bound.
import { validUsage } from './usage.ts';

export interface SseTapResult {
  usage?: { prompt_tokens: number; completion_tokens: number };
  sawFirstToken: boolean;
  /** The answer's text, assembled from the chat deltas: only when collectText is set (shadow evaluation). */
  text?: string;
}

/** An upstream event over the size cap: the attempt fails (and the stream ends with an error event). */
export class SseEventTooLargeError extends Error {
  constructor(readonly limit: number) {
    super(`upstream sent a server-sent event larger than ${limit} bytes`);
  }
}

export const DEFAULT_MAX_EVENT_BYTES = 8 * 1024 * 1024;

const TERMINATOR = /[\r\n]/g;
const LINE = /\r\n|\r|\n/;
// Generated output of any kind: text, a refusal, reasoning, or a tool call (Python servers write ": ");
// "text" is the legacy completions' delta.
const FIRST_TOKEN = /"(?:content|reasoning_content|refusal|text)":\s*"[^"]|"tool_calls":\s*\[/;
const HAS_USAGE = /"usage":\s*\{/;
// The Responses API's stream: typed events; usage comes in response.completed.
const RESPONSES_FIRST_TOKEN =
  /"type":\s*"response\.(?:output_text|refusal|function_call_arguments|reasoning_text|reasoning_summary_text)\.delta"/;
const RESPONSES_DONE = /"type":\s*"response\.(?:completed|incomplete)"/;

/** How a stream's events are read: chat completions (and legacy completions), or the Responses API's. */
export type SseDialect = 'chat' | 'responses';

/** The data of one event (its data lines joined with "\n"), or null when it has none. */
export function eventData(event: string): string | null {
  let data: string | null = null;
  for (const line of event.split(LINE)) {
    if (line === '' || line.charCodeAt(0) === 58 /* ':' comment */) continue;
    const colon = line.indexOf(':');
    if ((colon < 0 ? line : line.slice(0, colon)) !== 'data') continue;
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.charCodeAt(0) === 32) value = value.slice(1);
    data = data === null ? value : `${data}\n${value}`;
  }
  return data;
}

export class SseTap {
  /** The unfinished event's text, as it arrived: joined once, when the event completes (never re-scanned). */
  private parts: string[] = [];
  /** UTF-8 bytes of `parts`: what the cap counts, as the config names it. */
  private partsBytes = 0;
  /** The unfinished event has a non-blank line. */
  private hasLine = false;
  /** Nothing of the current line has been read yet. */
  private lineEmpty = true;
  /** The last text ended in CR: an LF that starts the next text belongs to that line ending. */
  private pendingCr = false;
  readonly result: SseTapResult = { sawFirstToken: false };
  /** Assemble the answer's text (parses every chat event: set only for the few answers that need it). */
  collectText = false;

  constructor(
    private readonly dropUsageChunk: boolean,
    private readonly onFirstToken: () => void,
    private readonly maxEventBytes = DEFAULT_MAX_EVENT_BYTES,
    private readonly dialect: SseDialect = 'chat',
  ) {}

  /** Feed upstream text; returns what to send to the client now. Throws SseEventTooLargeError past the cap. */
  push(text: string): string {
    let out = '';
    let cursor = 0;
    let segStart = 0;
    if (this.pendingCr) {
      this.pendingCr = false;
      if (text.charCodeAt(0) === 10) {
        cursor = 1;
        // The CR ended the event already sent: its LF goes nowhere. Inside an event it stays with the event.
        if (!this.hasLine) segStart = 1;
      }
    }
    const take = (end: number) => {
      const piece = text.slice(segStart, end);
      segStart = end;
      if (this.parts.length === 0) return piece;
      const whole = this.parts.join('') + piece;
      this.parts = [];
      this.partsBytes = 0;
      return whole;
    };
    TERMINATOR.lastIndex = cursor;
    let m: RegExpExecArray | null;
    while ((m = TERMINATOR.exec(text)) !== null) {
      const at = m.index;
      let end = at + 1;
      if (text.charCodeAt(at) === 13) {
        if (at + 1 < text.length) {
          if (text.charCodeAt(at + 1) === 10) end = at + 2;
        } else this.pendingCr = true;
      }
      if (at > cursor) this.lineEmpty = false;
      if (this.lineEmpty) {
        // A blank line: the event is complete (or, with no event before it, passed on as it is).
        const event = take(end);
        if (!this.hasLine || this.inspect(event)) out += event;
        this.hasLine = false;
      } else this.hasLine = true;
      this.lineEmpty = true;
      cursor = end;
      TERMINATOR.lastIndex = end;
    }
    if (cursor < text.length) this.lineEmpty = false;
    if (segStart < text.length) {
      const rest = text.slice(segStart);
      this.parts.push(rest);
      this.partsBytes += Buffer.byteLength(rest);
      if (this.partsBytes > this.maxEventBytes) throw new SseEventTooLargeError(this.maxEventBytes);
    }
    return out;
  }

  /** Whatever is left when the upstream ends (an unterminated last event): inspected, then passed on. */
  flush(): string {
    const rest = this.parts.join('');
    this.parts = [];
    this.partsBytes = 0;
    this.hasLine = false;
    this.lineEmpty = true;
    this.pendingCr = false;
    return rest && this.inspect(rest) ? rest : '';
  }

  /** Returns false when the event must not reach the client. */
  private inspect(event: string): boolean {
    // Cheap substring check first: an event with no "data" field needs no parsing.
    if (!event.includes('data')) return true;
    const data = eventData(event);
    if (data === null || data === '[DONE]') return true;
    if (this.dialect === 'responses') return this.inspectResponses(data);
    if (this.collectText) this.collect(data);
    if (!this.result.sawFirstToken && FIRST_TOKEN.test(data)) {
      this.result.sawFirstToken = true;
      this.onFirstToken();
    }
    if (!HAS_USAGE.test(data)) return true;
    try {
      const chunk = JSON.parse(data) as { usage?: SseTapResult['usage']; choices?: unknown[] };
      const usage = validUsage(chunk.usage);
      if (usage) this.result.usage = usage;
      if (this.dropUsageChunk && Array.isArray(chunk.choices) && chunk.choices.length === 0) return false;
    } catch {
      /* not JSON: pass it through untouched */
    }
    return true;
  }

  private collect(data: string): void {
    try {
      const content = (JSON.parse(data) as { choices?: Array<{ delta?: { content?: unknown } }> }).choices?.[0]?.delta
        ?.content;
      if (typeof content === 'string') this.result.text = (this.result.text ?? '') + content;
    } catch {
      /* not JSON: no text in it */
    }
  }

  /** Responses events all pass; the first delta marks the first token, response.completed has the usage. */
  private inspectResponses(data: string): boolean {
    if (!this.result.sawFirstToken && RESPONSES_FIRST_TOKEN.test(data)) {
      this.result.sawFirstToken = true;
      this.onFirstToken();
    }
    if (RESPONSES_DONE.test(data)) {
      try {
        const u = (JSON.parse(data) as { response?: { usage?: { input_tokens?: unknown; output_tokens?: unknown } } })
          .response?.usage;
        const usage = u ? validUsage({ prompt_tokens: u.input_tokens, completion_tokens: u.output_tokens }) : undefined;
        if (usage) this.result.usage = usage;
      } catch {
        /* not JSON */
      }
    }
    return true;
  }
}
