// One request against the target, timed from its intended start; streams are read as they arrive.
import { SseTap } from '@llm-router/common/sse-tap';
import { Agent } from 'undici';
import type { PlannedRequest } from './workload.ts';

export interface RequestResult {
  target: string;
  /** From x-router-model / x-router-policy when the target is our router. */
  model?: string;
  policy?: string;
  /** The answer's x-request-id (what feedback names), and which of the hosts answered. */
  requestId?: string;
  replica?: number;
  /** HTTP status as text, or an error name (timeout, connection_error). */
  status: string;
  ok: boolean;
  latencySeconds: number;
  ttftSeconds?: number;
  usage?: { prompt_tokens: number; completion_tokens: number };
  error?: string;
}

export class LoadClient {
  private readonly agent: Agent;
  /** One per target (router replicas), used in turn. */
  private readonly urls: URL[];
  private next = 0;

  constructor(
    host: string,
    connections: number,
    private readonly apiKey: string | undefined,
    timeoutMs: number,
  ) {
    // A host given with its /v1 base keeps it; a bare host gets /v1 added.
    this.urls = host.split(',').map((h) => {
      const base = h.trim().endsWith('/') ? h.trim() : `${h.trim()}/`;
      return new URL(/\/v1\/$/.test(new URL(base).pathname) ? 'chat/completions' : '/v1/chat/completions', base);
    });
    // undici's own timers (not an AbortSignal.timeout per request): same bound, far cheaper at 10K req/s.
    this.agent = new Agent({
      connections,
      keepAliveTimeout: 30_000,
      pipelining: 1,
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
    });
  }

  async send(req: PlannedRequest, intendedStart: number, signal: AbortSignal): Promise<RequestResult> {
    const elapsed = () => (performance.now() - intendedStart) / 1000;
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (this.apiKey) headers.authorization = `Bearer ${this.apiKey}`;
    const replica = this.next++ % this.urls.length;
    const url = this.urls[replica]!;
    try {
      const res = await this.agent.request({
        origin: url.origin,
        path: url.pathname,
        method: 'POST',
        headers,
        body: req.body,
        signal,
      });
      const model = res.headers['x-router-model'];
      const policy = res.headers['x-router-policy'];
      const requestId = res.headers['x-request-id'];
      const base = {
        target: req.target,
        status: String(res.statusCode),
        ok: res.statusCode < 400,
        ...(typeof model === 'string' ? { model } : {}),
        ...(typeof policy === 'string' ? { policy } : {}),
        ...(typeof requestId === 'string' ? { requestId, replica } : {}),
      };
      if (res.statusCode >= 400) {
        const text = await res.body.text();
        let error = `HTTP ${res.statusCode}`;
        try {
          error += `: ${(JSON.parse(text) as { error: { message: string } }).error.message}`;
        } catch {
          /* keep the status */
        }
        return { ...base, latencySeconds: elapsed(), error };
      }
      if (!req.stream) {
        const text = await res.body.text();
        const usage = (JSON.parse(text) as { usage?: RequestResult['usage'] }).usage;
        return { ...base, latencySeconds: elapsed(), ...(usage ? { usage } : {}) };
      }
      // The router's own event-stream reader: any line ending, usage with nested details, and a first token that is
      // text, a tool call or reasoning.
      let ttftSeconds: number | undefined;
      const tap = new SseTap(false, () => (ttftSeconds = elapsed()));
      const decoder = new TextDecoder();
      for await (const chunk of res.body) tap.push(decoder.decode(chunk as Buffer, { stream: true }));
      tap.push(decoder.decode());
      tap.flush();
      const usage = tap.result.usage;
      return {
        ...base,
        latencySeconds: elapsed(),
        ...(ttftSeconds !== undefined ? { ttftSeconds } : {}),
        ...(usage ? { usage } : {}),
      };
    } catch (err) {
      const code = (err as { code?: string }).code;
      const status =
        code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT'
          ? 'timeout'
          : (err as Error).name === 'AbortError' || signal.aborted
            ? 'aborted'
            : 'connection_error';
      return {
        target: req.target,
        status,
        ok: false,
        latencySeconds: elapsed(),
        error: `${status}: ${(err as Error).message}`,
      };
    }
  }

  /** Scores an answer: POST /v1/feedback to the replica that answered it (`replica`, from its result). */
  async feedback(requestId: string, score: number, replica = 0): Promise<boolean> {
    const url = new URL('feedback', this.urls[replica % this.urls.length]!.href.replace(/chat\/completions$/, ''));
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (this.apiKey) headers.authorization = `Bearer ${this.apiKey}`;
    try {
      const res = await this.agent.request({
        origin: url.origin,
        path: url.pathname,
        method: 'POST',
        headers,
        body: JSON.stringify({ request_id: requestId, score }),
      });
      await res.body.dump();
      return res.statusCode === 200;
    } catch {
      return false;
    }
  }

  close(): Promise<void> {
    return this.agent.close();
  }
}
