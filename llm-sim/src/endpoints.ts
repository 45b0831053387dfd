// What llm-sim reads from a request: the path's endpoint, the body's fields, and the prompt as chat-like messages
// (for token counts and the simulated quality), for each API it speaks.

/** The endpoints llm-sim serves: OpenAI's four, and Anthropic's Messages; all but embeddings generate text. */
export type Endpoint = 'chat' | 'completions' | 'responses' | 'embeddings' | 'messages' | 'gemini' | 'converse';
export const ENDPOINT_PATHS: Record<string, Endpoint> = {
  '/v1/messages': 'messages',
  '/v1/chat/completions': 'chat',
  '/chat/completions': 'chat',
  '/v1/completions': 'completions',
  '/completions': 'completions',
  '/v1/responses': 'responses',
  '/responses': 'responses',
  '/v1/embeddings': 'embeddings',
  '/embeddings': 'embeddings',
};

export interface RequestBody {
  model: string;
  /** Anthropic Messages: the system prompt (text or text blocks). */
  system?: unknown;
  /** Gemini generateContent: turns of parts, the system instruction, generation config. */
  contents?: Array<{ role?: unknown; parts?: unknown }>;
  systemInstruction?: { parts?: unknown };
  generationConfig?: { maxOutputTokens?: number };
  /** Bedrock Converse: inference config (its max tokens). */
  inferenceConfig?: { maxTokens?: number };
  messages?: Array<{ role?: unknown; content?: unknown }>;
  prompt?: unknown;
  input?: unknown;
  instructions?: unknown;
  stream?: boolean;
  stream_options?: { include_usage?: boolean };
  max_tokens?: number;
  max_completion_tokens?: number;
  max_output_tokens?: number;
  encoding_format?: string;
  dimensions?: number;
}

/** Gemini parts as chat content parts (text counted as text, anything else as an image would be). */
const geminiParts = (parts: unknown) =>
  (Array.isArray(parts) ? parts : []).map((p) =>
    typeof (p as { text?: unknown }).text === 'string'
      ? { type: 'text', text: (p as { text: string }).text }
      : { type: 'data' },
  );

/** The text an endpoint's request carries, as chat-like messages; a string says what is wrong with the request. */
export function promptMessages(endpoint: Endpoint, body: RequestBody): Array<{ content?: unknown }> | string {
  if (endpoint === 'converse') {
    if (!Array.isArray(body.messages) || body.messages.length === 0) return 'messages: must have at least 1 item';
    const blocks = (c: unknown) => geminiParts(c); // [{text}] blocks read like Gemini's parts
    const system = Array.isArray(body.system) ? [{ role: 'system', content: blocks(body.system) }] : [];
    return [...system, ...body.messages.map((m) => ({ role: m.role, content: blocks(m.content) }))];
  }
  if (endpoint === 'gemini') {
    if (!Array.isArray(body.contents) || body.contents.length === 0) return '* contents: contents is not specified';
    const system = body.systemInstruction
      ? [{ role: 'system', content: geminiParts(body.systemInstruction.parts) }]
      : [];
    return [
      ...system,
      ...body.contents.map((c) => ({ role: c.role === 'model' ? 'assistant' : 'user', content: geminiParts(c.parts) })),
    ];
  }
  if (endpoint === 'messages') {
    if (!Array.isArray(body.messages) || body.messages.length === 0)
      return 'messages: at least one message is required';
    if (typeof body.max_tokens !== 'number') return 'max_tokens: Field required';
    const system = body.system === undefined ? [] : [{ role: 'system', content: body.system }];
    return [...system, ...body.messages];
  }
  if (endpoint === 'chat')
    return Array.isArray(body.messages) && body.messages.length > 0
      ? body.messages
      : "'messages' must be a non-empty array";
  if (endpoint === 'completions') {
    if (typeof body.prompt === 'string') return [{ content: body.prompt }];
    if (Array.isArray(body.prompt) && body.prompt.every((p) => typeof p === 'string'))
      return body.prompt.map((p) => ({ content: p }));
    return "'prompt' must be a string or an array of strings";
  }
  const input = body.input;
  const instructions = typeof body.instructions === 'string' ? [{ content: body.instructions }] : [];
  if (typeof input === 'string') return [...instructions, { content: input }];
  if (Array.isArray(input) && input.length > 0) {
    if (endpoint === 'embeddings')
      return input.every((i) => typeof i === 'string')
        ? input.map((i) => ({ content: i }))
        : "'input' must be a string or an array of strings";
    return [
      ...instructions,
      ...input.map((item) => {
        const content = (item as { content?: unknown })?.content;
        return {
          content: Array.isArray(content)
            ? content.map((c) => ({ ...(c as object), text: (c as { text?: unknown })?.text ?? '' }))
            : content,
        };
      }),
    ];
  }
  return "'input' must be a string or a non-empty array";
}
