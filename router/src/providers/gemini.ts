// Google Gemini's generateContent API behind the OpenAI chat endpoint: models/{model}:generateContent (and
// :streamGenerateContent?alt=sse) under the API's base, the x-goog-api-key header; chat -> contents with parts
// (system instruction, text, inline images, function calls and responses, tools, generation config), answers and
// streams -> OpenAI completions and chunks with usage from usageMetadata.
import type { Provider, ProviderDeployment } from './provider.ts';
import { chatChunkEvent, dataUrl, EventStreamTranslator, imageUrlOf, jsonObject, parseArguments } from './translate.ts';

type Json = Record<string, unknown>;

const textOf = (content: unknown): string =>
  typeof content === 'string'
    ? content
    : Array.isArray(content)
      ? content
          .map((p) => ((p as Json)?.type === 'text' ? ((p as Json).text as string) : ''))
          .filter(Boolean)
          .join('\n')
      : '';

function parts(content: unknown): Json[] {
  if (typeof content === 'string') return content ? [{ text: content }] : [];
  if (!Array.isArray(content)) return [];
  return content.flatMap((p): Json[] => {
    const part = p as Json;
    if (part?.type === 'text' && typeof part.text === 'string') return [{ text: part.text }];
    if (part?.type === 'image_url') {
      const url = imageUrlOf(part);
      const data = url === undefined ? undefined : dataUrl(url);
      // Inline data only: a URL would need Gemini's file API (fileData with a Google-hosted URI).
      return data ? [{ inlineData: { mimeType: data.mediaType, data: data.data } }] : [];
    }
    return [];
  });
}

/** An OpenAI chat body -> a generateContent body. */
export function toGeminiBody(openai: Json): Json {
  const system: string[] = [];
  const contents: Json[] = [];
  /** Tool call id -> function name: Gemini answers a function by its name. */
  const callNames = new Map<unknown, unknown>();
  const push = (role: 'user' | 'model', p: Json[]) => {
    if (p.length === 0) return;
    const last = contents.at(-1);
    if (last?.role === role) (last.parts as Json[]).push(...p);
    else contents.push({ role, parts: p });
  };
  for (const m of (openai.messages ?? []) as Json[]) {
    if (m.role === 'system' || m.role === 'developer') system.push(textOf(m.content));
    else if (m.role === 'assistant') {
      const calls = (m.tool_calls ?? []) as Json[];
      for (const c of calls) callNames.set(c.id, (c.function as Json | undefined)?.name);
      push('model', [
        ...parts(m.content),
        ...calls.map((c) => {
          const fn = (c.function ?? {}) as Json;
          return { functionCall: { name: fn.name, args: parseArguments(fn.arguments) } };
        }),
      ]);
    } else if (m.role === 'tool')
      push('user', [
        {
          functionResponse: { name: callNames.get(m.tool_call_id) ?? 'tool', response: { content: textOf(m.content) } },
        },
      ]);
    else push('user', parts(m.content));
  }
  const stop = openai.stop;
  const config: Json = {
    ...(typeof openai.temperature === 'number' ? { temperature: openai.temperature } : {}),
    ...(typeof openai.top_p === 'number' ? { topP: openai.top_p } : {}),
    ...(typeof (openai.max_completion_tokens ?? openai.max_tokens) === 'number'
      ? { maxOutputTokens: openai.max_completion_tokens ?? openai.max_tokens }
      : {}),
    ...(stop !== undefined && stop !== null ? { stopSequences: Array.isArray(stop) ? stop : [stop] } : {}),
    ...((openai.response_format as Json | undefined)?.type === 'json_object' ||
    (openai.response_format as Json | undefined)?.type === 'json_schema'
      ? { responseMimeType: 'application/json' }
      : {}),
  };
  const tools = Array.isArray(openai.tools)
    ? (openai.tools as Json[]).map((t) => {
        const fn = (t.function ?? {}) as Json;
        return { name: fn.name, ...(fn.description ? { description: fn.description } : {}), parameters: fn.parameters };
      })
    : [];
  const choice = openai.tool_choice;
  const forced = ((choice as Json | undefined)?.function as Json | undefined)?.name;
  const mode = choice === 'required' || forced ? 'ANY' : choice === 'none' ? 'NONE' : undefined;
  return {
    contents,
    ...(system.length ? { systemInstruction: { parts: [{ text: system.join('\n\n') }] } } : {}),
    ...(Object.keys(config).length ? { generationConfig: config } : {}),
    ...(tools.length ? { tools: [{ functionDeclarations: tools }] } : {}),
    ...(mode && tools.length
      ? { toolConfig: { functionCallingConfig: { mode, ...(forced ? { allowedFunctionNames: [forced] } : {}) } } }
      : {}),
  };
}

const FINISH: Record<string, string> = {
  STOP: 'stop',
  MAX_TOKENS: 'length',
  SAFETY: 'content_filter',
  RECITATION: 'content_filter',
  BLOCKLIST: 'content_filter',
  PROHIBITED_CONTENT: 'content_filter',
};

