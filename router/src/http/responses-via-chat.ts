// /v1/responses for models that serve chat only (their provider speaks chat, Messages or Gemini): the Responses
// request becomes a chat request, and the chat answer and stream come back as a Response object and Responses'
// typed events, as the Vercel AI SDK and the OpenAI Agents SDK read them.
import { EventStreamTranslator, jsonObject } from '../providers/translate.ts';

type Json = Record<string, unknown>;

const isText = (p: Json) => p.type === 'input_text' || p.type === 'output_text' || p.type === 'text';

function chatContent(content: unknown): unknown {
  if (!Array.isArray(content)) return content ?? '';
  const parts = (content as Json[]).flatMap((p): Json[] => {
    if (isText(p)) return [{ type: 'text', text: p.text }];
    if (p.type === 'input_image') {
      const url = typeof p.image_url === 'string' ? p.image_url : (p.image_url as Json | undefined)?.url;
      return typeof url === 'string' ? [{ type: 'image_url', image_url: { url } }] : [];
    }
    return [];
  });
  return parts.every((p) => p.type === 'text') ? parts.map((p) => p.text).join('\n') : parts;
}

/** A Responses request -> a chat request. */
export function responsesToChat(body: Json): Json {
  const messages: Json[] = [];
  if (typeof body.instructions === 'string' && body.instructions)
    messages.push({ role: 'system', content: body.instructions });
  if (typeof body.input === 'string') messages.push({ role: 'user', content: body.input });
  else
    for (const item of (body.input ?? []) as Json[]) {
      if (item.type === 'function_call') {
        const call = {
          id: item.call_id,
          type: 'function',
          function: { name: item.name, arguments: item.arguments ?? '{}' },
        };
        const last = messages.at(-1);
        // Parallel calls of one turn are one assistant message.
        if (last?.role === 'assistant' && Array.isArray(last.tool_calls)) (last.tool_calls as Json[]).push(call);
        else messages.push({ role: 'assistant', content: null, tool_calls: [call] });
      } else if (item.type === 'function_call_output')
        messages.push({
          role: 'tool',
          tool_call_id: item.call_id,
          content: typeof item.output === 'string' ? item.output : JSON.stringify(item.output),
        });
      else if (item.role) {
        const role = item.role === 'developer' ? 'system' : item.role;
        messages.push({ role, content: chatContent(item.content) });
      }
    }
  const tools = ((body.tools ?? []) as Json[])
    .filter((t) => t.type === 'function')
    .map((t) => ({
      type: 'function',
      function: { name: t.name, ...(t.description ? { description: t.description } : {}), parameters: t.parameters },
    }));
  const format = ((body.text as Json | undefined)?.format ?? undefined) as Json | undefined;
  const choice = body.tool_choice as Json | string | undefined;
  return {
    model: body.model,
    messages,
    ...(typeof body.max_output_tokens === 'number' ? { max_tokens: body.max_output_tokens } : {}),
    ...(typeof body.temperature === 'number' ? { temperature: body.temperature } : {}),
    ...(typeof body.top_p === 'number' ? { top_p: body.top_p } : {}),
    ...(body.stream ? { stream: true, stream_options: { include_usage: true } } : {}),
    ...(tools.length ? { tools } : {}),
    ...(tools.length && choice
      ? {
          tool_choice:
            typeof choice === 'string'
              ? choice
              : choice.type === 'function'
                ? { type: 'function', function: { name: choice.name } }
                : 'auto',
        }
      : {}),
    ...(format?.type === 'json_schema'
      ? {
          response_format: {
            type: 'json_schema',
            json_schema: { name: format.name, schema: format.schema, strict: format.strict },
          },
        }
      : format?.type === 'json_object'
        ? { response_format: { type: 'json_object' } }
        : {}),
  };
}

const now = () => Math.floor(Date.now() / 1000);

function responseShell(id: string, model: unknown, status: string, output: Json[], usage?: Json): Json {
  return {
    id,
    object: 'response',
    created_at: now(),
    status,
    model,
    output,
    parallel_tool_calls: true,
    tool_choice: 'auto',
    tools: [],
    ...(usage ? { usage } : {}),
  };
}

const responseUsage = (u: Json | undefined): Json | undefined =>
  u
    ? {
        input_tokens: u.prompt_tokens ?? 0,
        output_tokens: u.completion_tokens ?? 0,
        total_tokens: (u.prompt_tokens as number) + (u.completion_tokens as number) || 0,
        input_tokens_details: { cached_tokens: ((u.prompt_tokens_details ?? {}) as Json).cached_tokens ?? 0 },
        output_tokens_details: { reasoning_tokens: 0 },
      }
    : undefined;

/** A chat completion -> a Response object. */
export function chatToResponse(chat: Json): Json {
  const id = `resp_${String(chat.id ?? 'chat').replace(/^resp_/, '')}`;
  const message = (((chat.choices ?? []) as Json[])[0]?.message ?? {}) as Json;
  const output: Json[] = [];
  if (typeof message.content === 'string' && message.content)
    output.push({
      type: 'message',
      id: `msg_${id}`,
      status: 'completed',
      role: 'assistant',
      content: [{ type: 'output_text', text: message.content, annotations: [] }],
    });
  for (const c of (message.tool_calls ?? []) as Json[]) {
    const fn = (c.function ?? {}) as Json;
    output.push({
      type: 'function_call',
      id: `fc_${c.id}`,
      call_id: c.id,
      name: fn.name,
      arguments: fn.arguments ?? '{}',
      status: 'completed',
    });
  }
  return responseShell(id, chat.model, 'completed', output, responseUsage(chat.usage as Json | undefined));
}

