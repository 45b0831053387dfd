// What every translation between APIs needs: an event-stream reader that hands over whole events' data, OpenAI's
// chunk shape, tool-call arguments parsed leniently, and data: URLs split. One copy for every provider and front.
import type { StreamTranslator } from './provider.ts';

type Json = Record<string, unknown>;

/**
 * A translator reading an event stream (any line ending): `translate` gets each whole event's data (its data:
 * lines joined) and returns the text to pass on; `end` adds what a stream's end means for the target API.
 */
export abstract class EventStreamTranslator implements StreamTranslator {
  private buffer = '';

  protected abstract translate(data: string): string;

  protected end(): string {
    return '';
  }

  push(text: string): string {
    this.buffer += text.replace(/\r\n?/g, '\n');
    let out = '';
    for (let at = this.buffer.indexOf('\n\n'); at >= 0; at = this.buffer.indexOf('\n\n')) {
      out += this.event(this.buffer.slice(0, at));
      this.buffer = this.buffer.slice(at + 2);
    }
    return out;
  }

  flush(): string {
    const rest = this.buffer.trim() ? this.event(this.buffer) : '';
    this.buffer = '';
    return rest + this.end();
  }

  private event(event: string): string {
    const data = event
      .split('\n')
      .filter((l) => l.startsWith('data:'))
      .map((l) => l.slice(5).replace(/^ /, ''))
      .join('\n');
    return data ? this.translate(data) : '';
  }
}

/** One OpenAI chat chunk as an event (delta null: a usage-only chunk, `choices: []`). */
export function chatChunkEvent(
  meta: { id: string; created: number; model: string },
  delta: Json | null,
  finish: string | null = null,
  usage?: Json,
): string {
  const body = {
    id: meta.id,
    object: 'chat.completion.chunk',
    created: meta.created,
    model: meta.model,
    choices: delta === null ? [] : [{ index: 0, delta, finish_reason: finish, logprobs: null }],
    ...(usage ? { usage } : {}),
  };
  return `data: ${JSON.stringify(body)}\n\n`;
}

/** Text as a JSON object (an answer, an event's data), or undefined when it is not one: no parse unless it opens with {. */
export function jsonObject(text: string): Record<string, unknown> | undefined {
  if (text.trimStart().charCodeAt(0) !== 123 /* { */) return undefined;
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

/** Tool-call arguments (a JSON string, or already an object) as an object; {} when they do not parse. */
export function parseArguments(args: unknown): unknown {
  if (typeof args !== 'string') return args ?? {};
  try {
    return JSON.parse(args || '{}');
  } catch {
    return {};
  }
}

/** A data: URL's media type and base64 data, or undefined for any other URL. */
export function dataUrl(url: string): { mediaType: string; data: string } | undefined {
  const m = /^data:([^;,]+);base64,(.*)$/s.exec(url);
  return m ? { mediaType: m[1]!, data: m[2]! } : undefined;
}

/** The URL of an OpenAI image part (`image_url` as a string or {url}). */
export const imageUrlOf = (part: Json): string | undefined => {
  const u = typeof part.image_url === 'string' ? part.image_url : (part.image_url as Json | undefined)?.url;
  return typeof u === 'string' ? u : undefined;
};
