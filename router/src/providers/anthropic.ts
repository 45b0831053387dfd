// Anthropic's Messages API behind the OpenAI chat endpoint: the chat body becomes a Messages body (system, turns,
// images, tools and tool results, stop sequences, sampling, max_tokens), the answer and the stream come back as
// OpenAI chat completions and chunks (text, tool calls, finish reason, usage with cache tokens counted as prompt).
import type { Provider, ProviderDeployment } from './provider.ts';
import { chatChunkEvent, dataUrl, EventStreamTranslator, imageUrlOf, jsonObject, parseArguments } from './translate.ts';

/** Anthropic requires max_tokens; OpenAI clients often send none. */
export const DEFAULT_MAX_TOKENS = 4096;

type Json = Record<string, unknown>;
type Block = Json;

const text = (content: unknown): string =>
  typeof content === 'string'
    ? content
    : Array.isArray(content)
      ? content
          .map((p) => (p && typeof (p as Json).text === 'string' ? (p as { text: string }).text : ''))
          .filter(Boolean)
          .join('\n')
      : '';

/** An OpenAI content part -> an Anthropic content block (text and images; other parts are dropped). */
function block(part: unknown): Block | undefined {
  if (typeof part === 'string') return { type: 'text', text: part };
  const p = part as Json;
  if (p?.type === 'text' && typeof p.text === 'string') return { type: 'text', text: p.text };
  if (p?.type === 'image_url') {
    const url = imageUrlOf(p);
    if (url === undefined) return undefined;
    const data = dataUrl(url);
    return data
      ? { type: 'image', source: { type: 'base64', media_type: data.mediaType, data: data.data } }
      : { type: 'image', source: { type: 'url', url } };
  }
  return undefined;
}

const blocks = (content: unknown): Block[] =>
  typeof content === 'string'
    ? [{ type: 'text', text: content }]
    : Array.isArray(content)
      ? content.map(block).filter((b): b is Block => b !== undefined)
      : [];

/** OpenAI chat messages -> Anthropic's system text and alternating turns (tool results become user turns). */
export function toMessages(messages: Json[]): { system?: string; messages: Json[] } {
  const system: string[] = [];
  const out: Json[] = [];
  const push = (role: 'user' | 'assistant', content: Block[]) => {
    if (content.length === 0) return;
    const last = out.at(-1);
    // Anthropic wants turns to alternate: consecutive messages of one role are one turn.
    if (last?.role === role) (last.content as Block[]).push(...content);
    else out.push({ role, content });
  };
  for (const m of messages) {
    if (m.role === 'system' || m.role === 'developer') system.push(text(m.content));
    else if (m.role === 'assistant') {
      const calls = Array.isArray(m.tool_calls) ? (m.tool_calls as Json[]) : [];
      push('assistant', [
        ...blocks(m.content),
        ...calls.map((c) => {
          const fn = (c.function ?? {}) as Json;
          return { type: 'tool_use', id: c.id, name: fn.name, input: parseArguments(fn.arguments) };
        }),
      ]);
    } else if (m.role === 'tool')
      push('user', [{ type: 'tool_result', tool_use_id: m.tool_call_id, content: text(m.content) }]);
    else push('user', blocks(m.content));
  }
  return { ...(system.length ? { system: system.join('\n\n') } : {}), messages: out };
}

function toolChoice(choice: unknown): Json | undefined {
  if (choice === 'auto') return { type: 'auto' };
  if (choice === 'required') return { type: 'any' };
  if (choice === 'none') return { type: 'none' };
  const name = ((choice as Json | undefined)?.function as Json | undefined)?.name;
  return typeof name === 'string' ? { type: 'tool', name } : undefined;
}

/** The Messages body for an OpenAI chat body. */
export function toMessagesBody(openai: Json, model: string, stream: boolean): Json {
  const { system, messages } = toMessages((openai.messages ?? []) as Json[]);
  const stop = openai.stop;
  const tools = Array.isArray(openai.tools)
    ? (openai.tools as Json[]).map((t) => {
        const fn = (t.function ?? {}) as Json;
        return {
          name: fn.name,
          ...(fn.description ? { description: fn.description } : {}),
          input_schema: fn.parameters ?? { type: 'object', properties: {} },
        };
      })
    : undefined;
  const choice = toolChoice(openai.tool_choice);
  const user = typeof openai.user === 'string' ? openai.user : undefined;
  return {
    model,
    ...(system ? { system } : {}),
    messages,
    max_tokens: (openai.max_completion_tokens ?? openai.max_tokens ?? DEFAULT_MAX_TOKENS) as number,
    ...(typeof openai.temperature === 'number' ? { temperature: Math.min(1, openai.temperature) } : {}),
    ...(typeof openai.top_p === 'number' ? { top_p: openai.top_p } : {}),
    ...(stop !== undefined && stop !== null ? { stop_sequences: Array.isArray(stop) ? stop : [stop] } : {}),
    ...(tools?.length ? { tools } : {}),
    ...(choice && tools?.length ? { tool_choice: choice } : {}),
    ...(user ? { metadata: { user_id: user } } : {}),
    ...(stream ? { stream: true } : {}),
  };
}

