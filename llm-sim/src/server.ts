import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { type AnswerMeta, type Finish, plainAnswer, streamWriter } from './answers.ts';
import type { SimConfig, SimModel } from './config.ts';
import { ENDPOINT_PATHS, type Endpoint, promptMessages, type RequestBody } from './endpoints.ts';
import { sendEndpointError, sendError, sendJson } from './errors.ts';
import { argumentPieces, type ToolCall, toolCallFor } from './tools.ts';
import { MinuteWindow } from './rate-limiter.ts';
import { Rng } from './rng.ts';
import { ANSWER_MARK, answersRight, askedText, judgeVerdict } from './quality.ts';
import { estimatePromptTokens, generateTokens } from './text.ts';
import { createSimMetrics, type SimMetrics } from './metrics.ts';

const MAX_BODY_BYTES = 20 * 1024 * 1024;
/** Faults a test can force on one request with the `x-sim-fault` header. */
const FAULTS = new Set(['error', 'hang', 'rate_limit', 'disconnect', 'stall', 'overloaded']);

/** A request read and checked: what generation needs. */
interface Accepted {
  endpoint: Endpoint;
  body: RequestBody;
  model: SimModel;
  messages: Array<{ content?: unknown }>;
  promptTokens: number;
  fault: string | null;
}

/** An answer decided before any of it is sent. */
interface Plan {
  completionTokens: number;
  finish: Finish;
  isError: boolean;
  isHang: boolean;
  isStall: boolean;
  ttftMs: number;
  msPerToken: number;
  /** What is sent, one piece per token: words of text, or pieces of a call's argument JSON. */
  pieces: string[];
  call?: ToolCall;
}

/** How an answer ended, as llm_sim_requests_total counts it ('closed': the client left first, not counted). */
type Outcome = 'ok' | 'stall' | 'disconnect' | 'closed';

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

/** The simulated models: each request read, planned (length, content, pacing, faults), admitted and answered. */
export class Simulator {
  readonly metrics = createSimMetrics();
  private readonly rng: Rng;
  private readonly models: Map<string, SimModel>;
  private readonly windows: Map<string, MinuteWindow>;
  private nextId = 1;

  constructor(private readonly config: SimConfig) {
    this.rng = new Rng(this.config.seed);
    this.models = new Map(this.config.models.map((m) => [m.id, m]));
    this.windows = new Map(this.config.models.map((m) => [m.id, new MinuteWindow(m.rpm, m.tpm)]));
  }

  private delay(ms: number, onClose: Set<NodeJS.Timeout>): Promise<void> {
    const scaled = ms * this.config.time_scale;
    return new Promise((resolve) => {
      if (scaled <= 0) return setImmediate(resolve);
      const t = setTimeout(() => {
        onClose.delete(t);
        resolve();
      }, scaled);
      onClose.add(t);
    });
  }

