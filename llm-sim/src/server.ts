import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { SimConfig, SimModel } from './config.ts';
import { MinuteWindow } from './rate-limiter.ts';
import { Rng } from './rng.ts';
import { estimatePromptTokens, generateTokens } from './text.ts';
import { createSimMetrics, type SimMetrics } from './metrics.ts';

const MAX_BODY_BYTES = 20 * 1024 * 1024;
/** Faults a test can force on one request with the `x-sim-fault` header. */
const FAULTS = new Set(['error', 'hang', 'rate_limit', 'disconnect']);

interface ChatBody {
  model: string;
  messages: Array<{ role?: unknown; content?: unknown }>;
  stream?: boolean;
  stream_options?: { include_usage?: boolean };
  max_tokens?: number;
  max_completion_tokens?: number;
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

function sendError(res: ServerResponse, status: number, message: string, type: string, code: string | null, param: string | null = null, headers: Record<string, string> = {}): void {
  sendJson(res, status, { error: { message, type, param, code } }, headers);
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

  async function chat(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const raw = await readBody(req);
    if (raw === 'too_large') return sendError(res, 413, 'Request body too large', 'invalid_request_error', 'request_too_large');
    let body: ChatBody;
    try {
      body = JSON.parse(raw.toString('utf8')) as ChatBody;
    } catch {
      return sendError(res, 400, 'Request body is not valid JSON', 'invalid_request_error', 'invalid_json');
    }
    if (!body || typeof body !== 'object' || typeof body.model !== 'string') {
      return sendError(res, 400, 'you must provide a model parameter', 'invalid_request_error', null, 'model');
    }
    if (!Array.isArray(body.messages) || body.messages.length === 0) {
      return sendError(res, 400, "'messages' must be a non-empty array", 'invalid_request_error', null, 'messages');
    }
    const model = models.get(body.model);
    if (!model) {
      return sendError(res, 404, `The model '${body.model}' does not exist`, 'invalid_request_error', 'model_not_found', 'model');
    }
    const started = process.hrtime.bigint();
    const promptTokens = estimatePromptTokens(body.messages);
    if (promptTokens > model.context_window) {
      metrics.requests.inc({ model: model.id, outcome: 'context_length_exceeded' });
      return sendError(res, 400, `This model's maximum context length is ${model.context_window} tokens. However, your messages resulted in ${promptTokens} tokens.`, 'invalid_request_error', 'context_length_exceeded', 'messages');
    }
    const faultHeader = String(req.headers['x-sim-fault'] ?? '');
    const fault = FAULTS.has(faultHeader) ? faultHeader : null;

    const cap = body.max_completion_tokens ?? body.max_tokens;
    const sampled = Math.round(rng.normal(model.output_tokens.mean, model.output_tokens.stddev));
    let completionTokens = Math.min(model.output_tokens.max, Math.max(model.output_tokens.min, sampled));
    let finishReason = 'stop';
    if (typeof cap === 'number' && cap > 0 && completionTokens > cap) {
      completionTokens = cap;
      finishReason = 'length';
    }

    const admit = fault === 'rate_limit'
      ? { ok: false as const, retryAfterSeconds: 1, limit: 'rpm' as const }
      : windows.get(model.id)!.tryAdmit(promptTokens + completionTokens);
    if (!admit.ok) {
      metrics.requests.inc({ model: model.id, outcome: 'rate_limited' });
      return sendError(res, 429, `Rate limit reached for ${model.id} (${admit.limit}). Please try again in ${admit.retryAfterSeconds}s.`, 'rate_limit_error', 'rate_limit_exceeded', null, { 'retry-after': String(admit.retryAfterSeconds) });
    }
    const roll = rng.next();
    const isError = fault === 'error' || (fault === null && roll < model.error_rate);
    const isHang = fault === 'hang' || (fault === null && !isError && rng.next() < model.hang_probability);
    const ttft = rng.normal(model.ttft_ms.mean, model.ttft_ms.stddev);
    const tps = Math.max(1, rng.normal(model.tokens_per_second.mean, model.tokens_per_second.stddev));
    const tokens = generateTokens(rng, completionTokens);

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
      return sendError(res, 500, 'The simulated server had an error while processing your request.', 'server_error', 'simulated_fault');
    }

    const id = `chatcmpl-sim-${nextId++}`;
    const created = Math.floor(Date.now() / 1000);
    const usage = { prompt_tokens: promptTokens, completion_tokens: completionTokens, total_tokens: promptTokens + completionTokens };
    const msPerToken = 1000 / tps;

    if (!body.stream) {
      await delay(completionTokens * msPerToken, timers);
      if (closed) return;
      sendJson(res, 200, {
        id, object: 'chat.completion', created, model: model.id,
        choices: [{ index: 0, message: { role: 'assistant', content: tokens.join('') }, finish_reason: finishReason, logprobs: null }],
        usage,
      });
    } else {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
      const chunk = (delta: object, finish: string | null) =>
        `data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model: model.id, choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
      res.write(chunk({ role: 'assistant', content: '' }, null));
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
        res.write(chunk({ content: tokens.slice(i, i + perTick).join('') }, null));
      }
      res.write(chunk({}, finishReason));
      if (body.stream_options?.include_usage) {
        res.write(`data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model: model.id, choices: [], usage })}\n\n`);
      }
      res.end('data: [DONE]\n\n');
    }
    metrics.requests.inc({ model: model.id, outcome: 'ok' });
    metrics.tokens.inc({ model: model.id, type: 'prompt' }, promptTokens);
    metrics.tokens.inc({ model: model.id, type: 'completion' }, completionTokens);
    metrics.duration.observe({ model: model.id }, Number(process.hrtime.bigint() - started) / 1e9);
  }

  const server = createServer((req, res) => {
    const url = (req.url ?? '/').split('?')[0];
    const handle = async () => {
      if (req.method === 'POST' && (url === '/v1/chat/completions' || url === '/chat/completions')) return chat(req, res);
      if (req.method === 'GET' && (url === '/v1/models' || url === '/models')) {
        return sendJson(res, 200, { object: 'list', data: config.models.map((m) => ({ id: m.id, object: 'model', created: 0, owned_by: 'llm-sim' })) });
      }
      if (req.method === 'GET' && url === '/health') return sendJson(res, 200, { status: 'ok' });
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
