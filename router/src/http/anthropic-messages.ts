// Anthropic's Messages API in front of the router (POST /v1/messages), for clients and coding agents that speak it:
// the request becomes an OpenAI chat request (routed by the same policies and aliases, served by any model that
// serves chat), and the chat answer and stream come back as a Message and Anthropic's events; errors in its shape.
import { z } from 'zod';
import { EventStreamTranslator, jsonObject, parseArguments } from '../providers/translate.ts';
import { apiError, type ApiError } from './errors.ts';

type Json = Record<string, unknown>;

const block = z.looseObject({ type: z.string() });
const content = z.union([z.string(), z.array(block)]);
export const messagesRequestSchema = z.looseObject({
  model: z.string().min(1),
  max_tokens: z.number().int().positive(),
  messages: z.array(z.looseObject({ role: z.enum(['user', 'assistant']), content })).min(1),
  system: content.optional(),
  stream: z.boolean().optional(),
  tools: z
    .array(z.looseObject({ name: z.string(), description: z.string().optional(), input_schema: z.unknown() }))
    .optional(),
  tool_choice: z.looseObject({ type: z.string(), name: z.string().optional() }).optional(),
  temperature: z.number().min(0).max(1).optional(),
  top_p: z.number().optional(),
  stop_sequences: z.array(z.string()).optional(),
  metadata: z.looseObject({ user_id: z.string().optional() }).optional(),
});
export type MessagesRequest = z.output<typeof messagesRequestSchema>;

/** Validates a Messages body; errors name the field, as Anthropic's do. */
export function parseMessagesRequest(raw: unknown): MessagesRequest {
  const parsed = messagesRequestSchema.safeParse(raw);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  const param = issue.path.join('.') || 'body';
  throw apiError('invalid_value', `${param}: ${issue.message}`, { param });
}

const textOf = (c: unknown): string =>
  typeof c === 'string'
    ? c
    : Array.isArray(c)
      ? c
          .filter((b) => (b as Json).type === 'text')
          .map((b) => (b as Json).text as string)
          .join('\n')
      : '';

/** An Anthropic content block -> an OpenAI content part (text and images). */
function part(b: Json): Json | undefined {
  if (b.type === 'text') return { type: 'text', text: b.text };
  if (b.type === 'image') {
    const s = (b.source ?? {}) as Json;
    const url = s.type === 'base64' ? `data:${s.media_type};base64,${s.data}` : s.url;
    return typeof url === 'string' ? { type: 'image_url', image_url: { url } } : undefined;
  }
  return undefined;
}

/** A Messages request -> the OpenAI chat body the request path routes and serves. */
export function toChatBody(m: MessagesRequest): Json {
  const messages: Json[] = [];
  const system = textOf(m.system);
  if (system) messages.push({ role: 'system', content: system });
  for (const turn of m.messages) {
    const blocks = typeof turn.content === 'string' ? [{ type: 'text', text: turn.content }] : (turn.content as Json[]);
    if (turn.role === 'assistant') {
      const calls = blocks
        .filter((b) => b.type === 'tool_use')
        .map((b) => ({
          id: b.id,
          type: 'function',
          function: { name: b.name, arguments: JSON.stringify(b.input ?? {}) },
        }));
      const text = textOf(blocks);
      messages.push({ role: 'assistant', content: text || null, ...(calls.length ? { tool_calls: calls } : {}) });
      continue;
    }
    // A user turn: its tool results first (as tool messages, answering the assistant's calls), then its content.
    for (const b of blocks.filter((x) => x.type === 'tool_result'))
      messages.push({ role: 'tool', tool_call_id: b.tool_use_id, content: textOf(b.content) });
    const parts = blocks.map(part).filter((p): p is Json => p !== undefined);
    if (parts.length)
      messages.push({
        role: 'user',
        content: parts.every((p) => p.type === 'text') ? parts.map((p) => p.text).join('\n') : parts,
      });
  }
  const choice = m.tool_choice;
  return {
    model: m.model,
    messages,
    max_tokens: m.max_tokens,
    ...(m.stream ? { stream: true, stream_options: { include_usage: true } } : {}),
    ...(m.temperature !== undefined ? { temperature: m.temperature } : {}),
    ...(m.top_p !== undefined ? { top_p: m.top_p } : {}),
    ...(m.stop_sequences?.length ? { stop: m.stop_sequences } : {}),
    ...(m.metadata?.user_id ? { user: m.metadata.user_id } : {}),
    ...(m.tools?.length
      ? {
          tools: m.tools.map((t) => ({
            type: 'function',
            function: {
              name: t.name,
              ...(t.description ? { description: t.description } : {}),
              parameters: t.input_schema ?? { type: 'object', properties: {} },
            },
          })),
        }
      : {}),
    ...(choice && m.tools?.length
      ? {
          tool_choice:
            choice.type === 'any'
              ? 'required'
              : choice.type === 'tool'
                ? { type: 'function', function: { name: choice.name } }
                : choice.type === 'none'
                  ? 'none'
                  : 'auto',
        }
      : {}),
  };
}

