import { EventStreamCodec } from '@smithy/core/event-streams';
import { fromUtf8, toUtf8 } from '@smithy/util-utf8';
import type { Endpoint } from './endpoints.ts';
import type { ToolCall } from './tools.ts';

// Answers in each API's shape (OpenAI chat, completions and Responses; Anthropic Messages; Gemini; Bedrock Converse),
// as a whole body or as that API's stream, carrying text or one function call. Shapes follow the providers' API
// references; the SDKs' parsers are the test.

/** Why generation stopped, in llm-sim's words; each API names it its own way. */
export type Finish = 'stop' | 'length' | 'tool';

/** What every answer carries besides its content. */
export interface AnswerMeta {
  /** The request's sequence number: ids are made from it. */
  n: number;
  created: number;
  model: string;
  promptTokens: number;
  completionTokens: number;
  finish: Finish;
}

type Content = { text: string; call?: undefined } | { text?: undefined; call: ToolCall };

const STOP_REASON: Record<Finish, string> = { stop: 'end_turn', length: 'max_tokens', tool: 'tool_use' };
const CHAT_FINISH: Record<Finish, string> = { stop: 'stop', length: 'length', tool: 'tool_calls' };
const GEMINI_FINISH: Record<Finish, string> = { stop: 'STOP', length: 'MAX_TOKENS', tool: 'STOP' };

const ids = (n: number) => ({
  chat: `chatcmpl-sim-${n}`,
  completion: `cmpl-sim-${n}`,
  response: `resp_sim_${n}`,
  message: `msg_sim_${n}`,
  call: `call_sim_${n}`,
  functionItem: `fc_sim_${n}`,
  toolUse: `toolu_sim_${n}`,
  bedrockToolUse: `tooluse_sim_${n}`,
});

const parsed = (call: ToolCall): unknown => JSON.parse(call.arguments);

function openaiUsage(m: AnswerMeta) {
  return {
    prompt_tokens: m.promptTokens,
    completion_tokens: m.completionTokens,
    total_tokens: m.promptTokens + m.completionTokens,
  };
}

/** A Responses API output item: the assistant's message, or a function call. */
function responseItem(m: AnswerMeta, content: Content, status: 'in_progress' | 'completed') {
  const id = ids(m.n);
  if (content.call)
    return {
      type: 'function_call',
      id: id.functionItem,
      call_id: id.call,
      name: content.call.name,
      arguments: status === 'completed' ? content.call.arguments : '',
      status,
    };
  return {
    type: 'message',
    id: `msg_${id.response}`,
    status,
    role: 'assistant',
    content: status === 'completed' ? [{ type: 'output_text', text: content.text, annotations: [], logprobs: [] }] : [],
  };
}

/** A Responses API object (its reference: the response object), as the SDKs read it. */
function responseObject(m: AnswerMeta, content: Content, status: 'in_progress' | 'completed') {
  return {
    id: ids(m.n).response,
    object: 'response',
    created_at: m.created,
    status,
    model: m.model,
    error: null,
    incomplete_details: null,
    output: status === 'completed' ? [responseItem(m, content, status)] : [],
    usage:
      status === 'completed'
        ? {
            input_tokens: m.promptTokens,
            input_tokens_details: { cached_tokens: 0 },
            output_tokens: m.completionTokens,
            output_tokens_details: { reasoning_tokens: 0 },
            total_tokens: m.promptTokens + m.completionTokens,
          }
        : null,
  };
}

/** A Gemini GenerateContentResponse (a stream's events are partial ones: their parts, the last one's finishReason). */
function geminiResponse(m: AnswerMeta, parts: object[], finish: Finish | null, output: number) {
  return {
    candidates: [
      { content: { role: 'model', parts }, index: 0, ...(finish ? { finishReason: GEMINI_FINISH[finish] } : {}) },
    ],
    usageMetadata: {
      promptTokenCount: m.promptTokens,
      candidatesTokenCount: output,
      totalTokenCount: m.promptTokens + output,
    },
    modelVersion: m.model,
    responseId: `sim-${m.n}`,
  };
}

/** An Anthropic Message object. */
function messageObject(m: AnswerMeta, blocks: object[], finish: Finish | null, output: number) {
  return {
    id: ids(m.n).message,
    type: 'message',
    role: 'assistant',
    model: m.model,
    content: blocks,
    stop_reason: finish ? STOP_REASON[finish] : null,
    stop_sequence: null,
    usage: {
      input_tokens: m.promptTokens,
      output_tokens: output,
      cache_creation_input_tokens: 0,
      cache_read_input_tokens: 0,
    },
  };
}

