// POST /v1/chat/completions: validate -> resolve target -> classify -> pick deployment -> forward
// (streamed through without buffering) -> record usage, cost and latency.
import type { Request, Response } from 'express';
import { errors as undiciErrors } from 'undici';
import { ApiError, sendApiError } from '../http/errors.ts';
import { parseChatRequest, type ChatRequest } from '../http/chat-request.ts';
import { decide, type RoutingDecision } from '../routing/decide.ts';
import { NIM_EXTENSION_KEY } from '../routing/resolve-target.ts';
import { costUsd, modelPrice, type Usage } from '../pricing/cost.ts';
import { SseTap } from '../upstream/sse-tap.ts';
import type { Deployment } from '../upstream/deployments.ts';
import type { RouterContext } from './context.ts';

const NONE = 'none';
const ms = (seconds: number) => (seconds * 1000).toFixed(3);

export function routingHeaders(d: RoutingDecision): Record<string, string> {
  return { 'x-router-policy': d.policy, 'x-router-class': d.class, 'x-router-model': d.model };
}

/** Map a failure of the upstream call to the client-facing error. */
function upstreamFailure(err: unknown, dep: Deployment, clientGone: boolean): ApiError {
  if (clientGone) return new ApiError(499, 'client closed the request', 'client_closed', 'client_closed');
  const name = (err as Error)?.name;
  if (name === 'TimeoutError' || err instanceof undiciErrors.HeadersTimeoutError || err instanceof undiciErrors.BodyTimeoutError) {
    return new ApiError(504, `Upstream deployment '${dep.config.id}' of model '${dep.model}' timed out after ${dep.config.timeout_ms} ms`, 'upstream_error', 'upstream_timeout');
  }
  return new ApiError(502, `Could not reach upstream deployment '${dep.config.id}' of model '${dep.model}' (${(err as { code?: string })?.code ?? name ?? 'error'})`, 'upstream_error', 'upstream_unavailable');
}

/** Pass an upstream error through with its status, in OpenAI's shape whatever the upstream sent. */
function upstreamErrorBody(status: number, text: string, dep: Deployment): ApiError {
  try {
    const parsed = JSON.parse(text) as { error?: { message?: unknown; type?: unknown; code?: unknown; param?: unknown } };
    if (parsed.error && typeof parsed.error.message === 'string') {
      const e = parsed.error;
      return new ApiError(status, e.message as string, typeof e.type === 'string' ? e.type : 'upstream_error', typeof e.code === 'string' ? e.code : null, typeof e.param === 'string' ? e.param : null);
    }
  } catch {
    /* not JSON */
  }
  return new ApiError(status, `Upstream deployment '${dep.config.id}' returned HTTP ${status}`, 'upstream_error', 'upstream_error');
}

