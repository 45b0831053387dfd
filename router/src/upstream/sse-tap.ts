// Watches an OpenAI SSE stream as it passes through: finds the first content token and the usage chunk,
// and drops the usage-only chunk when the router added include_usage itself. Works per event, so the
// stream is never buffered beyond one event.
import { validUsage } from './usage.ts';

export interface SseTapResult {
  usage?: { prompt_tokens: number; completion_tokens: number };
  sawFirstToken: boolean;
}

export class SseTap {
  private pending = '';
  readonly result: SseTapResult = { sawFirstToken: false };

  constructor(
    private readonly dropUsageChunk: boolean,
    private readonly onFirstToken: () => void,
  ) {}

  /** Feed upstream text; returns what to send to the client now. */
  push(text: string): string {
    this.pending += text;
    let out = '';
    let end: number;
    while ((end = this.pending.indexOf('\n\n')) >= 0) {
      const event = this.pending.slice(0, end + 2);
      this.pending = this.pending.slice(end + 2);
      if (this.inspect(event)) out += event;
    }
    return out;
  }

  /** Whatever is left when the upstream ends (an unterminated last event). */
  flush(): string {
    const rest = this.pending;
    this.pending = '';
    return rest;
  }

  /** Returns false when the event must not reach the client. */
  private inspect(event: string): boolean {
    const dataLine = event.startsWith('data: ') ? event.slice(6).trimEnd() : null;
    if (dataLine === null || dataLine === '[DONE]') return true;
    // Cheap substring checks first: most chunks are plain deltas and need no JSON.parse.
    const hasUsage = dataLine.includes('"usage":{');
    if (!this.result.sawFirstToken && /"content":"[^"]/.test(dataLine)) {
      this.result.sawFirstToken = true;
      this.onFirstToken();
    }
    if (!hasUsage) return true;
    try {
      const chunk = JSON.parse(dataLine) as { usage?: SseTapResult['usage']; choices?: unknown[] };
      const usage = validUsage(chunk.usage);
      if (usage) this.result.usage = usage;
      if (this.dropUsageChunk && Array.isArray(chunk.choices) && chunk.choices.length === 0) return false;
    } catch {
      /* not JSON: pass it through untouched */
    }
    return true;
  }
}
