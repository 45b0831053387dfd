// POST /v1/chat/completions, /v1/completions, /v1/responses, /v1/embeddings (http/endpoints.ts): validate ->
// resolve target -> classify -> plan models (endpoint, capabilities, fallbacks, context window) -> attempts on
// deployments (balancing, retries, cooldowns) -> forward (streams pass through unbuffered) -> record usage,
// cost and latency.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ApiError, sendApiError, sendStreamError } from '../http/errors.ts';
import type { Endpoint } from '../http/endpoints.ts';
import { requestIdOf } from '../http/request-meta.ts';
import { estimatePromptTokens } from '../classify/prompt-text.ts';
import { decide, type RoutingDecision } from '../routing/decide.ts';
import { NIM_EXTENSION_KEY } from '../routing/resolve-target.ts';
import { missingCapabilities, requiredCapabilities, type Capability } from '../routing/capabilities.ts';
import { costUsd, modelPrice, type Usage } from '../pricing/cost.ts';
import { SseEventTooLargeError, SseTap } from '../upstream/sse-tap.ts';
import { pickDeployment } from '../upstream/balancer.ts';
import { AbortEmitter } from '../upstream/abort-emitter.ts';
import { badResponse, callDeployment, transportError, type AttemptResult } from '../upstream/call-deployment.ts';
import type { Deployment } from '../upstream/deployments.ts';
import type { Lease } from '../upstream/deployment-state.ts';
import type { RouterContext } from './context.ts';

const NONE = 'none';
const ms = (seconds: number) => (seconds * 1000).toFixed(3);

export function setRoutingHeaders(res: ServerResponse, d: RoutingDecision, servedModel = d.model, fallbackReason?: string): void {
  res.setHeader('x-router-policy', d.policy);
  res.setHeader('x-router-class', d.class);
  res.setHeader('x-router-model', servedModel);
  if (servedModel !== d.model) {
    res.setHeader('x-router-fallback-from', d.model);
    if (fallbackReason) res.setHeader('x-router-fallback-reason', fallbackReason);
  }
}

const headerValue = (v: string | string[] | undefined) => (Array.isArray(v) ? v[0] : v);
const clientClosed = () => new ApiError(499, 'client closed the request', 'client_closed', 'client_closed');

/**
 * Resolves when the client has read what was written ('drain'), has gone, or `attempt` was aborted (the
 * total timeout: a client that stops reading must not hold the deployment forever). Checks first, since
 * any of these may already have happened, and removes its listeners whichever way it ends.
 */
function writable(res: ServerResponse, attempt: AbortEmitter): Promise<void> {
  if (res.destroyed || !res.writableNeedDrain || attempt.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done).off('close', done);
      attempt.off('abort', done);
      resolve();
    };
    res.on('drain', done).on('close', done);
    attempt.on('abort', done);
  });
}

/** A provider refusing the stream_options field the router added (some do not support it). */
const rejectsStreamOptions = (err: ApiError) => err.status === 400 && /stream_options|include_usage/i.test(err.message);

const badStreamEvent = (dep: Deployment) => badResponse(`a server-sent event over max_event_bytes (${dep.config.max_event_bytes})`, dep);

type Served = { dep: Deployment; result: Extract<AttemptResult, { kind: 'body' | 'stream' }>; fallbackReason?: string };