const FINISH: Record<string, string> = {
  end_turn: 'stop',
  stop_sequence: 'stop',
  max_tokens: 'length',
  tool_use: 'tool_calls',
  pause_turn: 'stop',
  refusal: 'content_filter',
};
export const finishReason = (stop: unknown) => (typeof stop === 'string' ? (FINISH[stop] ?? 'stop') : null);

/** Anthropic usage -> OpenAI's: cache reads and writes are prompt tokens too (and itemised). */
export function toUsage(u: Json | undefined): Json | undefined {
  if (!u) return undefined;
  const n = (v: unknown) => (typeof v === 'number' ? v : 0);
  const cached = n(u.cache_read_input_tokens);
  const prompt = n(u.input_tokens) + cached + n(u.cache_creation_input_tokens);
  const completion = n(u.output_tokens);
  return {
    prompt_tokens: prompt,
    completion_tokens: completion,
    total_tokens: prompt + completion,
    prompt_tokens_details: { cached_tokens: cached, cache_write_tokens: n(u.cache_creation_input_tokens) },
  };
}

/** A Messages answer -> an OpenAI chat completion. */
export function toChatCompletion(msg: Json, model: string): Json {
  const content = (Array.isArray(msg.content) ? msg.content : []) as Json[];
  const texts = content.filter((b) => b.type === 'text').map((b) => b.text as string);
  const calls = content
    .filter((b) => b.type === 'tool_use')
    .map((b) => ({ id: b.id, type: 'function', function: { name: b.name, arguments: JSON.stringify(b.input ?? {}) } }));
  const usage = toUsage(msg.usage as Json | undefined);
  return {
    id: typeof msg.id === 'string' ? msg.id : 'msg',
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model,
    choices: [
      {
        index: 0,
        message: {
          role: 'assistant',
          content: texts.length ? texts.join('') : null,
          ...(calls.length ? { tool_calls: calls } : {}),
        },
        finish_reason: finishReason(msg.stop_reason) ?? 'stop',
        logprobs: null,
      },
    ],
    ...(usage ? { usage } : {}),
  };
}

/**
 * Anthropic's stream events -> OpenAI chat chunks: message_start opens the assistant turn, text and tool-input
 * deltas become content and tool-call deltas, message_delta the finish reason and a usage chunk (choices: []),
 * message_stop the [DONE]; an error event becomes an OpenAI error event.
 */
export class AnthropicStream extends EventStreamTranslator {
  private readonly meta = { id: 'msg', created: Math.floor(Date.now() / 1000), model: '' };
  private inputUsage: Json = {};
  /** Content block index -> the OpenAI tool-call index of a tool_use block. */
  private readonly toolIndex = new Map<number, number>();

  constructor(model: string) {
    super();
    this.meta.model = model;
  }

  private chunk(delta: Json | null, finish: string | null = null, usage?: Json): string {
    return chatChunkEvent(this.meta, delta, finish, usage);
  }

  protected translate(data: string): string {
    const e = jsonObject(data);
    if (!e) return ''; // not JSON: nothing to translate
    switch (e.type) {
      case 'message_start': {
        const msg = (e.message ?? {}) as Json;
        if (typeof msg.id === 'string') this.meta.id = msg.id;
        this.inputUsage = (msg.usage ?? {}) as Json;
        return this.chunk({ role: 'assistant', content: '' });
      }
      case 'content_block_start': {
        const b = (e.content_block ?? {}) as Json;
        if (b.type !== 'tool_use') return '';
        const index = this.toolIndex.size;
        this.toolIndex.set(e.index as number, index);
        return this.chunk({
          tool_calls: [{ index, id: b.id, type: 'function', function: { name: b.name, arguments: '' } }],
        });
      }
      case 'content_block_delta': {
        const d = (e.delta ?? {}) as Json;
        if (d.type === 'text_delta') return this.chunk({ content: d.text });
        if (d.type === 'input_json_delta')
          return this.chunk({
            tool_calls: [
              { index: this.toolIndex.get(e.index as number) ?? 0, function: { arguments: d.partial_json } },
            ],
          });
        return '';
      }
      case 'message_delta': {
        const d = (e.delta ?? {}) as Json;
        const usage = toUsage({ ...this.inputUsage, ...((e.usage ?? {}) as Json) });
        return this.chunk({}, finishReason(d.stop_reason) ?? 'stop') + this.chunk(null, null, usage);
      }
      case 'message_stop':
        return 'data: [DONE]\n\n';
      case 'error': {
        const err = (e.error ?? {}) as Json;
        return `data: ${JSON.stringify({ error: { message: err.message ?? 'upstream error', type: err.type ?? 'upstream_error', param: null, code: err.type ?? null } })}\n\n`;
      }
      default:
        return ''; // ping, content_block_stop
    }
  }
}

export const anthropic: Provider = {
  name: 'anthropic',
  endpoints: ['chat'],
  path: () => '/messages',
  headers: (dep: ProviderDeployment) => ({
    ...(dep.api_key ? { 'x-api-key': dep.api_key } : {}),
    'anthropic-version': dep.anthropic_version,
  }),
  body: (openai, dep, stream) => JSON.stringify(toMessagesBody(openai, dep.model, stream)),
  answer: (json, model) => toChatCompletion(json, model),
  stream: (model) => new AnthropicStream(model),
  // Overloaded (529) is a 503 to OpenAI clients: retryable, and a status their SDKs know.
  status: (status) => (status === 529 ? 503 : status),
};