  /** Reads and checks a request; answers the client itself (in its API's shape) and returns undefined when it fails. */
  private async accept(
    endpoint: Endpoint,
    req: IncomingMessage,
    res: ServerResponse,
    /** Azure OpenAI, Gemini and Bedrock name the model in the URL instead of the body. */
    urlModel?: string,
    /** Gemini and Bedrock: streaming is a path, not a body field. */
    streamPath = false,
  ): Promise<Accepted | undefined> {
    const refuse = (status: number, message: string, type: string, code: string | null, param: string | null = null) =>
      void sendEndpointError(res, endpoint, status, message, type, code, param);
    if (this.config.api_key !== undefined && !presentsKey(req, this.config.api_key)) {
      this.metrics.requests.inc({ model: 'unknown', outcome: 'unauthorized' });
      const status = endpoint === 'gemini' || endpoint === 'converse' ? 403 : 401;
      return refuse(status, 'Incorrect API key provided', 'invalid_request_error', 'invalid_api_key');
    }
    const raw = await readBody(req);
    if (raw === 'too_large') return refuse(413, 'Request body too large', 'invalid_request_error', 'request_too_large');
    let body: RequestBody;
    try {
      body = JSON.parse(raw.toString('utf8')) as RequestBody;
    } catch {
      return refuse(400, 'Request body is not valid JSON', 'invalid_request_error', 'invalid_json');
    }
    if (body && typeof body === 'object') {
      if (urlModel !== undefined) body.model = urlModel;
      if (streamPath) body.stream = true;
    }
    if (!body || typeof body !== 'object' || typeof body.model !== 'string')
      return refuse(400, 'you must provide a model parameter', 'invalid_request_error', null, 'model');
    // Anthropic's API requires its version header on every request.
    if (endpoint === 'messages' && !req.headers['anthropic-version'])
      return refuse(400, 'anthropic-version: header is required', 'invalid_request_error', null);
    const messages = promptMessages(endpoint, body);
    if (typeof messages === 'string') {
      const param = endpoint === 'chat' ? 'messages' : endpoint === 'completions' ? 'prompt' : 'input';
      return refuse(400, messages, 'invalid_request_error', null, param);
    }
    const model = this.models.get(body.model);
    if (!model)
      return refuse(
        404,
        `The model '${body.model}' does not exist`,
        'invalid_request_error',
        'model_not_found',
        'model',
      );
    const promptTokens = estimatePromptTokens(messages);
    if (promptTokens > model.context_window) {
      this.metrics.requests.inc({ model: model.id, outcome: 'context_length_exceeded' });
      return refuse(
        400,
        `This model's maximum context length is ${model.context_window} tokens. However, your messages resulted in ${promptTokens} tokens.`,
        'invalid_request_error',
        'context_length_exceeded',
        'messages',
      );
    }
    const faultHeader = String(req.headers['x-sim-fault'] ?? '');
    return { endpoint, body, model, messages, promptTokens, fault: FAULTS.has(faultHeader) ? faultHeader : null };
  }

  /** What this answer will be: its length, content, pacing and faults, drawn in a fixed order so a seed repeats. */
  private plan(a: Accepted): Plan {
    const { body, model, endpoint, fault } = a;
    const cap =
      body.max_completion_tokens ??
      body.max_tokens ??
      body.max_output_tokens ??
      body.generationConfig?.maxOutputTokens ??
      body.inferenceConfig?.maxTokens;
    const sampled = Math.round(this.rng.normal(model.output_tokens.mean, model.output_tokens.stddev));
    let completionTokens =
      endpoint === 'embeddings' ? 0 : Math.min(model.output_tokens.max, Math.max(model.output_tokens.min, sampled));
    let finish: Finish = 'stop';
    if (typeof cap === 'number' && cap > 0 && completionTokens > cap) {
      completionTokens = cap;
      finish = 'length';
    }
    const roll = this.rng.next();
    const isError = fault === 'error' || (fault === null && roll < model.error_rate);
    const isHang = fault === 'hang' || (fault === null && !isError && this.rng.next() < model.hang_probability);
    const isStall =
      fault === 'stall' ||
      // Drawn only when configured, so that seeds give the same answers as before this option.
      (fault === null &&
        !isError &&
        !isHang &&
        model.stall_probability > 0 &&
        this.rng.next() < model.stall_probability);
    const ttftMs = this.rng.normal(model.ttft_ms.mean, model.ttft_ms.stddev);
    const tps = Math.max(1, this.rng.normal(model.tokens_per_second.mean, model.tokens_per_second.stddev));
    let pieces = generateTokens(this.rng, completionTokens);
    const call = toolCallFor(endpoint, body);
    // Simulated quality (quality.ts): a judge answers judge prompts with its verdict; every other text answer ends
    // with the invisible mark of whether it was right.
    const asked = askedText(a.messages);
    const verdict = model.judge ? judgeVerdict(asked) : undefined;
    if (call) {
      // A call's arguments are sent whole, whatever the token cap: a cut-off call would be no call at all.
      pieces = argumentPieces(call);
      finish = 'tool';
    } else if (verdict) pieces = [verdict];
    else if (pieces.length > 0)
      pieces[pieces.length - 1] += answersRight(model.id, model.quality, asked) ? ANSWER_MARK.right : ANSWER_MARK.wrong;
    if (call || verdict) completionTokens = pieces.length;
    return { completionTokens, finish, isError, isHang, isStall, ttftMs, msPerToken: 1000 / tps, pieces, call };
  }

