// The OpenAI endpoints the router serves, each as one description: how its body is validated, what of it is
// the prompt (classified, counted, checked for capabilities), where it goes upstream, how its usage reads,
// and how its stream is framed. The request path (routing, retries, streaming, metrics) is the same for all.
import { z } from 'zod';
import type { ChatMessageLike } from '../classify/prompt-text.ts';
import type { Usage } from '../pricing/cost.ts';
import { validUsage } from '../upstream/usage.ts';
import { parseChatRequest, validateBody as validate } from './chat-request.ts';

export const ENDPOINTS = ['chat', 'completions', 'responses', 'embeddings'] as const;
export type EndpointName = (typeof ENDPOINTS)[number];

export interface EndpointRequest {
  /** The validated body, passed upstream untouched but for `model` (and usage options on streams). */
  body: Record<string, unknown>;
  stream: boolean;
  /** The prompt as chat messages: classified, counted, checked for image parts. */
  messages: ChatMessageLike[];
  /** What capability checks read (tools, functions, response_format). */
  features: { tools?: unknown; functions?: unknown; response_format?: unknown };
  clientWantsUsage: boolean;
}

export interface Endpoint {
  name: EndpointName;
  /** Path under /v1 (and under a deployment's api_base). */
  path: string;
  /** Whether policies (router/<policy>, aliases to one, x-router-policy) may route it. */
  byPolicy: boolean;
  parse(raw: unknown): EndpointRequest;
  usage(json: { usage?: unknown }): Usage | undefined;
  /** How its stream is read (null: never streamed). */
  sse: 'chat' | 'responses' | null;
  /** Whether the router asks for usage on its streams (stream_options.include_usage). */
  asksStreamUsage: boolean;
}

const streamOptions = z.looseObject({ include_usage: z.boolean().optional() }).nullable().optional();
const tokenInput = z.union([
  z.string(),
  z.array(z.string()).min(1),
  z.array(z.number()).min(1),
  z.array(z.array(z.number())).min(1),
]);
/** Text of a token-array prompt is not known: it is classified as empty and counted by its length. */
const asMessages = (input: z.output<typeof tokenInput>): ChatMessageLike[] =>
  typeof input === 'string'
    ? [{ role: 'user', content: input }]
    : input.every((x) => typeof x === 'string')
      ? (input as string[]).map((t) => ({ role: 'user', content: t }))
      : [{ role: 'user', content: '' }];

const chatUsage = (json: { usage?: unknown }) => validUsage(json.usage);

export const CHAT: Endpoint = {
  name: 'chat',
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
  path: '/completions',
  byPolicy: true,
  sse: 'chat',
  asksStreamUsage: true,
  usage: chatUsage,
  parse(raw) {
    const body = validate(completionsSchema, raw, '"prompt"');
    return {
      body,
      stream: body.stream === true,
      messages: asMessages(body.prompt),
      features: {},
      clientWantsUsage: body.stream_options?.include_usage === true,
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
  path: '/responses',
  byPolicy: true,
  sse: 'responses',
  asksStreamUsage: false, // the response.completed event carries usage
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
    return { body, stream: false, messages: asMessages(body.input), features: {}, clientWantsUsage: false };
  },
};

export const ENDPOINT_SPECS: Record<EndpointName, Endpoint> = {
  chat: CHAT,
  completions: COMPLETIONS,
  responses: RESPONSES,
  embeddings: EMBEDDINGS,
};
