// The OpenAI endpoints the router serves, each as one description: how its body is validated, what of it is
// the prompt (classified, counted, checked for capabilities), where it goes upstream, how its usage reads,
// and how its stream is framed. The request path (routing, retries, streaming, metrics) is the same for all.
import { z } from 'zod';
import type { ChatMessageLike } from '../classify/prompt-text.ts';
import type { Usage } from '@llm-router/common/pricing';
import { validUsage } from '@llm-router/common/usage';
import type { StreamTranslator } from '../providers/provider.ts';
import {
  anthropicError,
  ChatToMessagesStream,
  parseMessagesRequest,
  toChatBody,
  toMessage,
} from './anthropic-messages.ts';
import { parseChatRequest, validateBody as validate } from './chat-request.ts';
import { ChatToResponsesStream, chatToResponse, responsesToChat } from './responses-via-chat.ts';
import type { ApiError } from './errors.ts';

import type { EndpointName, ProviderName } from '../config/vocabulary.ts';

export { ENDPOINTS, type EndpointName } from '../config/vocabulary.ts';

export interface EndpointRequest {
  /** The validated body, passed upstream untouched but for `model` (and usage options on streams). */
  body: Record<string, unknown>;
  stream: boolean;
  /** The prompt as chat messages: classified, counted, checked for image parts. */
  messages: ChatMessageLike[];
  /** What capability checks read (tools, functions, response_format). */
  features: { tools?: unknown; functions?: unknown; response_format?: unknown };
  clientWantsUsage: boolean;
  /** The prompt's size in tokens where the body says it exactly (token-id input); else estimated from `messages`. */
  promptTokens?: number;
}

/** What a client may call: the four OpenAI endpoints, and Anthropic's Messages (served by chat models). */
export type InboundEndpoint = EndpointName | 'messages';

export interface Endpoint {
  name: InboundEndpoint;
  /** The model endpoint that serves it (a model's config `endpoints`; a provider's path). */
  upstream: EndpointName;
  /** Path under /v1. */
  path: string;
  /** Whether policies (router/<policy>, aliases to one, x-router-policy) may route it. */
  byPolicy: boolean;
  parse(raw: unknown): EndpointRequest;
  usage(json: { usage?: unknown }): Usage | undefined;
  /** How its stream is read (null: never streamed). */
  sse: 'chat' | 'responses' | null;
  /** Whether the router asks for usage on its streams (stream_options.include_usage). */
  asksStreamUsage: boolean;
  /**
   * Models that serve chat only serve this endpoint by translation (responses-via-chat.ts): the request as a chat
   * request, the chat answer and stream back in this endpoint's shape.
   */
  viaChat?: {
    body(body: Record<string, unknown>): Record<string, unknown>;
    answer(chat: Record<string, unknown>): Record<string, unknown>;
    stream(): StreamTranslator;
  };
  /**
   * The provider whose API this endpoint is (Anthropic, for Messages): its deployments get the client's request as
   * it came (model set) and the client gets their answers and streams untouched; metrics still read them.
   */
  native?: { provider: ProviderName; body(chatBody: Record<string, unknown>, model: string): string };
  /** Another API in front (Anthropic's Messages): the answer, the stream and errors as that API has them. */
  answerOut?(json: Record<string, unknown>): Record<string, unknown>;
  streamOut?(): StreamTranslator;
  errorBody?(err: ApiError): unknown;
}

const streamOptions = z.looseObject({ include_usage: z.boolean().optional() }).nullable().optional();
type TokenInput = string | string[] | number[] | number[][];
/**
 * A prompt or input: text, texts, token ids, or arrays of token ids. Checked in one pass with no allocation: a union
 * schema tried each branch and recorded an issue per element, and a million token ids cost hundreds of MB.
 */
function isTokenInput(v: unknown): v is TokenInput {
  if (typeof v === 'string') return true;
  if (!Array.isArray(v) || v.length === 0) return false;
  const first: unknown = v[0];
  if (typeof first === 'string') return v.every((x) => typeof x === 'string');
  if (typeof first === 'number') return v.every(isTokenId);
  return v.every((a) => Array.isArray(a) && a.length > 0 && a.every(isTokenId));
}
const isTokenId = (x: unknown) => Number.isSafeInteger(x) && (x as number) >= 0;
const tokenInput = z.custom<TokenInput>(isTokenInput, {
  error: 'must be a string, an array of strings, an array of token ids, or an array of arrays of token ids',
});
/** Token ids in a token-array input (their count is the prompt's size); undefined for text. */
function tokenCount(input: TokenInput): number | undefined {
  if (typeof input === 'string' || typeof input[0] === 'string') return undefined;
  if (typeof input[0] === 'number') return input.length;
  let n = 0;
  for (const a of input as number[][]) n += a.length;
  return n;
}
/** Text of a token-array prompt is not known: it is classified as empty and counted by its length. */
const asMessages = (input: TokenInput): ChatMessageLike[] =>
  typeof input === 'string'
    ? [{ role: 'user', content: input }]
    : input.every((x) => typeof x === 'string')
      ? (input as string[]).map((t) => ({ role: 'user', content: t }))
      : [{ role: 'user', content: '' }];

export const chatUsage = (json: { usage?: unknown }) => validUsage(json.usage);

export const CHAT: Endpoint = {
  name: 'chat',
  upstream: 'chat',
  path: '/chat/completions',
  byPolicy: true,
  sse: 'chat',
  asksStreamUsage: true,
  usage: chatUsage,
  parse(raw) {
    const body = parseChatRequest(raw);
    const { tools, functions, response_format } = body as Record<string, unknown>;
    return {
      body,
      stream: body.stream === true,
      messages: body.messages,
      features: { tools, functions, response_format },
      clientWantsUsage: body.stream_options?.include_usage === true,
    };
  },
};