/** A whole (non-streamed) answer's body. */
export function plainAnswer(endpoint: Endpoint, m: AnswerMeta, content: Content): object {
  const id = ids(m.n);
  const { call } = content;
  switch (endpoint) {
    case 'converse':
      return {
        output: {
          message: {
            role: 'assistant',
            content: [
              call
                ? { toolUse: { toolUseId: id.bedrockToolUse, name: call.name, input: parsed(call) } }
                : { text: content.text },
            ],
          },
        },
        stopReason: STOP_REASON[m.finish],
        usage: {
          inputTokens: m.promptTokens,
          outputTokens: m.completionTokens,
          totalTokens: m.promptTokens + m.completionTokens,
        },
        metrics: { latencyMs: 1 },
      };
    case 'gemini':
      return geminiResponse(
        m,
        [call ? { functionCall: { name: call.name, args: parsed(call) } } : { text: content.text }],
        m.finish,
        m.completionTokens,
      );
    case 'messages':
      return messageObject(
        m,
        [
          call
            ? { type: 'tool_use', id: id.toolUse, name: call.name, input: parsed(call) }
            : { type: 'text', text: content.text },
        ],
        m.finish,
        m.completionTokens,
      );
    case 'chat':
      return {
        id: id.chat,
        object: 'chat.completion',
        created: m.created,
        model: m.model,
        choices: [
          {
            index: 0,
            message: call
              ? {
                  role: 'assistant',
                  content: null,
                  tool_calls: [{ id: id.call, type: 'function', function: call }],
                }
              : { role: 'assistant', content: content.text },
            finish_reason: CHAT_FINISH[m.finish],
            logprobs: null,
          },
        ],
        usage: openaiUsage(m),
      };
    case 'completions':
      return {
        id: id.completion,
        object: 'text_completion',
        created: m.created,
        model: m.model,
        choices: [{ index: 0, text: content.text ?? '', finish_reason: CHAT_FINISH[m.finish], logprobs: null }],
        usage: openaiUsage(m),
      };
    default:
      return responseObject(m, content, 'completed');
  }
}

/** AWS's binary event-stream framing (AWS's codec), as Bedrock's converse-stream sends its events. */
const awsCodec = new EventStreamCodec(toUtf8, fromUtf8);
const awsEvent = (type: string, payload: object) =>
  Buffer.from(
    awsCodec.encode({
      headers: {
        ':event-type': { type: 'string', value: type },
        ':content-type': { type: 'string', value: 'application/json' },
        ':message-type': { type: 'string', value: 'event' },
      },
      body: fromUtf8(JSON.stringify(payload)),
    }),
  );

/** A stream's framing: its first event(s), one event per piece (text, or a call's argument JSON), and its end. */
export interface StreamWriter {
  start(): string | Buffer;
  delta(piece: string): string | Buffer;
  end(includeUsage: boolean): string | Buffer;
}

const sse = (o: unknown) => `data: ${JSON.stringify(o)}\n\n`;

/** The stream of an answer; `m.completionTokens` and `m.finish` are final when `end` is called. */
export function streamWriter(endpoint: Endpoint, m: AnswerMeta, call?: ToolCall): StreamWriter {
  switch (endpoint) {
    case 'converse':
      return converseStream(m, call);
    case 'gemini':
      return geminiStream(m, call);
    case 'messages':
      return messagesStream(m, call);
    case 'responses':
      return responsesStream(m, call);
    default:
      return chatStream(endpoint, m, call);
  }
}

function converseStream(m: AnswerMeta, call?: ToolCall): StreamWriter {
  const block = { contentBlockIndex: 0 };
  return {
    start: () =>
      Buffer.concat([
        awsEvent('messageStart', { role: 'assistant' }),
        ...(call
          ? [
              awsEvent('contentBlockStart', {
                ...block,
                start: { toolUse: { toolUseId: ids(m.n).bedrockToolUse, name: call.name } },
              }),
            ]
          : []),
      ]),
    delta: (piece) =>
      awsEvent('contentBlockDelta', { ...block, delta: call ? { toolUse: { input: piece } } : { text: piece } }),
    end: () =>
      Buffer.concat([
        awsEvent('contentBlockStop', block),
        awsEvent('messageStop', { stopReason: STOP_REASON[m.finish] }),
        awsEvent('metadata', {
          usage: {
            inputTokens: m.promptTokens,
            outputTokens: m.completionTokens,
            totalTokens: m.promptTokens + m.completionTokens,
          },
          metrics: { latencyMs: 1 },
        }),
      ]),
  };
}

/** streamGenerateContent?alt=sse: partial responses with usage counted as it goes; no end marker. A function call
 * comes whole in one part, as Gemini sends it. */
