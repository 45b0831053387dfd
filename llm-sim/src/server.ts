import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { EventStreamCodec } from '@smithy/core/event-streams';
import { fromUtf8, toUtf8 } from '@smithy/util-utf8';
import type { SimConfig, SimModel } from './config.ts';
import { MinuteWindow } from './rate-limiter.ts';
import { Rng } from './rng.ts';
import { ANSWER_MARK, answersRight, askedText, judgeVerdict } from './quality.ts';
import { estimatePromptTokens, generateTokens } from './text.ts';
import { createSimMetrics, type SimMetrics } from './metrics.ts';

const MAX_BODY_BYTES = 20 * 1024 * 1024;
/** Faults a test can force on one request with the `x-sim-fault` header. */
const FAULTS = new Set(['error', 'hang', 'rate_limit', 'disconnect', 'stall', 'overloaded']);

/** The endpoints llm-sim serves: OpenAI's four, and Anthropic's Messages; all but embeddings generate text. */
type Endpoint = 'chat' | 'completions' | 'responses' | 'embeddings' | 'messages' | 'gemini' | 'converse';
const ENDPOINT_PATHS: Record<string, Endpoint> = {
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

interface RequestBody {
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

/** The text an endpoint's request carries, as chat-like messages (for token counts and checks). */
/** Gemini parts as chat content parts (text counted as text, anything else as an image would be). */
const geminiParts = (parts: unknown) =>
  (Array.isArray(parts) ? parts : []).map((p) =>
    typeof (p as { text?: unknown }).text === 'string'
      ? { type: 'text', text: (p as { text: string }).text }
      : { type: 'data' },
  );

function promptMessages(endpoint: Endpoint, body: RequestBody): Array<{ content?: unknown }> | string {
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

/** A deterministic unit vector for a text (FNV-1a seeded xorshift): same text, same embedding. */
function embed(text: string, dims: number): Float32Array {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  let x = h >>> 0 || 1;
  const v = new Float32Array(dims);
  let norm = 0;
  for (let i = 0; i < dims; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    v[i] = ((x >>> 0) / 4294967296) * 2 - 1;
    norm += v[i]! * v[i]!;
  }
  const n = Math.sqrt(norm) || 1;
  for (let i = 0; i < dims; i++) v[i]! /= n;
  return v;
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

function sendError(
  res: ServerResponse,
  status: number,
  message: string,
  type: string,
  code: string | null,
  param: string | null = null,
  headers: Record<string, string> = {},
): void {
  sendJson(res, status, { error: { message, type, param, code } }, headers);
}

/** Anthropic's error types by status (its API reference: errors). */
const ANTHROPIC_ERROR_TYPES: Record<number, string> = {
  400: 'invalid_request_error',
  401: 'authentication_error',
  403: 'permission_error',
  404: 'not_found_error',
  413: 'request_too_large',
  429: 'rate_limit_error',
  500: 'api_error',
  529: 'overloaded_error',
};

/** Bedrock's exception names by HTTP status (its error type header). */
const BEDROCK_ERRORS: Record<number, string> = {
  400: 'ValidationException',
  403: 'AccessDeniedException',
  404: 'ResourceNotFoundException',
  429: 'ThrottlingException',
  500: 'InternalServerException',
  503: 'ServiceUnavailableException',
};

/** Google's status names by HTTP status (its API errors: {error: {code, message, status}}). */
const GOOGLE_STATUS: Record<number, string> = {
  400: 'INVALID_ARGUMENT',
  403: 'PERMISSION_DENIED',
  404: 'NOT_FOUND',
  429: 'RESOURCE_EXHAUSTED',
  500: 'INTERNAL',
  503: 'UNAVAILABLE',
};

/** An error in the shape of the endpoint's API: OpenAI's {error: {...}}, Anthropic's {type: "error", error}, or Google's. */
function sendEndpointError(
  res: ServerResponse,
  endpoint: Endpoint,
  status: number,
  message: string,
  type: string,
  code: string | null,
  param: string | null = null,
  headers: Record<string, string> = {},
): void {
  if (endpoint === 'messages')
    sendJson(
      res,
      status,
      { type: 'error', error: { type: ANTHROPIC_ERROR_TYPES[status] ?? 'api_error', message } },
      headers,
    );
  else if (endpoint === 'converse')
    sendJson(
      res,
      status,
      { message },
      { 'x-amzn-errortype': BEDROCK_ERRORS[status] ?? 'InternalServerException', ...headers },
    );
  else if (endpoint === 'gemini')
    sendJson(res, status, { error: { code: status, message, status: GOOGLE_STATUS[status] ?? 'UNKNOWN' } }, headers);
  else sendError(res, status, message, type, code, param, headers);
}

/** Whether a request carries `key` as any of the APIs sends one (a SigV4 signature counts: it is not verified). */
function presentsKey(req: IncomingMessage, key: string): boolean {
  const h = req.headers;
  const auth = String(h.authorization ?? '');
  if (auth.startsWith('AWS4-HMAC-SHA256 ')) return true;
  const query = new URL(req.url ?? '/', 'http://sim').searchParams.get('key');
  return [auth.replace(/^Bearer\s+/i, ''), h['api-key'], h['x-api-key'], h['x-goog-api-key'], query].includes(key);
}

function readBody(req: IncomingMessage): Promise<Buffer | 'too_large'> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY_BYTES) {
        resolve('too_large');
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

export interface SimServer {
  server: Server;
  metrics: SimMetrics;
  /** Resolves with the bound port. */
  listen(port: number, host?: string): Promise<number>;
  close(): Promise<void>;
}

export function createSimServer(config: SimConfig): SimServer {
  const rng = new Rng(config.seed);
  const metrics = createSimMetrics();
  const models = new Map<string, SimModel>(config.models.map((m) => [m.id, m]));
  const windows = new Map<string, MinuteWindow>(config.models.map((m) => [m.id, new MinuteWindow(m.rpm, m.tpm)]));
  let nextId = 1;
  const scale = config.time_scale;

  function delay(ms: number, onClose: Set<NodeJS.Timeout>): Promise<void> {
    const scaled = ms * scale;
    return new Promise((resolve) => {
      if (scaled <= 0) return setImmediate(resolve);
      const t = setTimeout(() => {
        onClose.delete(t);
        resolve();
      }, scaled);
      onClose.add(t);
    });
  }

  /** `deployment`: Azure OpenAI's URL names the model (its deployment) instead of the body. */
  async function generate(
    endpoint: Endpoint,
    req: IncomingMessage,
    res: ServerResponse,
    deployment?: string,
    /** Gemini: streaming is a path, not a body field. */
    streamPath = false,
  ): Promise<void> {
    if (config.api_key !== undefined && !presentsKey(req, config.api_key)) {
      metrics.requests.inc({ model: 'unknown', outcome: 'unauthorized' });
      return sendEndpointError(
        res,
        endpoint,
        endpoint === 'gemini' || endpoint === 'converse' ? 403 : 401,
        'Incorrect API key provided',
        'invalid_request_error',
        'invalid_api_key',
      );
    }
    const raw = await readBody(req);
    if (raw === 'too_large')
      return sendEndpointError(
        res,
        endpoint,
        413,
        'Request body too large',
        'invalid_request_error',
        'request_too_large',
      );
    let body: RequestBody;
    try {
      body = JSON.parse(raw.toString('utf8')) as RequestBody;
    } catch {
      return sendEndpointError(
        res,
        endpoint,
        400,
        'Request body is not valid JSON',
        'invalid_request_error',
        'invalid_json',
      );
    }
    if (deployment !== undefined && body && typeof body === 'object') body.model = deployment;
    if (streamPath && body && typeof body === 'object') body.stream = true;
    if (!body || typeof body !== 'object' || typeof body.model !== 'string') {
      return sendEndpointError(
        res,
        endpoint,
        400,
        'you must provide a model parameter',
        'invalid_request_error',
        null,
        'model',
      );
    }
    // Anthropic's API requires its version header on every request.
    if (endpoint === 'messages' && !req.headers['anthropic-version'])
      return sendEndpointError(
        res,
        endpoint,
        400,
        'anthropic-version: header is required',
        'invalid_request_error',
        null,
      );
    const messages = promptMessages(endpoint, body);
    if (typeof messages === 'string') {
      return sendEndpointError(
        res,
        endpoint,
        400,
        messages,
        'invalid_request_error',
        null,
        endpoint === 'chat' ? 'messages' : endpoint === 'completions' ? 'prompt' : 'input',
      );
    }
    const model = models.get(body.model);
    if (!model) {
      return sendEndpointError(
        res,
        endpoint,
        404,
        `The model '${body.model}' does not exist`,
        'invalid_request_error',
        'model_not_found',
        'model',
      );
    }
    const started = process.hrtime.bigint();
    const promptTokens = estimatePromptTokens(messages);
    if (promptTokens > model.context_window) {
      metrics.requests.inc({ model: model.id, outcome: 'context_length_exceeded' });
      return sendEndpointError(
        res,
        endpoint,
        400,
        `This model's maximum context length is ${model.context_window} tokens. However, your messages resulted in ${promptTokens} tokens.`,
        'invalid_request_error',
        'context_length_exceeded',
        'messages',
      );
    }
    const faultHeader = String(req.headers['x-sim-fault'] ?? '');
    const fault = FAULTS.has(faultHeader) ? faultHeader : null;

    const cap =
      body.max_completion_tokens ??
      body.max_tokens ??
      body.max_output_tokens ??
      body.generationConfig?.maxOutputTokens ??
      body.inferenceConfig?.maxTokens;
    const sampled = Math.round(rng.normal(model.output_tokens.mean, model.output_tokens.stddev));
    let completionTokens =
      endpoint === 'embeddings' ? 0 : Math.min(model.output_tokens.max, Math.max(model.output_tokens.min, sampled));
    let finishReason = 'stop';
    if (typeof cap === 'number' && cap > 0 && completionTokens > cap) {
      completionTokens = cap;
      finishReason = 'length';
    }

    const admit =
      fault === 'rate_limit'
        ? { ok: false as const, retryAfterSeconds: 1, limit: 'rpm' as const }
        : windows.get(model.id)!.tryAdmit(promptTokens + completionTokens);
    if (!admit.ok) {
      metrics.requests.inc({ model: model.id, outcome: 'rate_limited' });
      return sendEndpointError(
        res,
        endpoint,
        429,
        `Rate limit reached for ${model.id} (${admit.limit}). Please try again in ${admit.retryAfterSeconds}s.`,
        'rate_limit_error',
        'rate_limit_exceeded',
        null,
        { 'retry-after': String(admit.retryAfterSeconds) },
      );
    }
    if (fault === 'overloaded') {
      metrics.requests.inc({ model: model.id, outcome: 'error' });
      return sendEndpointError(
        res,
        endpoint,
        endpoint === 'messages' ? 529 : 503,
        'Overloaded',
        'server_error',
        'overloaded',
      );
    }
    const roll = rng.next();
    const isError = fault === 'error' || (fault === null && roll < model.error_rate);
    const isHang = fault === 'hang' || (fault === null && !isError && rng.next() < model.hang_probability);
    const isStall =
      fault === 'stall' ||
      // Drawn only when configured, so that seeds give the same answers as before this option.
      (fault === null && !isError && !isHang && model.stall_probability > 0 && rng.next() < model.stall_probability);
    const ttft = rng.normal(model.ttft_ms.mean, model.ttft_ms.stddev);
    const tps = Math.max(1, rng.normal(model.tokens_per_second.mean, model.tokens_per_second.stddev));
    let tokens = generateTokens(rng, completionTokens);
    // Simulated quality (quality.ts): a judge answers judge prompts with its verdict; every other answer ends with
    // the invisible mark of whether it was right.
    const asked = askedText(messages);
    const verdict = model.judge ? judgeVerdict(asked) : undefined;
    if (verdict) {
      tokens = [verdict];
      completionTokens = 1;
    } else if (tokens.length > 0) {
      tokens[tokens.length - 1] += answersRight(model.id, model.quality, asked) ? ANSWER_MARK.right : ANSWER_MARK.wrong;
    }

    const timers = new Set<NodeJS.Timeout>();
    let closed = false;
    res.on('close', () => {
      closed = true;
      for (const t of timers) clearTimeout(t);
      metrics.inFlight.dec({ model: model.id });
    });
    metrics.inFlight.inc({ model: model.id });

    if (isHang) {
      metrics.requests.inc({ model: model.id, outcome: 'hang' });
      return; // never answer; 'close' cleans up when the client gives up
    }
    await delay(ttft, timers);
    if (closed) return;
    if (isError) {
      metrics.requests.inc({ model: model.id, outcome: 'error' });
      return sendEndpointError(
        res,
        endpoint,
        500,
        'The simulated server had an error while processing your request.',
        'server_error',
        'simulated_fault',
      );
    }

    const created = Math.floor(Date.now() / 1000);
    const usage = {
      prompt_tokens: promptTokens,
      completion_tokens: completionTokens,
      total_tokens: promptTokens + completionTokens,
    };
    const msPerToken = 1000 / tps;
    const text = tokens.join('');
    const n = nextId++;
    if (isStall && !body.stream) {
      metrics.requests.inc({ model: model.id, outcome: 'stall' });
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write(`{"id":"sim-${n}","object":`);
      return; // never ends; 'close' cleans up when the client gives up
    }

    if (endpoint === 'embeddings') {
      const dims =
        typeof body.dimensions === 'number' && body.dimensions > 0
          ? Math.min(body.dimensions, model.embedding_dims)
          : model.embedding_dims;
      const data = messages.map((m, index) => {
        const vector = embed(String(m.content ?? ''), dims);
        return {
          object: 'embedding',
          index,
          embedding:
            body.encoding_format === 'base64' ? Buffer.from(vector.buffer).toString('base64') : Array.from(vector),
        };
      });
      sendJson(res, 200, {
        object: 'list',
        data,
        model: model.id,
        usage: { prompt_tokens: promptTokens, total_tokens: promptTokens },
      });
    } else if (!body.stream) {
      await delay(completionTokens * msPerToken, timers);
      if (closed) return;
      if (endpoint === 'converse') {
        sendJson(res, 200, {
          output: { message: { role: 'assistant', content: [{ text }] } },
          stopReason: finishReason === 'length' ? 'max_tokens' : 'end_turn',
          usage: {
            inputTokens: promptTokens,
            outputTokens: completionTokens,
            totalTokens: promptTokens + completionTokens,
          },
          metrics: { latencyMs: Math.round(Number(process.hrtime.bigint() - started) / 1e6) },
        });
      } else if (endpoint === 'gemini') {
        sendJson(res, 200, geminiResponse(`sim-${n}`, model.id, text, finishReason, promptTokens, completionTokens));
      } else if (endpoint === 'messages') {
        sendJson(res, 200, messageObject(`msg_sim_${n}`, model.id, text, finishReason, promptTokens, completionTokens));
      } else if (endpoint === 'chat') {
        sendJson(res, 200, {
          id: `chatcmpl-sim-${n}`,
          object: 'chat.completion',
          created,
          model: model.id,
          choices: [
            { index: 0, message: { role: 'assistant', content: text }, finish_reason: finishReason, logprobs: null },
          ],
          usage,
        });
      } else if (endpoint === 'completions') {
        sendJson(res, 200, {
          id: `cmpl-sim-${n}`,
          object: 'text_completion',
          created,
          model: model.id,
          choices: [{ index: 0, text, finish_reason: finishReason, logprobs: null }],
          usage,
        });
      } else {
        sendJson(
          res,
          200,
          responseObject(`resp_sim_${n}`, created, model.id, 'completed', text, { promptTokens, completionTokens }),
        );
      }
    } else {
      res.writeHead(200, {
        'content-type': endpoint === 'converse' ? 'application/vnd.amazon.eventstream' : 'text/event-stream',
        'cache-control': 'no-cache',
        connection: 'keep-alive',
      });
      const stream = streamWriter(endpoint, n, created, model.id, res);
      res.write(stream.start(promptTokens));
      // Send what is due every tick rather than a timer per token: same pacing, far fewer timers.
      const tickMs = Math.max(msPerToken, 20);
      const perTick = Math.max(1, Math.round(tickMs / msPerToken));
      for (let i = 0; i < tokens.length; i += perTick) {
        if (i > 0) await delay(tickMs, timers);
        if (closed) return;
        if (fault === 'disconnect' && i >= tokens.length / 2) {
          metrics.requests.inc({ model: model.id, outcome: 'disconnect' });
          res.destroy();
          return;
        }
        res.write(stream.delta(tokens.slice(i, i + perTick).join('')));
        if (isStall && i + perTick >= tokens.length / 2) {
          metrics.requests.inc({ model: model.id, outcome: 'stall' });
          return; // never ends; 'close' cleans up when the client gives up
        }
      }
      res.end(stream.end(text, finishReason, usage, body.stream_options?.include_usage === true));
    }
    metrics.requests.inc({ model: model.id, outcome: 'ok' });
    metrics.tokens.inc({ model: model.id, type: 'prompt' }, promptTokens);
    metrics.tokens.inc({ model: model.id, type: 'completion' }, completionTokens);
    metrics.duration.observe({ model: model.id }, Number(process.hrtime.bigint() - started) / 1e9);
  }

  const server = createServer((req, res) => {
    const url = (req.url ?? '/').split('?')[0];
    const handle = async () => {
      const endpoint = ENDPOINT_PATHS[url ?? ''];
      if (req.method === 'POST' && endpoint) return generate(endpoint, req, res);
      // AWS Bedrock Converse: /model/{modelId}/converse or /converse-stream, signed (SigV4) or with a Bedrock API key.
      const bedrock = /^\/model\/([^/]+)\/(converse|converse-stream)$/.exec(url ?? '');
      if (req.method === 'POST' && bedrock) {
        const auth = String(req.headers.authorization ?? '');
        const signed =
          /^AWS4-HMAC-SHA256 Credential=[^/]+\/\d{8}\/[a-z0-9-]+\/bedrock\/aws4_request, SignedHeaders=[^,]+, Signature=[0-9a-f]{64}$/.test(
            auth,
          ) && typeof req.headers['x-amz-date'] === 'string';
        if (!signed && !/^Bearer \S+/.test(auth))
          return sendEndpointError(res, 'converse', 403, 'Missing Authentication Token', '', null);
        return generate('converse', req, res, decodeURIComponent(bedrock[1]!), bedrock[2] === 'converse-stream');
      }
      // Google Gemini: /v1beta/models/{model}:generateContent, or :streamGenerateContent?alt=sse; its key comes as the
      // x-goog-api-key header (or ?key=).
      const google = /^\/v1beta\/models\/([^/:]+):(generateContent|streamGenerateContent)$/.exec(url ?? '');
      if (req.method === 'POST' && google) {
        const query = new URL(req.url ?? '/', 'http://sim').searchParams;
        if (!req.headers['x-goog-api-key'] && !query.get('key'))
          return sendEndpointError(
            res,
            'gemini',
            403,
            "Method doesn't allow unregistered callers: send an API key",
            '',
            null,
          );
        const stream = google[2] === 'streamGenerateContent';
        if (stream && query.get('alt') !== 'sse')
          return sendEndpointError(res, 'gemini', 400, 'llm-sim streams Gemini answers with alt=sse only', '', null);
        return generate('gemini', req, res, decodeURIComponent(google[1]!), stream);
      }
      // Azure OpenAI: /openai/deployments/{deployment}/<OpenAI path>?api-version=..., or /openai/v1/<OpenAI path>;
      // its key comes as the api-key header.
      const azure = /^\/openai\/(?:deployments\/([^/]+)|(v1))(\/.+)$/.exec(url ?? '');
      const azureEndpoint = azure && ENDPOINT_PATHS[azure[2] ? `/v1${azure[3]}` : azure[3]!];
      if (req.method === 'POST' && azure && azureEndpoint) {
        if (!req.headers['api-key'])
          return sendJson(res, 401, {
            error: {
              code: '401',
              message: 'Access denied due to missing subscription key. Make sure to include the api-key header.',
            },
          });
        if (azure[1] && !new URL(req.url ?? '/', 'http://sim').searchParams.get('api-version'))
          return sendJson(res, 404, { error: { code: '404', message: 'Resource not found' } });
        return generate(azureEndpoint, req, res, azure[1] ? decodeURIComponent(azure[1]) : undefined);
      }
      if (req.method === 'GET' && (url === '/v1/models' || url === '/models')) {
        return sendJson(res, 200, {
          object: 'list',
          data: config.models.map((m) => ({ id: m.id, object: 'model', created: 0, owned_by: 'llm-sim' })),
        });
      }
      if (req.method === 'GET' && url === '/health') return sendJson(res, 200, { status: 'ok' });
      // Whoever opens the simulator's address sees what it serves.
      if (req.method === 'GET' && (url === '/' || url === '/v1'))
        return sendJson(res, 200, {
          name: 'llm-sim',
          description: 'Simulated OpenAI-compatible models (no real model behind them)',
          models: config.models.map((m) => m.id),
          endpoints: Object.keys(ENDPOINT_PATHS).map((p) => `POST ${p}`),
          metrics: '/metrics',
        });
      if (req.method === 'GET' && url === '/metrics') {
        const text = await metrics.registry.metrics();
        res.writeHead(200, { 'content-type': metrics.registry.contentType });
        return void res.end(text);
      }
      sendError(res, 404, `Unknown route ${req.method} ${url}`, 'invalid_request_error', 'not_found');
    };
    handle().catch((err: unknown) => {
      if (!res.headersSent) sendError(res, 500, `Internal simulator error: ${String(err)}`, 'server_error', null);
      else res.destroy();
    });
  });
  server.keepAliveTimeout = 65_000;

  return {
    server,
    metrics,
    listen(port, host = '127.0.0.1') {
      return new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          const addr = server.address();
          resolve(typeof addr === 'object' && addr ? addr.port : port);
        });
      });
    },
    close() {
      return new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}

/** A Responses API object (https://platform.openai.com/docs/api-reference/responses/object), as the SDKs read it. */
function responseObject(
  id: string,
  created: number,
  model: string,
  status: 'in_progress' | 'completed',
  text: string,
  usage?: { promptTokens: number; completionTokens: number },
) {
  return {
    id,
    object: 'response',
    created_at: created,
    status,
    model,
    error: null,
    incomplete_details: null,
    output:
      status === 'completed'
        ? [
            {
              type: 'message',
              id: `msg_${id}`,
              status: 'completed',
              role: 'assistant',
              content: [{ type: 'output_text', text, annotations: [], logprobs: [] }],
            },
          ]
        : [],
    usage: usage
      ? {
          input_tokens: usage.promptTokens,
          input_tokens_details: { cached_tokens: 0 },
          output_tokens: usage.completionTokens,
          output_tokens_details: { reasoning_tokens: 0 },
          total_tokens: usage.promptTokens + usage.completionTokens,
        }
      : null,
  };
}

/** The SSE framing of each endpoint's stream: its first event(s), each text delta, and how it ends. */
/** A Gemini GenerateContentResponse (a stream's events are partial ones: their text, the last one's finishReason). */
function geminiResponse(
  id: string,
  model: string,
  text: string,
  finish: string | null,
  input: number,
  output: number,
): Record<string, unknown> {
  return {
    candidates: [
      {
        content: { role: 'model', parts: [{ text }] },
        index: 0,
        ...(finish ? { finishReason: finish === 'length' ? 'MAX_TOKENS' : 'STOP' } : {}),
      },
    ],
    usageMetadata: { promptTokenCount: input, candidatesTokenCount: output, totalTokenCount: input + output },
    modelVersion: model,
    responseId: id,
  };
}

/** An Anthropic Messages answer (its API reference: the Message object). */
function messageObject(id: string, model: string, text: string, finish: string, input: number, output: number) {
  return {
    id,
    type: 'message',
    role: 'assistant',
    model,
    content: [{ type: 'text', text }],
    stop_reason: finish === 'length' ? 'max_tokens' : 'end_turn',
    stop_sequence: null,
    usage: { input_tokens: input, output_tokens: output, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 },
  };
}

/** AWS's binary event-stream framing (AWS's codec), as Bedrock's converse-stream sends its events. */
const awsCodec = new EventStreamCodec(toUtf8, fromUtf8);
const awsEvent = (type: string, payload: object) =>
  awsCodec.encode({
    headers: {
      ':event-type': { type: 'string', value: type },
      ':content-type': { type: 'string', value: 'application/json' },
      ':message-type': { type: 'string', value: 'event' },
    },
    body: fromUtf8(JSON.stringify(payload)),
  });
const concat = (...parts: Uint8Array[]) => Buffer.concat(parts);

function streamWriter(endpoint: Endpoint, n: number, created: number, model: string, _res: ServerResponse) {
  const data = (o: unknown) => `data: ${JSON.stringify(o)}\n\n`;
  if (endpoint === 'converse') {
    let prompt = 0;
    return {
      start: (promptTokens = 0) => ((prompt = promptTokens), concat(awsEvent('messageStart', { role: 'assistant' }))),
      delta: (text: string) => concat(awsEvent('contentBlockDelta', { contentBlockIndex: 0, delta: { text } })),
      end: (_text: string, finish: string, usage: { completion_tokens: number }) =>
        concat(
          awsEvent('contentBlockStop', { contentBlockIndex: 0 }),
          awsEvent('messageStop', { stopReason: finish === 'length' ? 'max_tokens' : 'end_turn' }),
          awsEvent('metadata', {
            usage: {
              inputTokens: prompt,
              outputTokens: usage.completion_tokens,
              totalTokens: prompt + usage.completion_tokens,
            },
            metrics: { latencyMs: 1 },
          }),
        ),
    };
  }
  if (endpoint === 'gemini') {
    // streamGenerateContent?alt=sse: partial responses with their text, usage counted as it goes; the last one has
    // the finish reason. No end marker.
    let sent = 0;
    let prompt = 0;
    return {
      start: (promptTokens = 0) => ((prompt = promptTokens), ''),
      delta: (text: string) => data(geminiResponse(`sim-${n}`, model, text, null, prompt, ++sent)),
      end: (_text: string, finish: string, usage: { completion_tokens: number }) =>
        data(geminiResponse(`sim-${n}`, model, '', finish, prompt, usage.completion_tokens)),
    };
  }
  if (endpoint === 'messages') {
    // Anthropic's event stream: message_start, a text block's start / deltas / stop, message_delta (stop reason and
    // output usage), message_stop; a ping after the block starts, as the API sends.
    const ev = (type: string, o: object) => `event: ${type}\n${data({ type, ...o })}`;
    const id = `msg_sim_${n}`;
    return {
      start: (promptTokens = 0) =>
        ev('message_start', {
          message: { ...messageObject(id, model, '', 'stop', promptTokens, 1), content: [], stop_reason: null },
        }) +
        ev('content_block_start', { index: 0, content_block: { type: 'text', text: '' } }) +
        ev('ping', {}),
      delta: (text: string) => ev('content_block_delta', { index: 0, delta: { type: 'text_delta', text } }),
      end: (_text: string, finish: string, usage: { completion_tokens: number }) =>
        ev('content_block_stop', { index: 0 }) +
        ev('message_delta', {
          delta: { stop_reason: finish === 'length' ? 'max_tokens' : 'end_turn', stop_sequence: null },
          usage: { output_tokens: usage.completion_tokens },
        }) +
        ev('message_stop', {}),
    };
  }
  if (endpoint === 'responses') {
    const id = `resp_sim_${n}`;
    const itemId = `msg_${id}`;
    let seq = 0;
    const ev = (type: string, o: object) => `event: ${type}\n${data({ type, sequence_number: seq++, ...o })}`;
    return {
      start: () =>
        ev('response.created', { response: responseObject(id, created, model, 'in_progress', '') }) +
        ev('response.output_item.added', {
          output_index: 0,
          item: { type: 'message', id: itemId, status: 'in_progress', role: 'assistant', content: [] },
        }) +
        ev('response.content_part.added', {
          item_id: itemId,
          output_index: 0,
          content_index: 0,
          part: { type: 'output_text', text: '', annotations: [] },
        }),
      delta: (text: string) =>
        ev('response.output_text.delta', {
          item_id: itemId,
          output_index: 0,
          content_index: 0,
          delta: text,
          logprobs: [],
        }),
      end: (text: string, _finish: string, usage: { prompt_tokens: number; completion_tokens: number }) =>
        ev('response.output_text.done', { item_id: itemId, output_index: 0, content_index: 0, text, logprobs: [] }) +
        ev('response.content_part.done', {
          item_id: itemId,
          output_index: 0,
          content_index: 0,
          part: { type: 'output_text', text, annotations: [] },
        }) +
        ev('response.output_item.done', {
          output_index: 0,
          item: {
            type: 'message',
            id: itemId,
            status: 'completed',
            role: 'assistant',
            content: [{ type: 'output_text', text, annotations: [] }],
          },
        }) +
        ev('response.completed', {
          response: responseObject(id, created, model, 'completed', text, {
            promptTokens: usage.prompt_tokens,
            completionTokens: usage.completion_tokens,
          }),
        }),
    };
  }
  const id = endpoint === 'chat' ? `chatcmpl-sim-${n}` : `cmpl-sim-${n}`;
  const object = endpoint === 'chat' ? 'chat.completion.chunk' : 'text_completion';
  const choice = (text: string | null, finish: string | null, role = false) =>
    endpoint === 'chat'
      ? {
          index: 0,
          delta: text === null ? {} : { ...(role ? { role: 'assistant' } : {}), content: text },
          finish_reason: finish,
        }
      : { index: 0, text: text ?? '', finish_reason: finish, logprobs: null };
  const chunk = (c: object | null, usage?: object) =>
    data({ id, object, created, model, choices: c ? [c] : [], ...(usage ? { usage } : {}) });
  return {
    start: () => (endpoint === 'chat' ? chunk(choice('', null, true)) : ''),
    delta: (text: string) => chunk(choice(text, null)),
    end: (_text: string, finish: string, usage: object, includeUsage: boolean) =>
      `${chunk(choice(null, finish)) + (includeUsage ? chunk(null, usage) : '')}data: [DONE]\n\n`,
  };
}