const completionsSchema = z.looseObject({
  model: z.string().optional(),
  prompt: tokenInput,
  stream: z.boolean().optional(),
  stream_options: streamOptions,
  max_tokens: z.number().int().positive().nullable().optional(),
});
export const COMPLETIONS: Endpoint = {
  name: 'completions',
  upstream: 'completions',
  path: '/completions',
  byPolicy: true,
  sse: 'chat',
  asksStreamUsage: true,
  usage: chatUsage,
  parse(raw) {
    const body = validate(completionsSchema, raw, '"prompt"');
    const tokens = tokenCount(body.prompt);
    return {
      body,
      stream: body.stream === true,
      messages: asMessages(body.prompt),
      features: {},
      clientWantsUsage: body.stream_options?.include_usage === true,
      ...(tokens !== undefined ? { promptTokens: tokens } : {}),
    };
  },
};

const responseItem = z.looseObject({
  role: z.string().optional(),
  type: z.string().optional(),
  content: z.union([z.string(), z.array(z.looseObject({ type: z.string() }))]).optional(),
});
const responsesSchema = z.looseObject({
  model: z.string().optional(),
  input: z.union([z.string(), z.array(responseItem).min(1)]),
  instructions: z.string().nullable().optional(),
  stream: z.boolean().optional(),
  tools: z.array(z.unknown()).optional(),
  text: z
    .looseObject({ format: z.looseObject({ type: z.string() }).optional() })
    .nullable()
    .optional(),
});
/** Responses input items as chat messages: input_text parts read as text, images stay image parts. */
function responsesMessages(body: z.output<typeof responsesSchema>): ChatMessageLike[] {
  const out: ChatMessageLike[] = body.instructions ? [{ role: 'system', content: body.instructions }] : [];
  if (typeof body.input === 'string') return [...out, { role: 'user', content: body.input }];
  for (const item of body.input) {
    const role = item.role ?? (item.type === 'function_call_output' ? 'tool' : 'assistant');
    const content = Array.isArray(item.content)
      ? item.content.map((p) =>
          p.type === 'input_text' || p.type === 'output_text'
            ? { type: 'text', text: (p as { text?: unknown }).text }
            : p,
        )
      : item.content;
    out.push({ role, content });
  }
  return out;
}
export const RESPONSES: Endpoint = {
  name: 'responses',
  upstream: 'responses',
  path: '/responses',
  byPolicy: true,
  sse: 'responses',
  asksStreamUsage: false, // the response.completed event carries usage
  viaChat: { body: responsesToChat, answer: chatToResponse, stream: () => new ChatToResponsesStream() },
  usage(json) {
    const u = json.usage as { input_tokens?: unknown; output_tokens?: unknown } | undefined;
    return u ? validUsage({ prompt_tokens: u.input_tokens, completion_tokens: u.output_tokens }) : undefined;
  },
  parse(raw) {
    const body = validate(responsesSchema, raw, '"input"');
    return {
      body,
      stream: body.stream === true,
      messages: responsesMessages(body),
      features: { tools: body.tools, response_format: body.text?.format },
      clientWantsUsage: true,
    };
  },
};

const embeddingsSchema = z.looseObject({ model: z.string().optional(), input: tokenInput });
export const EMBEDDINGS: Endpoint = {
  name: 'embeddings',
  upstream: 'embeddings',
  path: '/embeddings',
  byPolicy: false,
  sse: null,
  asksStreamUsage: false,
  usage(json) {
    const u = json.usage as { prompt_tokens?: unknown } | undefined;
    return u ? validUsage({ prompt_tokens: u.prompt_tokens, completion_tokens: 0 }) : undefined;
  },
  parse(raw) {
    const body = validate(embeddingsSchema, raw, '"input"');
    const tokens = tokenCount(body.input);
    return {
      body,
      stream: false,
      messages: asMessages(body.input),
      features: {},
      clientWantsUsage: false,
      ...(tokens !== undefined ? { promptTokens: tokens } : {}),
    };
  },
};

/** Where a Messages request's own body rides on its chat translation. */
const MESSAGES_REQUEST = Symbol('llm-router.messagesRequest');

/** Anthropic's Messages API, translated to chat (http/anthropic-messages.ts): any model that serves chat serves it. */
export const MESSAGES: Endpoint = {
  name: 'messages',
  upstream: 'chat',
  path: '/messages',
  byPolicy: true,
  sse: 'chat',
  asksStreamUsage: true,
  usage: chatUsage,
  parse(raw) {
    const messages = parseMessagesRequest(raw);
    const body = toChatBody(messages);
    // Kept for Anthropic deployments, which get the request as it came (a symbol: never serialised with the body).
    (body as Record<symbol, unknown>)[MESSAGES_REQUEST] = messages;
    return {
      body,
      stream: body.stream === true,
      messages: body.messages as ChatMessageLike[],
      features: { tools: body.tools },
      // Its message_delta carries the usage: the usage chunk the router asks for is kept for it.
      clientWantsUsage: true,
    };
  },
  native: {
    provider: 'anthropic',
    body: (chat, model) =>
      JSON.stringify({ ...((chat as Record<symbol, unknown>)[MESSAGES_REQUEST] as object), model }),
  },
  answerOut: toMessage,
  streamOut: () => new ChatToMessagesStream(),
  errorBody: anthropicError,
};

export const ENDPOINT_SPECS: Record<InboundEndpoint, Endpoint> = {
  chat: CHAT,
  completions: COMPLETIONS,
  responses: RESPONSES,
  embeddings: EMBEDDINGS,
  messages: MESSAGES,
};