  /** Refuses what the model's rpm/tpm window or a forced fault turns away; true when the request may go on. */
  private admit(a: Accepted, p: Plan, res: ServerResponse): boolean {
    const { model, endpoint, fault } = a;
    const admitted =
      fault === 'rate_limit'
        ? { ok: false as const, retryAfterSeconds: 1, limit: 'rpm' as const }
        : this.windows.get(model.id)!.tryAdmit(a.promptTokens + p.completionTokens);
    if (!admitted.ok) {
      this.metrics.requests.inc({ model: model.id, outcome: 'rate_limited' });
      sendEndpointError(
        res,
        endpoint,
        429,
        `Rate limit reached for ${model.id} (${admitted.limit}). Please try again in ${admitted.retryAfterSeconds}s.`,
        'rate_limit_error',
        'rate_limit_exceeded',
        null,
        { 'retry-after': String(admitted.retryAfterSeconds) },
      );
      return false;
    }
    // Drawn only when configured, so that seeds give the same answers as before this option.
    if (
      fault === 'overloaded' ||
      (fault === null && model.overload_rate > 0 && this.rng.next() < model.overload_rate)
    ) {
      this.metrics.requests.inc({ model: model.id, outcome: 'error' });
      sendEndpointError(res, endpoint, endpoint === 'messages' ? 529 : 503, 'Overloaded', 'server_error', 'overloaded');
      return false;
    }
    return true;
  }

  async generate(
    endpoint: Endpoint,
    req: IncomingMessage,
    res: ServerResponse,
    urlModel?: string,
    streamPath = false,
  ): Promise<void> {
    const a = await this.accept(endpoint, req, res, urlModel, streamPath);
    if (!a) return;
    const started = process.hrtime.bigint();
    const p = this.plan(a);
    if (!this.admit(a, p, res)) return;
    const { model } = a;
    const timers = new Set<NodeJS.Timeout>();
    const state = { closed: false };
    res.on('close', () => {
      state.closed = true;
      for (const t of timers) clearTimeout(t);
      this.metrics.inFlight.dec({ model: model.id });
    });
    this.metrics.inFlight.inc({ model: model.id });

    if (p.isHang) {
      this.metrics.requests.inc({ model: model.id, outcome: 'hang' });
      return; // never answer; 'close' cleans up when the client gives up
    }
    await this.delay(p.ttftMs, timers);
    if (state.closed) return;
    if (p.isError) {
      this.metrics.requests.inc({ model: model.id, outcome: 'error' });
      return sendEndpointError(
        res,
        endpoint,
        500,
        'The simulated server had an error while processing your request.',
        'server_error',
        'simulated_fault',
      );
    }
    const meta: AnswerMeta = {
      n: this.nextId++,
      created: Math.floor(Date.now() / 1000),
      model: model.id,
      promptTokens: a.promptTokens,
      completionTokens: p.completionTokens,
      finish: p.finish,
    };
    const outcome =
      endpoint === 'embeddings'
        ? this.sendEmbeddings(a, res)
        : a.body.stream
          ? await this.sendStream(a, p, meta, res, timers, state)
          : await this.sendPlain(a, p, meta, res, timers, state);
    if (outcome !== 'ok') {
      if (outcome !== 'closed') this.metrics.requests.inc({ model: model.id, outcome });
      return;
    }
    this.metrics.requests.inc({ model: model.id, outcome: 'ok' });
    this.metrics.tokens.inc({ model: model.id, type: 'prompt' }, a.promptTokens);
    this.metrics.tokens.inc({ model: model.id, type: 'completion' }, p.completionTokens);
    this.metrics.duration.observe({ model: model.id }, Number(process.hrtime.bigint() - started) / 1e9);
  }

