// AWS Bedrock's Converse API behind the OpenAI chat endpoint: POST /model/{modelId}/converse (and
// /converse-stream) under the regional runtime URL, signed with SigV4 (AWS's own signer: @smithy/signature-v4) or
// sent with a Bedrock API key as a bearer token; chat -> Converse messages (system, text, images, tool use and
// results, toolConfig, inferenceConfig), answers -> chat completions, and streams — AWS's binary event-stream
// framing, decoded with AWS's codec (@smithy/core) — into OpenAI chunks with usage.
import { Sha256 } from '@aws-crypto/sha256-js';
import { EventStreamCodec } from '@smithy/core/event-streams';
import { SignatureV4 } from '@smithy/signature-v4';
import { fromUtf8, toUtf8 } from '@smithy/util-utf8';
import type { Provider, ProviderDeployment, StreamTranslator } from './provider.ts';
import { chatChunkEvent, dataUrl, imageUrlOf, parseArguments } from './translate.ts';

type Json = Record<string, unknown>;

const IMAGE_FORMATS: Record<string, string> = {
  'image/png': 'png',
  'image/jpeg': 'jpeg',
  'image/gif': 'gif',
  'image/webp': 'webp',
};

function blocks(content: unknown): Json[] {
  if (typeof content === 'string') return content ? [{ text: content }] : [];
  if (!Array.isArray(content)) return [];
  return content.flatMap((p): Json[] => {
    const part = p as Json;
    if (part?.type === 'text' && typeof part.text === 'string') return [{ text: part.text }];
    if (part?.type === 'image_url') {
      const url = imageUrlOf(part);
      const data = url === undefined ? undefined : dataUrl(url);
      const format = data ? IMAGE_FORMATS[data.mediaType] : undefined;
      return data && format ? [{ image: { format, source: { bytes: data.data } } }] : [];
    }
    return [];
  });
}

const textOf = (content: unknown) =>
  blocks(content)
    .map((b) => b.text)
    .filter((t) => typeof t === 'string')
    .join('\n');

/** An OpenAI chat body -> a Converse body. */
export function toConverseBody(openai: Json): Json {
  const system: Json[] = [];
  const messages: Json[] = [];
  const push = (role: 'user' | 'assistant', content: Json[]) => {
    if (content.length === 0) return;
    const last = messages.at(-1);
    if (last?.role === role) (last.content as Json[]).push(...content);
    else messages.push({ role, content });
  };
  for (const m of (openai.messages ?? []) as Json[]) {
    if (m.role === 'system' || m.role === 'developer') system.push({ text: textOf(m.content) });
    else if (m.role === 'assistant')
      push('assistant', [
        ...blocks(m.content),
        ...((m.tool_calls ?? []) as Json[]).map((c) => {
          const fn = (c.function ?? {}) as Json;
          return { toolUse: { toolUseId: c.id, name: fn.name, input: parseArguments(fn.arguments) } };
        }),
      ]);
    else if (m.role === 'tool')
      push('user', [{ toolResult: { toolUseId: m.tool_call_id, content: [{ text: textOf(m.content) }] } }]);
    else push('user', blocks(m.content));
  }
  const stop = openai.stop;
  const max = openai.max_completion_tokens ?? openai.max_tokens;
  const inference: Json = {
    ...(typeof max === 'number' ? { maxTokens: max } : {}),
    ...(typeof openai.temperature === 'number' ? { temperature: openai.temperature } : {}),
    ...(typeof openai.top_p === 'number' ? { topP: openai.top_p } : {}),
    ...(stop !== undefined && stop !== null ? { stopSequences: Array.isArray(stop) ? stop : [stop] } : {}),
  };
  const tools = ((openai.tools ?? []) as Json[]).map((t) => {
    const fn = (t.function ?? {}) as Json;
    return {
      toolSpec: {
        name: fn.name,
        ...(fn.description ? { description: fn.description } : {}),
        inputSchema: { json: fn.parameters ?? { type: 'object', properties: {} } },
      },
    };
  });
  const choice = openai.tool_choice;
  const forced = ((choice as Json | undefined)?.function as Json | undefined)?.name;
  const toolChoice = forced
    ? { tool: { name: forced } }
    : choice === 'required'
      ? { any: {} }
      : choice === 'auto'
        ? { auto: {} }
        : undefined;
  return {
    messages,
    ...(system.length ? { system } : {}),
    ...(Object.keys(inference).length ? { inferenceConfig: inference } : {}),
    ...(tools.length && choice !== 'none' ? { toolConfig: { tools, ...(toolChoice ? { toolChoice } : {}) } } : {}),
  };
}