const STOP: Record<string, string> = {
  stop: 'end_turn',
  length: 'max_tokens',
  tool_calls: 'tool_use',
  content_filter: 'refusal',
};
const stopReason = (finish: unknown) => (typeof finish === 'string' ? (STOP[finish] ?? 'end_turn') : 'end_turn');

/** An OpenAI chat completion -> a Message. */
export function toMessage(json: Json): Json {
  const choice = ((json.choices ?? []) as Json[])[0] ?? {};
  const message = (choice.message ?? {}) as Json;
  const usage = (json.usage ?? {}) as Json;
  const blocks: Json[] = [];
  if (typeof message.content === 'string' && message.content) blocks.push({ type: 'text', text: message.content });
  for (const c of (message.tool_calls ?? []) as Json[]) {
    const fn = (c.function ?? {}) as Json;
    blocks.push({ type: 'tool_use', id: c.id, name: fn.name, input: parseArguments(fn.arguments) });
  }
  return {
    id: typeof json.id === 'string' ? json.id : 'msg',
    type: 'message',
    role: 'assistant',
    model: json.model,
    content: blocks,
    stop_reason: stopReason(choice.finish_reason),
    stop_sequence: null,
    usage: { input_tokens: usage.prompt_tokens ?? 0, output_tokens: usage.completion_tokens ?? 0 },
  };
}

/**
 * OpenAI chat chunks -> Anthropic's events: message_start on the first chunk, a text block for content, a tool_use
 * block per tool call (its arguments as input_json_delta), and at [DONE] the block's stop, message_delta (stop
 * reason and usage, from the usage chunk the router asks for) and message_stop.
 */
export class ChatToMessagesStream extends EventStreamTranslator {
  private started = false;
  private open: { index: number; kind: 'text' | 'tool'; call?: number } | undefined;
  private blocks = 0;
  private stop = 'end_turn';
  private usage: Json = {};

  private ev(type: string, o: Json = {}): string {
    return `event: ${type}\ndata: ${JSON.stringify({ type, ...o })}\n\n`;
  }

  private start(chunk: Json): string {
    if (this.started) return '';
    this.started = true;
    return this.ev('message_start', {
      message: {
        id: chunk.id ?? 'msg',
        type: 'message',
        role: 'assistant',
        model: chunk.model,
        content: [],
        stop_reason: null,
        stop_sequence: null,
        usage: { input_tokens: 0, output_tokens: 0 },
      },
    });
  }

  private close(): string {
    if (!this.open) return '';
    const out = this.ev('content_block_stop', { index: this.open.index });
    this.open = undefined;
    return out;
  }

  protected translate(data: string): string {
    if (data === '[DONE]')
      return (
        this.close() +
        this.ev('message_delta', {
          delta: { stop_reason: this.stop, stop_sequence: null },
          usage: { input_tokens: this.usage.prompt_tokens ?? 0, output_tokens: this.usage.completion_tokens ?? 0 },
        }) +
        this.ev('message_stop')
      );
    const chunk = jsonObject(data);
    if (!chunk) return ''; // not JSON: nothing to translate
    if (chunk.error) {
      const e = chunk.error as Json;
      return this.ev('error', { error: { type: 'api_error', message: e.message ?? 'upstream error' } });
    }
    let out = this.start(chunk);
    if (chunk.usage) this.usage = chunk.usage as Json;
    const choice = ((chunk.choices ?? []) as Json[])[0];
    if (!choice) return out;
    const delta = (choice.delta ?? {}) as Json;
    if (typeof delta.content === 'string' && delta.content) {
      if (this.open?.kind !== 'text') {
        out += this.close();
        this.open = { index: this.blocks++, kind: 'text' };
        out += this.ev('content_block_start', { index: this.open.index, content_block: { type: 'text', text: '' } });
      }
      out += this.ev('content_block_delta', {
        index: this.open.index,
        delta: { type: 'text_delta', text: delta.content },
      });
    }
    for (const c of (delta.tool_calls ?? []) as Json[]) {
      const fn = (c.function ?? {}) as Json;
      if (c.id !== undefined || this.open?.kind !== 'tool' || this.open.call !== c.index) {
        out += this.close();
        this.open = { index: this.blocks++, kind: 'tool', call: c.index as number };
        out += this.ev('content_block_start', {
          index: this.open.index,
          content_block: { type: 'tool_use', id: c.id, name: fn.name, input: {} },
        });
      }
      if (typeof fn.arguments === 'string' && fn.arguments)
        out += this.ev('content_block_delta', {
          index: this.open.index,
          delta: { type: 'input_json_delta', partial_json: fn.arguments },
        });
    }
    if (choice.finish_reason) this.stop = stopReason(choice.finish_reason);
    return out;
  }
}

/** Anthropic's error types by HTTP status. */
const ERROR_TYPES: Record<number, string> = {
  400: 'invalid_request_error',
  401: 'authentication_error',
  403: 'permission_error',
  404: 'not_found_error',
  413: 'request_too_large',
  429: 'rate_limit_error',
  503: 'overloaded_error',
  529: 'overloaded_error',
};

/** An error in Anthropic's shape (its SDK reads error.type and error.message). */
export const anthropicError = (err: ApiError) => ({
  type: 'error',
  error: { type: ERROR_TYPES[err.status] ?? 'api_error', message: err.message },
});