  private sendEmbeddings(a: Accepted, res: ServerResponse): Outcome {
    const { body, model } = a;
    const dims =
      typeof body.dimensions === 'number' && body.dimensions > 0
        ? Math.min(body.dimensions, model.embedding_dims)
        : model.embedding_dims;
    const data = a.messages.map((m, index) => {
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
      usage: { prompt_tokens: a.promptTokens, total_tokens: a.promptTokens },
    });
    return 'ok';
  }

  private async sendPlain(
    a: Accepted,
    p: Plan,
    meta: AnswerMeta,
    res: ServerResponse,
    timers: Set<NodeJS.Timeout>,
    state: { closed: boolean },
  ): Promise<Outcome> {
    if (p.isStall) {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write(`{"id":"sim-${meta.n}","object":`);
      return 'stall'; // never ends; 'close' cleans up when the client gives up
    }
    await this.delay(p.completionTokens * p.msPerToken, timers);
    if (state.closed) return 'closed';
    sendJson(res, 200, plainAnswer(a.endpoint, meta, p.call ? { call: p.call } : { text: p.pieces.join('') }));
    return 'ok';
  }

  private async sendStream(
    a: Accepted,
    p: Plan,
    meta: AnswerMeta,
    res: ServerResponse,
    timers: Set<NodeJS.Timeout>,
    state: { closed: boolean },
  ): Promise<Outcome> {
    res.writeHead(200, {
      'content-type': a.endpoint === 'converse' ? 'application/vnd.amazon.eventstream' : 'text/event-stream',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
    });
    const stream = streamWriter(a.endpoint, meta, p.call);
    res.write(stream.start());
    // Send what is due every tick rather than a timer per token: same pacing, far fewer timers.
    const tickMs = Math.max(p.msPerToken, 20);
    const perTick = Math.max(1, Math.round(tickMs / p.msPerToken));
    const { pieces } = p;
    for (let i = 0; i < pieces.length; i += perTick) {
      if (i > 0) await this.delay(tickMs, timers);
      if (state.closed) return 'closed';
      if (a.fault === 'disconnect' && i >= pieces.length / 2) {
        res.destroy();
        return 'disconnect';
      }
      res.write(stream.delta(pieces.slice(i, i + perTick).join('')));
      if (p.isStall && i + perTick >= pieces.length / 2) return 'stall'; // never ends; 'close' cleans up
    }
    res.end(stream.end(a.body.stream_options?.include_usage === true));
    return 'ok';
  }
}

/** Bedrock Converse: /model/{modelId}/converse or /converse-stream, signed (SigV4) or with a Bedrock API key. */
function bedrock(sim: Simulator, req: IncomingMessage, res: ServerResponse, url: string): Promise<void> | undefined {
  const path = /^\/model\/([^/]+)\/(converse|converse-stream)$/.exec(url);
  if (req.method !== 'POST' || !path) return undefined;
  const auth = String(req.headers.authorization ?? '');
  const signed =
    /^AWS4-HMAC-SHA256 Credential=[^/]+\/\d{8}\/[a-z0-9-]+\/bedrock\/aws4_request, SignedHeaders=[^,]+, Signature=[0-9a-f]{64}$/.test(
      auth,
    ) && typeof req.headers['x-amz-date'] === 'string';
  if (!signed && !/^Bearer \S+/.test(auth))
    return Promise.resolve(sendEndpointError(res, 'converse', 403, 'Missing Authentication Token', '', null));
  return sim.generate('converse', req, res, decodeURIComponent(path[1]!), path[2] === 'converse-stream');
}

/** Gemini: /v1beta/models/{model}:generateContent, or :streamGenerateContent?alt=sse; the key as x-goog-api-key
 * (or ?key=). */