const FINISH: Record<string, string> = {
  end_turn: 'stop',
  stop_sequence: 'stop',
  max_tokens: 'length',
  tool_use: 'tool_calls',
  content_filtered: 'content_filter',
  guardrail_intervened: 'content_filter',
};

/** Converse usage -> OpenAI's (cache reads and writes counted as prompt tokens, reads itemised). */
export function toUsage(u: Json | undefined): Json | undefined {
  if (!u) return undefined;
  const n = (v: unknown) => (typeof v === 'number' ? v : 0);
  const cached = n(u.cacheReadInputTokens);
  const prompt = n(u.inputTokens) + cached + n(u.cacheWriteInputTokens);
  const completion = n(u.outputTokens);
  return {
    prompt_tokens: prompt,
    completion_tokens: completion,
    total_tokens: prompt + completion,
    prompt_tokens_details: { cached_tokens: cached, cache_write_tokens: n(u.cacheWriteInputTokens) },
  };
}

/** A Converse answer -> an OpenAI chat completion. */
export function toChatCompletion(json: Json, model: string): Json {
  const content = ((((json.output ?? {}) as Json).message ?? {}) as Json).content as Json[] | undefined;
  const text = (content ?? [])
    .filter((b) => typeof b.text === 'string')
    .map((b) => b.text)
    .join('');
  const calls = (content ?? [])
    .filter((b) => b.toolUse)
    .map((b) => {
      const t = b.toolUse as Json;
      return {
        id: t.toolUseId,
        type: 'function',
        function: { name: t.name, arguments: JSON.stringify(t.input ?? {}) },
      };
    });
  const usage = toUsage(json.usage as Json | undefined);
  return {
    id: 'bedrock',
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model,
    choices: [
      {
        index: 0,
        message: { role: 'assistant', content: text || null, ...(calls.length ? { tool_calls: calls } : {}) },
        finish_reason: FINISH[json.stopReason as string] ?? 'stop',
        logprobs: null,
      },
    ],
    ...(usage ? { usage } : {}),
  };
}

const codec = new EventStreamCodec(toUtf8, fromUtf8);

/**
 * converse-stream's binary event stream -> OpenAI chunks: messageStart opens the turn, contentBlockDelta text and
 * tool-input deltas become content and tool-call deltas (a tool block's start its id and name), messageStop the
 * finish reason, metadata the usage chunk; the end of the stream the [DONE]. Exceptions become error events.
 */
export class ConverseStream implements StreamTranslator {
  private bytes = new Uint8Array(0);
  private readonly created = Math.floor(Date.now() / 1000);
  private readonly toolIndex = new Map<number, number>();

  constructor(private readonly model: string) {}

  /** Text is never pushed: the stream is binary (see pushBytes). */
  push(): string {
    return '';
  }

  pushBytes(chunk: Uint8Array): string {
    const all = new Uint8Array(this.bytes.length + chunk.length);
    all.set(this.bytes);
    all.set(chunk, this.bytes.length);
    let offset = 0;
    let out = '';
    while (all.length - offset >= 4) {
      const total = new DataView(all.buffer, all.byteOffset + offset, 4).getUint32(0);
      if (total < 16 || all.length - offset < total) break;
      const message = codec.decode(all.subarray(offset, offset + total));
      offset += total;
      out += this.message(message.headers, toUtf8(message.body));
    }
    this.bytes = all.slice(offset);
    return out;
  }

  flush(): string {
    return 'data: [DONE]\n\n';
  }

  private chunk(delta: Json | null, finish: string | null = null, usage?: Json): string {
    return chatChunkEvent({ id: 'bedrock', created: this.created, model: this.model }, delta, finish, usage);
  }