/** usageMetadata -> OpenAI usage (cached content counted in the prompt, itemised; thoughts as completion). */
export function toUsage(u: Json | undefined): Json | undefined {
  if (!u) return undefined;
  const n = (v: unknown) => (typeof v === 'number' ? v : 0);
  const prompt = n(u.promptTokenCount);
  const completion = n(u.candidatesTokenCount) + n(u.thoughtsTokenCount);
  return {
    prompt_tokens: prompt,
    completion_tokens: completion,
    total_tokens: prompt + completion,
    prompt_tokens_details: { cached_tokens: n(u.cachedContentTokenCount) },
  };
}

const candidateParts = (json: Json): Json[] =>
  ((((json.candidates ?? []) as Json[])[0]?.content as Json | undefined)?.parts ?? []) as Json[];

/** A generateContent answer -> an OpenAI chat completion. */
export function toChatCompletion(json: Json, model: string): Json {
  const candidate = ((json.candidates ?? []) as Json[])[0] ?? {};
  const ps = candidateParts(json);
  const text = ps
    .filter((p) => typeof p.text === 'string' && !p.thought)
    .map((p) => p.text)
    .join('');
  const calls = ps
    .filter((p) => p.functionCall)
    .map((p, i) => {
      const fc = p.functionCall as Json;
      return {
        id: fc.id ?? `call_${i}`,
        type: 'function',
        function: { name: fc.name, arguments: JSON.stringify(fc.args ?? {}) },
      };
    });
  const usage = toUsage(json.usageMetadata as Json | undefined);
  const finish = calls.length ? 'tool_calls' : (FINISH[candidate.finishReason as string] ?? 'stop');
  return {
    id: typeof json.responseId === 'string' ? json.responseId : 'gemini',
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model,
    choices: [
      {
        index: 0,
        message: { role: 'assistant', content: text || null, ...(calls.length ? { tool_calls: calls } : {}) },
        finish_reason: finish,
        logprobs: null,
      },
    ],
    ...(usage ? { usage } : {}),
  };
}

/**
 * streamGenerateContent?alt=sse -> OpenAI chunks. Each event is a partial GenerateContentResponse: its text parts
 * become content deltas, its function calls whole tool-call deltas, its finishReason the finish chunk; the last
 * usageMetadata becomes the usage chunk when the stream ends (Gemini sends no end marker), then [DONE].
 */
export class GeminiStream extends EventStreamTranslator {
  private started = false;
  private calls = 0;
  private usage: Json | undefined;
  private finished = false;
  private readonly meta = { id: 'gemini', created: Math.floor(Date.now() / 1000), model: '' };

  constructor(model: string) {
    super();
    this.meta.model = model;
  }

  /** Gemini sends no end marker: the stream's end brings the usage chunk and [DONE]. */
  protected override end(): string {
    const usage = toUsage(this.usage);
    return `${usage ? this.chunk(null, null, usage) : ''}data: [DONE]\n\n`;
  }

  private chunk(delta: Json | null, finish: string | null = null, usage?: Json): string {
    return chatChunkEvent(this.meta, delta, finish, usage);
  }

  protected translate(data: string): string {
    const json = jsonObject(data);
    if (!json) return ''; // not JSON: nothing to translate
    if (json.error) {
      const e = json.error as Json;
      return `data: ${JSON.stringify({ error: { message: e.message ?? 'upstream error', type: 'upstream_error', param: null, code: e.status ?? null } })}\n\n`;
    }
    if (typeof json.responseId === 'string') this.meta.id = json.responseId;
    if (json.usageMetadata) this.usage = json.usageMetadata as Json;
    let out = '';
    if (!this.started) {
      this.started = true;
      out += this.chunk({ role: 'assistant', content: '' });
    }
    for (const p of candidateParts(json)) {
      if (typeof p.text === 'string' && p.text && !p.thought) out += this.chunk({ content: p.text });
      if (p.functionCall) {
        const fc = p.functionCall as Json;
        const index = this.calls++;
        out += this.chunk({
          tool_calls: [
            {
              index,
              id: fc.id ?? `call_${index}`,
              type: 'function',
              function: { name: fc.name, arguments: JSON.stringify(fc.args ?? {}) },
            },
          ],
        });
      }
    }
    const reason = ((json.candidates ?? []) as Json[])[0]?.finishReason;
    if (typeof reason === 'string' && !this.finished) {
      this.finished = true;
      out += this.chunk({}, this.calls ? 'tool_calls' : (FINISH[reason] ?? 'stop'));
    }
    return out;
  }
}

export const gemini: Provider = {
  name: 'gemini',
  endpoints: ['chat'],
  path: (_endpoint, dep, stream) =>
    `/models/${encodeURIComponent(dep.model)}:${stream ? 'streamGenerateContent?alt=sse' : 'generateContent'}`,
  headers: (dep: ProviderDeployment): Record<string, string> => (dep.api_key ? { 'x-goog-api-key': dep.api_key } : {}),
  body: (openai) => JSON.stringify(toGeminiBody(openai)),
  answer: (json, model) => toChatCompletion(json, model),
  stream: (model) => new GeminiStream(model),
};