export function inferenceHandler(ctx: RouterContext, endpoint: Endpoint) {
  const { metrics, deployments, policies, resolver, log, config } = ctx;
  const resilience = config.resilience;

  /**
   * The chosen model, then its fallbacks, then the policy's. Models without a capability the request needs are
   * skipped (then the policy's default and its other models are tried, cheapest first), and so are models whose
   * window is too small. `firstSkip` says why the chosen model was passed over.
   */
  function modelPlan(decision: RoutingDecision, promptTokens: number, needs: Capability[]): { models: string[]; skippedForWindow: string[]; firstSkip?: string } {
    const policy = policies.get(decision.policy);
    const chain = [...new Set([decision.model, ...(deployments.models.get(decision.model)?.fallbacks ?? []), ...(policy?.fallbacks ?? [])])];
    const skippedForWindow: string[] = [];
    let firstSkip: string | undefined;
    const serves = (m: string) => deployments.models.get(m)?.endpoints.includes(endpoint.name) === true;
    const capable = (m: string) => serves(m) && missingCapabilities(deployments.models.get(m), needs).length === 0;
    let candidates = chain.filter(capable);
    if (candidates.length === 0 && policy) candidates = policy.capableFallbacks.filter(capable);
    if (!serves(decision.model)) firstSkip = `endpoint_${endpoint.name}`;
    else if (!capable(decision.model)) firstSkip = `capability_${missingCapabilities(deployments.models.get(decision.model), needs)[0]}`;
    if (candidates.length === 0 && !serves(decision.model) && !chain.some(serves)) {
      const have = [...deployments.models.values()].filter((m) => m.endpoints.includes(endpoint.name)).map((m) => m.name);
      throw new ApiError(400, `The model '${decision.model}' does not serve /v1${endpoint.path} (its config's endpoints)${have.length ? `; models that do: ${have.join(', ')}` : ''}`, 'invalid_request_error', 'model_not_supported', 'model');
    }
    if (candidates.length === 0) {
      const have = [...deployments.models.values()].filter((m) => missingCapabilities(m, needs).length === 0).map((m) => m.name);
      throw new ApiError(400, `No model this request can be routed to supports ${needs.join(' and ')} (${decision.model} does not${have.length ? `; models that do: ${have.join(', ')}` : ''})`, 'invalid_request_error', 'no_capable_model', needs.includes('vision') ? 'messages' : needs.includes('tools') ? 'tools' : 'response_format');
    }
    const models = candidates.filter((m) => {
      const window = deployments.models.get(m)?.context_window;
      if (window !== undefined && promptTokens > window) return void skippedForWindow.push(m), false;
      return true;
    });
    return { models, skippedForWindow, ...(firstSkip ? { firstSkip } : {}) };
  }

  /** Try deployments of each planned model until one answers; retries and fallbacks share one time budget. */
  const onExternalFallback = (policy: string, reason: string) => {
    metrics.externalClassifierFallbacks.inc({ policy, reason });
    log.warn({ policy, reason }, 'external classifier failed; the built-in one answered');
  };

  /** No other deployment of its model could take its traffic now: cooling it would leave only 503s. */
  const isLastHealthy = (dep: Deployment) => !deployments.deploymentsOf(dep.model).some((d) => d !== dep && d.state.health() === 'healthy');

  /** The upstream body for one deployment: its model name, and on streams usage asked for where it is allowed. */
  function upstreamBody(baseBody: Record<string, unknown>, dep: Deployment, stream: boolean): string {
    if (!stream || !dep.streamUsage || !endpoint.asksStreamUsage) return JSON.stringify({ ...baseBody, model: dep.config.model });
    const options = (baseBody.stream_options ?? {}) as Record<string, unknown>;
    return JSON.stringify({ ...baseBody, model: dep.config.model, stream_options: { ...options, include_usage: true } });
  }

  async function serve(decision: RoutingDecision, models: string[], baseBody: Record<string, unknown>, stream: boolean, promptTokens: number, clientGone: AbortEmitter, initialFallbackReason?: string, requestId?: string): Promise<Served> {
    const deadline = Date.now() + resilience.max_retry_ms;
    let lastError: ApiError | undefined;
    let unavailable: { reason: string; retryAfterMs: number } | undefined;
    let fallbackReason = initialFallbackReason;
    for (const model of models) {
      const modelCfg = deployments.models.get(model)!;
      const tried = new Set<Deployment>();
      let lastReason = '';
      for (let attempt = 0; attempt <= resilience.retries; attempt++) {
        if (clientGone.aborted) throw clientClosed();
        const pick = pickDeployment(deployments.deploymentsOf(model), modelCfg.strategy, promptTokens, tried);
        if (pick.rateLimitedSkips > 0) metrics.rateLimited.inc({ model, source: 'local' }, pick.rateLimitedSkips);
        if (!pick.ok) {
          if (pick.reason !== 'exhausted') unavailable = pick;
          break;
        }
        const dep = pick.deployment;
        tried.add(dep);
        if (attempt > 0) {
          metrics.retries.inc({ model, reason: lastReason });
          const wait = Math.min(resilience.backoff_ms * 2 ** (attempt - 1) * (0.5 + Math.random() / 2), deadline - Date.now());
          if (wait > 0) await clientGone.wait(wait);
          // The client may have left during the wait: the retry must not be sent (nor billed, nor leaked).
          if (clientGone.aborted) throw clientClosed();
        }
        if (Date.now() >= deadline) break;
        const path = dep.basePath + endpoint.path;
        let result = await callDeployment(dep, path, upstreamBody(baseBody, dep, stream), stream, promptTokens, clientGone, requestId);
        if (result.kind === 'client_error' && stream && dep.streamUsage && endpoint.asksStreamUsage && rejectsStreamOptions(result.error)) {
          // This provider does not take include_usage: stop adding it for this deployment, ask again at once.
          dep.streamUsage = false;
          log.warn({ deployment: dep.config.id, model }, 'upstream rejected stream_options.include_usage; streams from it are no longer costed');
          result = await callDeployment(dep, path, upstreamBody(baseBody, dep, stream), stream, promptTokens, clientGone, requestId);
        }
        switch (result.kind) {
          case 'body':
          case 'stream':
            dep.state.recordSuccess();
            return { dep, result, ...(model !== decision.model ? { fallbackReason: fallbackReason ?? 'error' } : {}) };
          case 'client_closed':
            throw clientClosed();
          case 'client_error':
            // A prompt too long for this model may fit the next one; any other 4xx is the caller's.
            if (result.error.code === 'context_length_exceeded') {
              lastError = result.error;
              fallbackReason ??= 'context_window';
              attempt = resilience.retries;
              continue;
            }
            throw result.error;
          case 'retryable':
            lastError = result.error;
            lastReason = result.reason;
            if (result.detail) log.warn({ request_id: requestId, deployment: dep.config.id, model, reason: result.reason, upstream_said: result.detail }, 'upstream refused the request');
            metrics.deploymentFailures.inc({ model, deployment: dep.config.id, reason: result.reason });
            if (result.reason === '429') metrics.rateLimited.inc({ model, source: 'upstream' });
            if (result.retryAfterSeconds) dep.state.coolFor(result.retryAfterSeconds, 'retry_after');
            dep.state.recordFailure(result.reason, Date.now(), isLastHealthy(dep));
        }
      }
      fallbackReason ??= unavailable && !lastError ? 'unavailable' : 'error';
      if (Date.now() >= deadline) break;
    }
    if (lastError) throw lastError;
    if (unavailable) {
      const retryAfter = Math.max(1, Math.ceil(unavailable.retryAfterMs / 1000));
      const names = models.join(', ');
      throw unavailable.reason === 'rate_limited'
        ? new ApiError(429, `Every deployment of ${names} is at its rate limit; retry after ${retryAfter}s`, 'rate_limit_error', 'rate_limit_exceeded', null, { 'retry-after': String(retryAfter) })
        : new ApiError(503, `Every deployment of ${names} is cooling down after failures; retry after ${retryAfter}s`, 'server_error', 'deployments_unavailable', null, { 'retry-after': String(retryAfter) });
    }
    throw new ApiError(504, `No deployment answered within the retry budget of ${resilience.max_retry_ms} ms`, 'upstream_error', 'retry_budget_exhausted');
  }

  /**
   * Plain Node request/response (no express): the fast path calls it with a body it read itself, the
   * express route with body-parser's. `client` is the API key's name, for metrics.
   */
  return async function chatCompletions(req: IncomingMessage, res: ServerResponse, rawBody: unknown, client: string): Promise<void> {
    const started = process.hrtime.bigint();
    const elapsed = () => Number(process.hrtime.bigint() - started) / 1e9;
    const requestId = requestIdOf(req);
    metrics.inFlight.inc();
    metrics.clientRequests.inc({ client });
    const clientGone = new AbortEmitter();
    let released = false;
    // 'close' fires on every path (success, error, timeout, client abort): the one place to release.
    res.once('close', () => {
      if (!res.writableFinished) clientGone.abort();
      if (!released) ((released = true), metrics.inFlight.dec());
    });

    let decision: RoutingDecision | undefined;
    let served: Served | undefined;
    let lease: Lease | undefined;
    let status = 200;
    let upstreamSeconds = 0;
    let usage: Usage | undefined;
    let ttft: number | undefined;
    try {
      const request = endpoint.parse(rawBody);
      const body = request.body;
      const target = resolver.resolve(body, headerValue(req.headers['x-router-policy']));
      if (target.kind === 'policy' && !endpoint.byPolicy) {
        throw new ApiError(400, `/v1${endpoint.path} is routed by model name, not by a policy ('${target.policy}'): send "model": "<a model>"`, 'invalid_request_error', 'policy_not_supported', 'model');
      }
      const decided = decide(target, request.messages, policies, onExternalFallback);
      const d = decided instanceof Promise ? await decided : decided; // a promise only with an external classifier
      decision = d;
      metrics.classificationDuration.observe({ classifier: d.classifier }, d.classifySeconds);

      const promptTokens = estimatePromptTokens(request.messages);
      const plan = modelPlan(d, promptTokens, requiredCapabilities({ messages: request.messages, ...request.features }));
      if (plan.models.length === 0) {
        throw new ApiError(400, `The prompt (~${promptTokens} tokens) exceeds the context window of ${plan.skippedForWindow.join(', ')} and of every fallback`, 'invalid_request_error', 'context_length_exceeded', 'messages');
      }
      const baseBody: Record<string, unknown> = { ...body };
      delete baseBody[NIM_EXTENSION_KEY];
      // Usage is asked for on streams too (upstreamBody), so cost is known; the extra chunk is dropped if the
      // client did not ask for it.
      const clientWantsUsage = request.clientWantsUsage;

      const firstSkip = plan.firstSkip ?? (plan.skippedForWindow.includes(decision.model) ? 'context_window' : undefined);
      served = await serve(decision, plan.models, baseBody, request.stream, promptTokens, clientGone, firstSkip, requestId);
      const { dep, result } = served;
      for (const [k, v] of Object.entries(result.passHeaders)) res.setHeader(k, v);
      if (served.fallbackReason) metrics.fallbacks.inc({ from: decision.model, to: dep.model, reason: served.fallbackReason });
      setRoutingHeaders(res, decision, dep.model, served.fallbackReason);
      const timing = `classify;dur=${ms(decision.classifySeconds)}`;

      if (result.kind === 'body') {
        upstreamSeconds = result.upstreamSeconds;
        usage = endpoint.usage(result.json); // no usage: still passed through, just not costed
        res.setHeader('server-timing', `${timing}, upstream;dur=${ms(upstreamSeconds)}, total;dur=${ms(elapsed())}`);
        res.writeHead(result.status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(result.text) }).end(result.text);
        status = result.status;
      } else {
        lease = result.lease;
        const upstreamElapsed = () => Number(process.hrtime.bigint() - result.startedAt) / 1e9;
        const tap = new SseTap(!clientWantsUsage, () => (ttft = elapsed()), dep.config.max_event_bytes, endpoint.sse ?? 'chat');
        res.statusCode = result.status;
        res.setHeader('content-type', 'text/event-stream');
        res.setHeader('cache-control', 'no-cache');
        // Total time is only known at the end of a stream: it comes as a trailer.
        res.setHeader('server-timing', `${timing}, upstream-headers;dur=${ms(upstreamElapsed())}`);
        res.setHeader('trailer', 'server-timing');
        res.flushHeaders();
        const decoder = new TextDecoder();
        try {
          for await (const chunk of result.response.body) {
            const out = tap.push(decoder.decode(chunk as Buffer, { stream: true }));
            if (out && !res.write(out)) await writable(res, result.aborted);
            if (res.destroyed) break;
            if (result.aborted.aborted) throw new Error('attempt aborted');
          }
        } catch (err) {
          upstreamSeconds = upstreamElapsed();
          usage = tap.result.usage;
          if (clientGone.aborted) throw clientClosed();
          const reason = err instanceof SseEventTooLargeError ? 'event_too_large' : result.failureReason(err);
          metrics.deploymentFailures.inc({ model: dep.model, deployment: dep.config.id, reason });
          dep.state.recordFailure(reason, Date.now(), isLastHealthy(dep));
          // Headers are gone: the stream ends with an OpenAI-style error event (sendStreamError).
          throw reason === 'event_too_large' ? badStreamEvent(dep) : transportError(reason, dep);
        }
        upstreamSeconds = upstreamElapsed();
        usage = tap.result.usage;
        if (res.destroyed) throw clientClosed();
        res.addTrailers({ 'server-timing': `total;dur=${ms(elapsed())}` });
        res.end(tap.flush());
        status = result.status;
      }
    } catch (err) {
      const apiErr = err instanceof ApiError ? err : new ApiError(500, 'Internal router error', 'server_error', 'internal_error');
      if (!(err instanceof ApiError)) log.error({ err }, 'unexpected error in chat completions');
      status = apiErr.status;
      if (decision && !res.headersSent) setRoutingHeaders(res, decision, served?.dep.model);
      if (status === 499) res.destroy();
      else if (res.headersSent) sendStreamError(res, apiErr);
      else sendApiError(res, apiErr);
    } finally {
      lease?.end();
      const total = elapsed();
      const policy = decision?.policy ?? NONE;
      const model = served?.dep.model ?? decision?.model ?? NONE;
      metrics.requests.inc({ endpoint: endpoint.name, policy, class: decision?.class ?? NONE, model, status: String(status) });
      if (decision && served) {
        const dep = served.dep;
        metrics.requestDuration.observe({ policy, model }, total);
        metrics.overhead.observe({ policy }, Math.max(0, total - upstreamSeconds));
        metrics.upstreamDuration.observe({ model, deployment: dep.config.id }, upstreamSeconds);
        if (ttft !== undefined) metrics.timeToFirstToken.observe({ model }, ttft);
        if (usage) {
          dep.state.recordCompletionTokens(usage.completion_tokens);
          metrics.tokens.inc({ model, type: 'prompt' }, usage.prompt_tokens);
          metrics.tokens.inc({ model, type: 'completion' }, usage.completion_tokens);
          metrics.cost.inc({ policy, model }, costUsd(usage, dep.config.price));
          metrics.baselineCost.inc({ policy }, costUsd(usage, modelPrice(deployments.models.get(decision.baselineModel)!)));
        }
      }
      log.info({ request_id: requestId, endpoint: endpoint.name, policy, class: decision?.class, model, deployment: served?.dep.config.id, status, ms: Math.round(total * 1000) }, 'request');
    }
  };
}