function gemini(sim: Simulator, req: IncomingMessage, res: ServerResponse, url: string): Promise<void> | undefined {
  const path = /^\/v1beta\/models\/([^/:]+):(generateContent|streamGenerateContent)$/.exec(url);
  if (req.method !== 'POST' || !path) return undefined;
  const query = new URL(req.url ?? '/', 'http://sim').searchParams;
  const refuse = (status: number, message: string) =>
    Promise.resolve(sendEndpointError(res, 'gemini', status, message, '', null));
  if (!req.headers['x-goog-api-key'] && !query.get('key'))
    return refuse(403, "Method doesn't allow unregistered callers: send an API key");
  const stream = path[2] === 'streamGenerateContent';
  if (stream && query.get('alt') !== 'sse') return refuse(400, 'llm-sim streams Gemini answers with alt=sse only');
  return sim.generate('gemini', req, res, decodeURIComponent(path[1]!), stream);
}

/** Azure OpenAI: /openai/deployments/{deployment}/<OpenAI path>?api-version=..., or /openai/v1/<OpenAI path>; the
 * key as the api-key header. */
function azure(sim: Simulator, req: IncomingMessage, res: ServerResponse, url: string): Promise<void> | undefined {
  const path = /^\/openai\/(?:deployments\/([^/]+)|(v1))(\/.+)$/.exec(url);
  const endpoint = path && ENDPOINT_PATHS[path[2] ? `/v1${path[3]}` : path[3]!];
  if (req.method !== 'POST' || !path || !endpoint) return undefined;
  if (!req.headers['api-key'])
    return Promise.resolve(
      sendJson(res, 401, {
        error: {
          code: '401',
          message: 'Access denied due to missing subscription key. Make sure to include the api-key header.',
        },
      }),
    );
  if (path[1] && !new URL(req.url ?? '/', 'http://sim').searchParams.get('api-version'))
    return Promise.resolve(sendJson(res, 404, { error: { code: '404', message: 'Resource not found' } }));
  return sim.generate(endpoint, req, res, path[1] ? decodeURIComponent(path[1]) : undefined);
}

/** What the simulator serves besides generation: the model list, health, its index page and metrics. */
async function info(sim: Simulator, config: SimConfig, req: IncomingMessage, res: ServerResponse, url: string) {
  if (req.method !== 'GET') return false;
  if (url === '/v1/models' || url === '/models')
    sendJson(res, 200, {
      object: 'list',
      data: config.models.map((m) => ({ id: m.id, object: 'model', created: 0, owned_by: 'llm-sim' })),
    });
  else if (url === '/health') sendJson(res, 200, { status: 'ok' });
  // Whoever opens the simulator's address sees what it serves.
  else if (url === '/' || url === '/v1')
    sendJson(res, 200, {
      name: 'llm-sim',
      description: 'Simulated OpenAI-compatible models (no real model behind them)',
      models: config.models.map((m) => m.id),
      endpoints: Object.keys(ENDPOINT_PATHS).map((p) => `POST ${p}`),
      metrics: '/metrics',
    });
  else if (url === '/metrics') {
    const text = await sim.metrics.registry.metrics();
    res.writeHead(200, { 'content-type': sim.metrics.registry.contentType });
    res.end(text);
  } else return false;
  return true;
}

export function createSimServer(config: SimConfig): SimServer {
  const sim = new Simulator(config);
  const { metrics } = sim;
  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = (req.url ?? '/').split('?')[0] ?? '/';
    const endpoint = ENDPOINT_PATHS[url];
    if (req.method === 'POST' && endpoint) return sim.generate(endpoint, req, res);
    const provider = bedrock(sim, req, res, url) ?? gemini(sim, req, res, url) ?? azure(sim, req, res, url);
    if (provider) return provider;
    if (await info(sim, config, req, res, url)) return;
    sendError(res, 404, `Unknown route ${req.method} ${url}`, 'invalid_request_error', 'not_found');
  };
  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
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