export function chatCompletionsHandler(ctx: RouterContext) {
  const { metrics, deployments, policies, resolver, log } = ctx;

  return async function chatCompletions(req: Request, res: Response): Promise<void> {
    const started = process.hrtime.bigint();
    const elapsed = () => Number(process.hrtime.bigint() - started) / 1e9;
    metrics.inFlight.inc();
    let released = false;
    // Released on 'close', which fires on every path: success, error, timeout and client abort.
    res.once('close', () => {
      if (!released) ((released = true), metrics.inFlight.dec());
    });

    let decision: RoutingDecision | undefined;
    let dep: Deployment | undefined;
    let status = 200;
    let upstreamSeconds = 0;
    let usage: Usage | undefined;
    let ttft: number | undefined;
    try {
      const body: ChatRequest = parseChatRequest(req.body);
      const target = resolver.resolve(body, req.get('x-router-policy') ?? undefined);
      decision = decide(target, body.messages, policies);
      metrics.classificationDuration.observe({ classifier: decision.classifier }, decision.classifySeconds);
      dep = deployments.pick(decision.model);

      const clientWantsUsage = body.stream_options?.include_usage === true;
      const upstreamBody: Record<string, unknown> = { ...body, model: dep.config.model };
      delete upstreamBody[NIM_EXTENSION_KEY];
      // Ask for usage on streams too, so cost is known; the extra chunk is dropped if the client did not ask.
      if (body.stream) upstreamBody.stream_options = { ...(body.stream_options ?? {}), include_usage: true };

      const abort = new AbortController();
      res.once('close', () => {
        if (!res.writableFinished) abort.abort();
      });
      const headers: Record<string, string> = { 'content-type': 'application/json', accept: body.stream ? 'text/event-stream' : 'application/json' };
      if (dep.config.api_key) headers.authorization = `Bearer ${dep.config.api_key}`;

      const upstreamStarted = process.hrtime.bigint();
      const upstreamElapsed = () => Number(process.hrtime.bigint() - upstreamStarted) / 1e9;
      let upstream;
      try {
        upstream = await dep.pool.request({
          method: 'POST',
          path: dep.chatPath,
          headers,
          body: JSON.stringify(upstreamBody),
          signal: AbortSignal.any([abort.signal, AbortSignal.timeout(dep.config.timeout_ms)]),
        });
      } catch (err) {
        throw upstreamFailure(err, dep, abort.signal.aborted);
      }

      const timing = `classify;dur=${ms(decision.classifySeconds)}`;
      if (upstream.statusCode >= 400) {
        const text = await upstream.body.text().catch(() => '');
        upstreamSeconds = upstreamElapsed();
        const retryAfter = upstream.headers['retry-after'];
        if (typeof retryAfter === 'string') res.setHeader('retry-after', retryAfter);
        throw upstreamErrorBody(upstream.statusCode, text, dep);
      }

      res.set(routingHeaders(decision));
      if (!body.stream) {
        let text: string;
        try {
          text = await upstream.body.text();
        } catch (err) {
          throw upstreamFailure(err, dep, abort.signal.aborted);
        }
        upstreamSeconds = upstreamElapsed();
        try {
          usage = (JSON.parse(text) as { usage?: Usage }).usage;
        } catch {
          /* not JSON: still pass it through */
        }
        res.setHeader('server-timing', `${timing}, upstream;dur=${ms(upstreamSeconds)}, total;dur=${ms(elapsed())}`);
        res.status(upstream.statusCode).type('application/json').send(text);
      } else {
        const tap = new SseTap(!clientWantsUsage, () => (ttft = elapsed()));
        res.status(upstream.statusCode);
        res.setHeader('content-type', 'text/event-stream');
        res.setHeader('cache-control', 'no-cache');
        // Total time is only known at the end of a stream: it comes as a trailer.
        res.setHeader('server-timing', `${timing}, upstream-headers;dur=${ms(upstreamElapsed())}`);
        res.setHeader('trailer', 'server-timing');
        res.flushHeaders();
        const decoder = new TextDecoder();
        try {
          for await (const chunk of upstream.body) {
            const out = tap.push(decoder.decode(chunk as Buffer, { stream: true }));
            if (out && !res.write(out)) await new Promise<void>((resolve) => res.once('drain', resolve).once('close', resolve));
            if (res.destroyed) break;
          }
        } catch (err) {
          upstreamSeconds = upstreamElapsed();
          const failure = upstreamFailure(err, dep, abort.signal.aborted);
          status = failure.status;
          res.destroy(); // headers are gone: the only honest signal left is a cut stream
          return;
        }
        upstreamSeconds = upstreamElapsed();
        usage = tap.result.usage;
        res.addTrailers({ 'server-timing': `total;dur=${ms(elapsed())}` });
        res.end(tap.flush());
      }
      status = upstream.statusCode;
    } catch (err) {
      const apiErr = err instanceof ApiError ? err : new ApiError(500, 'Internal router error', 'server_error', 'internal_error');
      if (!(err instanceof ApiError)) log.error({ err }, 'unexpected error in chat completions');
      status = apiErr.status;
      if (decision) res.set(routingHeaders(decision));
      if (status !== 499) sendApiError(res, apiErr);
    } finally {
      const total = elapsed();
      const policy = decision?.policy ?? NONE;
      const model = decision?.model ?? NONE;
      metrics.requests.inc({ policy, class: decision?.class ?? NONE, model, status: String(status) });
      if (decision && dep) {
        metrics.requestDuration.observe({ policy, model }, total);
        metrics.overhead.observe({ policy }, Math.max(0, total - upstreamSeconds));
        metrics.upstreamDuration.observe({ model, deployment: dep.config.id }, upstreamSeconds);
        if (ttft !== undefined) metrics.timeToFirstToken.observe({ model }, ttft);
      }
      if (decision && dep && usage) {
        metrics.tokens.inc({ model, type: 'prompt' }, usage.prompt_tokens);
        metrics.tokens.inc({ model, type: 'completion' }, usage.completion_tokens);
        metrics.cost.inc({ policy, model }, costUsd(usage, dep.config.price));
        metrics.baselineCost.inc({ policy }, costUsd(usage, modelPrice(deployments.models.get(decision.baselineModel)!)));
      }
      log.info({ policy, class: decision?.class, model, deployment: dep?.config.id, status, ms: Math.round(total * 1000) }, 'chat completion');
    }
  };
}