function geminiStream(m: AnswerMeta, call?: ToolCall): StreamWriter {
  let sent = 0;
  return {
    start: () => '',
    delta: (piece) => (call ? '' : sse(geminiResponse(m, [{ text: piece }], null, ++sent))),
    end: () =>
      sse(
        geminiResponse(
          m,
          call ? [{ functionCall: { name: call.name, args: parsed(call) } }] : [{ text: '' }],
          m.finish,
          m.completionTokens,
        ),
      ),
  };
}

/** Anthropic's event stream: message_start, one content block's start / deltas / stop (text_delta or
 * input_json_delta), message_delta (stop reason and output usage), message_stop; a ping after the block starts. */
function messagesStream(m: AnswerMeta, call?: ToolCall): StreamWriter {
  const ev = (type: string, o: object) => `event: ${type}\n${sse({ type, ...o })}`;
  return {
    start: () =>
      ev('message_start', { message: messageObject(m, [], null, 1) }) +
      ev('content_block_start', {
        index: 0,
        content_block: call
          ? { type: 'tool_use', id: ids(m.n).toolUse, name: call.name, input: {} }
          : { type: 'text', text: '' },
      }) +
      ev('ping', {}),
    delta: (piece) =>
      ev('content_block_delta', {
        index: 0,
        delta: call ? { type: 'input_json_delta', partial_json: piece } : { type: 'text_delta', text: piece },
      }),
    end: () =>
      ev('content_block_stop', { index: 0 }) +
      ev('message_delta', {
        delta: { stop_reason: STOP_REASON[m.finish], stop_sequence: null },
        usage: { output_tokens: m.completionTokens },
      }) +
      ev('message_stop', {}),
  };
}

/** Responses' typed events: created, the output item added, its text or argument deltas, done events, completed. */
function responsesStream(m: AnswerMeta, call?: ToolCall): StreamWriter {
  let seq = 0;
  let text = '';
  const ev = (type: string, o: object) => `event: ${type}\n${sse({ type, sequence_number: seq++, ...o })}`;
  const content = (): Content => (call ? { call } : { text });
  const item = responseItem(m, content(), 'in_progress');
  const at = { item_id: item.id, output_index: 0 };
  const part = { ...at, content_index: 0 };
  return {
    start: () =>
      ev('response.created', { response: responseObject(m, content(), 'in_progress') }) +
      ev('response.output_item.added', { output_index: 0, item }) +
      (call
        ? ''
        : ev('response.content_part.added', { ...part, part: { type: 'output_text', text: '', annotations: [] } })),
    delta: (piece) => {
      if (call) return ev('response.function_call_arguments.delta', { ...at, delta: piece });
      text += piece;
      return ev('response.output_text.delta', { ...part, delta: piece, logprobs: [] });
    },
    end: () =>
      (call
        ? ev('response.function_call_arguments.done', { ...at, arguments: call.arguments })
        : ev('response.output_text.done', { ...part, text, logprobs: [] }) +
          ev('response.content_part.done', { ...part, part: { type: 'output_text', text, annotations: [] } })) +
      ev('response.output_item.done', { output_index: 0, item: responseItem(m, content(), 'completed') }) +
      ev('response.completed', { response: responseObject(m, content(), 'completed') }),
  };
}

/** OpenAI chat and completions chunks; a tool call's first chunk names it, the next ones carry argument pieces; usage
 * in a last chunk with no choices when the request asked for it; then [DONE]. */
function chatStream(endpoint: Endpoint, m: AnswerMeta, call?: ToolCall): StreamWriter {
  const id = ids(m.n);
  const chat = endpoint === 'chat';
  const chunk = (choice: object | null, usage?: object) =>
    sse({
      id: chat ? id.chat : id.completion,
      object: chat ? 'chat.completion.chunk' : 'text_completion',
      created: m.created,
      model: m.model,
      choices: choice ? [choice] : [],
      ...(usage ? { usage } : {}),
    });
  const choice = (delta: object | null, finish: string | null = null) =>
    chat
      ? { index: 0, delta: delta ?? {}, finish_reason: finish }
      : {
          index: 0,
          text: (delta as { content?: string } | null)?.content ?? '',
          finish_reason: finish,
          logprobs: null,
        };
  return {
    start: () =>
      !chat
        ? ''
        : chunk(
            choice(
              call
                ? {
                    role: 'assistant',
                    content: null,
                    tool_calls: [
                      { index: 0, id: id.call, type: 'function', function: { name: call.name, arguments: '' } },
                    ],
                  }
                : { role: 'assistant', content: '' },
            ),
          ),
    delta: (piece) =>
      chunk(choice(call ? { tool_calls: [{ index: 0, function: { arguments: piece } }] } : { content: piece })),
    end: (includeUsage) =>
      `${chunk(choice(null, CHAT_FINISH[m.finish])) + (includeUsage ? chunk(null, openaiUsage(m)) : '')}data: [DONE]\n\n`,
  };
}