  private message(headers: Record<string, { value: unknown }>, body: string): string {
    const kind = headers[':message-type']?.value;
    let e: Json;
    try {
      e = JSON.parse(body || '{}') as Json;
    } catch {
      return '';
    }
    if (kind === 'exception' || kind === 'error') {
      const type = String(headers[':exception-type']?.value ?? headers[':error-code']?.value ?? 'upstream_error');
      return `data: ${JSON.stringify({ error: { message: e.message ?? type, type: 'upstream_error', param: null, code: type } })}\n\n`;
    }
    switch (headers[':event-type']?.value) {
      case 'messageStart':
        return this.chunk({ role: 'assistant', content: '' });
      case 'contentBlockStart': {
        const tool = ((e.start ?? {}) as Json).toolUse as Json | undefined;
        if (!tool) return '';
        const index = this.toolIndex.size;
        this.toolIndex.set(e.contentBlockIndex as number, index);
        return this.chunk({
          tool_calls: [{ index, id: tool.toolUseId, type: 'function', function: { name: tool.name, arguments: '' } }],
        });
      }
      case 'contentBlockDelta': {
        const d = (e.delta ?? {}) as Json;
        if (typeof d.text === 'string') return this.chunk({ content: d.text });
        const input = (d.toolUse as Json | undefined)?.input;
        return typeof input === 'string'
          ? this.chunk({
              tool_calls: [
                { index: this.toolIndex.get(e.contentBlockIndex as number) ?? 0, function: { arguments: input } },
              ],
            })
          : '';
      }
      case 'messageStop':
        return this.chunk({}, FINISH[e.stopReason as string] ?? 'stop');
      case 'metadata': {
        const usage = toUsage(e.usage as Json | undefined);
        return usage ? this.chunk(null, null, usage) : '';
      }
      default:
        return '';
    }
  }
}

/** SigV4 signers by deployment credentials (signing is per request; the signer is not). */
const signers = new Map<string, SignatureV4>();

/** The region of a Bedrock runtime URL (bedrock-runtime.<region>.amazonaws.com), unless the config names one. */
const regionOf = (dep: ProviderDeployment, host: string) =>
  dep.aws_region ?? /bedrock-runtime(?:-fips)?\.([a-z0-9-]+)\.amazonaws\.com/.exec(host)?.[1] ?? 'us-east-1';

export const bedrock: Provider = {
  name: 'bedrock',
  endpoints: ['chat'],
  path: (_endpoint, dep, stream) =>
    `/model/${encodeURIComponent(dep.model)}/${stream ? 'converse-stream' : 'converse'}`,
  // A Bedrock API key is a bearer token; otherwise each request is signed (sign below).
  headers: (dep): Record<string, string> => (dep.api_key ? { authorization: `Bearer ${dep.api_key}` } : {}),
  async sign(dep, req) {
    if (dep.api_key || !dep.aws_access_key_id || !dep.aws_secret_access_key) return {};
    const url = new URL(req.origin);
    const region = regionOf(dep, url.hostname);
    const key = `${dep.aws_access_key_id}\u0000${region}`;
    let signer = signers.get(key);
    if (!signer) {
      signer = new SignatureV4({
        service: 'bedrock',
        region,
        sha256: Sha256,
        credentials: {
          accessKeyId: dep.aws_access_key_id,
          secretAccessKey: dep.aws_secret_access_key,
          ...(dep.aws_session_token ? { sessionToken: dep.aws_session_token } : {}),
        },
      });
      signers.set(key, signer);
    }
    const [path, query] = req.path.split('?');
    const signed = await signer.sign({
      method: 'POST',
      protocol: url.protocol,
      hostname: url.hostname,
      ...(url.port ? { port: Number(url.port) } : {}),
      path: path!,
      query: Object.fromEntries(new URLSearchParams(query ?? '')),
      headers: { ...req.headers, host: url.host },
      body: req.body,
    });
    return signed.headers as Record<string, string>;
  },
  body: (openai) => JSON.stringify(toConverseBody(openai)),
  answer: (json, model) => toChatCompletion(json, model),
  stream: (model) => new ConverseStream(model),
  streamContentType: /^\s*application\/vnd\.amazon\.eventstream\b/i,
};