/** Chat chunks -> Responses' typed events (created, output items and their parts and deltas, completed). */
export class ChatToResponsesStream extends EventStreamTranslator {
  private seq = 0;
  private id = 'resp_chat';
  private model: unknown;
  private started = false;
  private usage: Json | undefined;
  private readonly items: Json[] = [];
  /** The open text item (its index and text so far). */
  private text: { index: number; id: string; text: string } | undefined;
  /** Open function calls by the chat tool-call index. */
  private readonly calls = new Map<number, { index: number; item: Json }>();

  private ev(type: string, o: Json): string {
    return `event: ${type}\ndata: ${JSON.stringify({ type, sequence_number: this.seq++, ...o })}\n\n`;
  }

  private closeText(): string {
    if (!this.text) return '';
    const { index, id, text } = this.text;
    const part = { type: 'output_text', text, annotations: [] };
    const item = { type: 'message', id, status: 'completed', role: 'assistant', content: [part] };
    this.items[index] = item;
    this.text = undefined;
    return (
      this.ev('response.output_text.done', { item_id: id, output_index: index, content_index: 0, text }) +
      this.ev('response.content_part.done', { item_id: id, output_index: index, content_index: 0, part }) +
      this.ev('response.output_item.done', { output_index: index, item })
    );
  }

  private closeCalls(): string {
    let out = '';
    for (const { index, item } of this.calls.values()) {
      const done = { ...item, status: 'completed' };
      this.items[index] = done;
      out +=
        this.ev('response.function_call_arguments.done', {
          item_id: item.id,
          output_index: index,
          arguments: item.arguments,
        }) + this.ev('response.output_item.done', { output_index: index, item: done });
    }
    this.calls.clear();
    return out;
  }

  protected translate(data: string): string {
    if (data === '[DONE]') return this.finish();
    const chunk = jsonObject(data);
    if (!chunk) return ''; // not JSON: nothing to translate
    if (chunk.error) {
      const e = chunk.error as Json;
      return this.ev('error', { code: e.code ?? null, message: e.message ?? 'upstream error', param: null });
    }
    let out = '';
    if (!this.started) {
      this.started = true;
      this.id = `resp_${String(chunk.id ?? 'chat')}`;
      this.model = chunk.model;
      const shell = responseShell(this.id, this.model, 'in_progress', []);
      out += this.ev('response.created', { response: shell }) + this.ev('response.in_progress', { response: shell });
    }
    if (chunk.usage) this.usage = chunk.usage as Json;
    const delta = (((chunk.choices ?? []) as Json[])[0]?.delta ?? {}) as Json;
    if (typeof delta.content === 'string' && delta.content) out += this.textDelta(delta.content);
    for (const c of (delta.tool_calls ?? []) as Json[]) out += this.callDelta(c);
    return out;
  }

  /** [DONE]: the open items closed, then response.completed with every item and the usage. */
  private finish(): string {
    const closed = this.closeText() + this.closeCalls(); // first: closing fills in the items
    const items = this.items.filter(Boolean);
    return (
      closed +
      this.ev('response.completed', {
        response: responseShell(this.id, this.model, 'completed', items, responseUsage(this.usage)),
      })
    );
  }

  /** Text: a message item opened on its first piece, then output_text deltas. */
  private textDelta(content: string): string {
    let out = '';
    if (!this.text) {
      const index = this.items.length;
      this.items.push({});
      this.text = { index, id: `msg_${this.id}_${index}`, text: '' };
      out +=
        this.ev('response.output_item.added', {
          output_index: index,
          item: { type: 'message', id: this.text.id, status: 'in_progress', role: 'assistant', content: [] },
        }) +
        this.ev('response.content_part.added', {
          item_id: this.text.id,
          output_index: index,
          content_index: 0,
          part: { type: 'output_text', text: '', annotations: [] },
        });
    }
    this.text.text += content;
    return (
      out +
      this.ev('response.output_text.delta', {
        item_id: this.text.id,
        output_index: this.text.index,
        content_index: 0,
        delta: content,
      })
    );
  }

  /** A tool call: a function_call item opened on its first chunk (closing any text), then argument deltas. */
  private callDelta(c: Json): string {
    const fn = (c.function ?? {}) as Json;
    let out = '';
    let call = this.calls.get(c.index as number);
    if (!call) {
      out += this.closeText();
      const index = this.items.length;
      this.items.push({});
      const item = {
        type: 'function_call',
        id: `fc_${c.id}`,
        call_id: c.id,
        name: fn.name,
        arguments: '',
        status: 'in_progress',
      };
      call = { index, item };
      this.calls.set(c.index as number, call);
      out += this.ev('response.output_item.added', { output_index: index, item });
    }
    if (typeof fn.arguments === 'string' && fn.arguments) {
      call.item.arguments = `${call.item.arguments}${fn.arguments}`;
      out += this.ev('response.function_call_arguments.delta', {
        item_id: call.item.id,
        output_index: call.index,
        delta: fn.arguments,
      });
    }
    return out;
  }
}
