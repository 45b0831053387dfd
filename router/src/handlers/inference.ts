// POST /v1/chat/completions, /v1/completions, /v1/responses, /v1/embeddings (http/endpoints.ts describes each).
// The request path, in order: validate -> resolve the target -> classify -> plan the models -> attempts on
// deployments -> write the answer (JSON or a stream) -> record one outcome.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { estimatePromptTokens } from '../classify/prompt-text.ts';
import { CHAT, chatUsage, type Endpoint } from '../http/endpoints.ts';
import { ApiError, apiError, sendApiError, sendStreamError } from '../http/errors.ts';
import { requestIdOf } from '../http/request-meta.ts';
import type { RouteCall } from '../http/route-table.ts';
import { upstreamApiError } from '../http/upstream-errors.ts';
import { pipeStream, timingMs, writeJson } from '../http/write-response.ts';
import { RequestRecorder, type RequestOutcome } from '../metrics/request-recorder.ts';
import { costUsd, modelPrice } from '../pricing/cost.ts';
import { chatText } from '../quality/call-model.ts';
import { requiredCapabilities } from '../routing/capabilities.ts';
import { decide, type RoutingDecision } from '../routing/decide.ts';
import { ModelPlanner } from '../routing/model-plan.ts';
import { NIM_EXTENSION_KEY } from '../routing/resolve-target.ts';
import { AbortEmitter } from '../upstream/abort-emitter.ts';
import { recordDeploymentFailure, runAttempts, type AttemptsEnv, type AttemptsOutcome } from '../upstream/attempts.ts';
import { withModel } from '../upstream/body-text.ts';
import type { Deployment } from '../upstream/deployments.ts';
import { failureLabel, type UpstreamFailure } from '../upstream/failures.ts';
import { attemptHooks } from './attempt-hooks.ts';
import type { RouterContext } from './context.ts';

const headerValue = (v: string | string[] | undefined) => (Array.isArray(v) ? v[0] : v);

/** The routing headers (a flat name, value list for writeHead): policy, class, model, and any fallback. */
export function routingHeaders(d: RoutingDecision, servedModel = d.model, fallbackReason?: string): string[] {
  const headers = ['x-router-policy', d.policy, 'x-router-class', d.class, 'x-router-model', servedModel];
  if (d.score !== undefined) headers.push('x-router-score', String(d.score));
  if (d.session !== undefined) headers.push('x-router-session', d.session);
  if (servedModel !== d.model) {
    headers.push('x-router-fallback-from', d.model);
    if (fallbackReason) headers.push('x-router-fallback-reason', fallbackReason);
  }
  return headers;
}

/** The router holds as many upstream answer bytes as it may: a fast 503 the client can retry. */
const answersBusy = () =>
  apiError(
    'server_busy',
    'The router is holding as many upstream answer bytes as it is allowed to (server.max_response_bytes_in_flight); retry shortly',
    { headers: { 'retry-after': '1' } },
  );

/** A provider refusing the stream_options field the router added (some do not support it). */
const rejectsStreamOptions = (f: UpstreamFailure) =>
  f.type === 'status' && f.status === 400 && /stream_options|include_usage/i.test(f.body);

/** The client's answer when no deployment served the request: the last upstream failure, or why none was tried. */
function exhaustedError(
  outcome: Extract<AttemptsOutcome, { kind: 'exhausted' }>,
  models: string[],
  maxRetryMs: number,
): ApiError {
  const last = outcome.failures.at(-1);
  if (last) return upstreamApiError(last.failure, last.dep);
  if (outcome.unavailable) {
    const retryAfter = String(Math.max(1, Math.ceil(outcome.unavailable.retryAfterMs / 1000)));
    const names = models.join(', ');
    return outcome.unavailable.reason === 'rate_limited'
      ? apiError(
          'rate_limit_exceeded',
          `Every deployment of ${names} is at its rate limit; retry after ${retryAfter}s`,
          { headers: { 'retry-after': retryAfter } },
        )
      : apiError(
          'deployments_unavailable',
          `Every deployment of ${names} is cooling down after failures; retry after ${retryAfter}s`,
          { headers: { 'retry-after': retryAfter } },
        );
  }
  return apiError('retry_budget_exhausted', `No deployment answered within the retry budget of ${maxRetryMs} ms`);
}

export function inferenceHandler(ctx: RouterContext, endpoint: Endpoint) {
  const { metrics, deployments, policies, resolver, log, requestLog, config } = ctx;
  const recorder = new RequestRecorder(metrics);
  const planner = new ModelPlanner(endpoint, deployments.models);

  const onExternalFallback = (policy: string, reason: string) => {
    metrics.externalClassifierFallbacks.inc({ policy, reason });
    log.warn({ policy, reason }, 'external classifier failed; the built-in one answered');
  };
  const attemptsEnv: AttemptsEnv = {
    deployments,
    resilience: config.resilience,
    hooks: attemptHooks(metrics, log), // built once per endpoint, not per request
    ...(ctx.shared ? { shared: ctx.shared } : {}),
  };

  /** The upstream body for one deployment: its model name, and on streams usage asked for where it is allowed. */
  /** Whether `dep`'s model serves this endpoint by translation to chat (it lists chat, not the endpoint). */
  const viaChat = (dep: Deployment) =>
    endpoint.viaChat !== undefined && !deployments.models.get(dep.model)!.endpoints.includes(endpoint.upstream);

  /** Whether `dep` speaks this endpoint's own API (Anthropic, for /v1/messages): then nothing is translated. */
  const native = (dep: Deployment) => endpoint.native?.provider === dep.provider.name;

  /** `text`: the JSON text `baseBody` was parsed from, when it is still that body. */
  function upstreamBody(
    baseBody: Record<string, unknown>,
    text: string | undefined,
    dep: Deployment,
    stream: boolean,
  ): string {
    if (native(dep)) return endpoint.native!.body(baseBody, dep.config.model);
    // Through chat: the request as a chat request (with usage asked for on streams, the translation reads it).
    if (viaChat(dep)) {
      const chat = endpoint.viaChat!.body(baseBody);
      if (dep.provider.body) return dep.provider.body(chat, dep.config, stream);
      return JSON.stringify({ ...chat, model: dep.config.model });
    }
    // A provider with its own API (Anthropic, Gemini) builds its body from the client's.
    if (dep.provider.body) return dep.provider.body(baseBody, dep.config, stream);
    if (!stream || !dep.streamUsage || !endpoint.asksStreamUsage) {
      // The client's own text, its model set to the deployment's: no second serialisation (53-58 µs for a 34 KB
      // prompt), and numbers reach the upstream exactly as the client wrote them (upstream/body-text.ts).
      if (text !== undefined) {
        if (baseBody.model === dep.config.model) return text;
        const named = withModel(text, dep.config.model);
        if (named !== undefined) return named;
      }
      return JSON.stringify({ ...baseBody, model: dep.config.model });
    }
    const options = (baseBody.stream_options ?? {}) as Record<string, unknown>;
    return JSON.stringify({
      ...baseBody,
      model: dep.config.model,
      stream_options: { ...options, include_usage: true },
    });
  }

  /** `call.client` is the API key's name, for metrics. */
  return async function serveRequest({ req, res, body: rawBody, text, client }: RouteCall): Promise<void> {
    const started = process.hrtime.bigint();
    const elapsed = () => Number(process.hrtime.bigint() - started) / 1e9;
    const requestId = requestIdOf(req);
    recorder.started(client);
    const clientGone = new AbortEmitter();
    let released = false;
    // 'close' fires on every path (success, error, timeout, client abort): the one place to release.
    res.on('close', () => {
      if (!res.writableFinished) clientGone.abort();
      if (!released) (released = true), recorder.left();
    });

    const outcome: RequestOutcome = { endpoint: endpoint.name, status: 200, totalSeconds: 0, upstreamSeconds: 0 };
    let decision: RoutingDecision | undefined;
    let servedBy: Deployment | undefined;
    let release: (() => void) | undefined;
    /** Set when shadow evaluation sampled this answer: the request and the answer's text. */
    let shadowJob: { body: Record<string, unknown>; answer?: string } | undefined;
    try {
      // Validate, resolve, classify.
      const request = endpoint.parse(rawBody);
      const target = resolver.resolve(
        request.body,
        headerValue(req.headers['x-router-policy']),
        headerValue(req.headers['x-router-threshold']),
      );
      if (target.kind === 'policy' && !endpoint.byPolicy) {
        throw apiError(
          'policy_not_supported',
          `/v1${endpoint.path} is routed by model name, not by a policy ('${target.policy}'): send "model": "<a model>"`,
          { param: 'model' },
        );
      }
      const decided = decide(target, request.messages, policies, onExternalFallback);
      let d = decided instanceof Promise ? await decided : decided; // a promise only with an external classifier
      // A later turn of a conversation keeps its session's model (or a stronger one).
      const session = ctx.sessions.keyOf(
        target.kind === 'policy',
        headerValue(req.headers['x-session-id']),
        request.body.user,
        request.messages,
      );
      if (session) {
        const served = ctx.sessions.serve(d, session, true);
        d = served instanceof Promise ? await served : served;
        if (d.session) metrics.sessionDecisions.inc({ policy: d.policy, outcome: d.session });
      }
      decision = d;
      recorder.classified(d.classifier, d.classifySeconds);
      if (d.score !== undefined) recorder.scored(d.policy, d.score);
      outcome.routing = {
        policy: d.policy,
        class: d.class,
        model: d.model,
        baselinePrice: modelPrice(deployments.models.get(d.baselineModel)!),
      };

      // Plan the models, then try them.
      const promptTokens = request.promptTokens ?? estimatePromptTokens(request.messages);
      const needs = requiredCapabilities({ messages: request.messages, ...request.features });
      const plan = planner.plan(d.model, policies.get(d.policy), needs, promptTokens);
      // The body as sent, less the router's own extension field (copied only when present: a delete turns the
      // object into a slow dictionary for the stringify that follows).
      let baseBody = request.body;
      if (NIM_EXTENSION_KEY in baseBody) {
        baseBody = { ...baseBody };
        delete baseBody[NIM_EXTENSION_KEY];
      }
      const attempts = await runAttempts(
        {
          models: plan.models,
          decidedModel: d.model,
          ...(plan.firstSkip ? { initialFallbackReason: plan.firstSkip } : {}),
          stream: request.stream,
          promptTokens,
          path: (dep) =>
            dep.basePath + dep.provider.path(viaChat(dep) ? 'chat' : endpoint.upstream, dep.config, request.stream),
          body: (dep) => upstreamBody(baseBody, baseBody === rawBody ? text : undefined, dep, request.stream),
          retryBodyOnce: (dep, failure) => {
            if (!request.stream || !dep.streamUsage || !endpoint.asksStreamUsage || !rejectsStreamOptions(failure))
              return false;
            // This provider does not take include_usage: stop adding it for this deployment, ask again at once.
            dep.streamUsage = false;
            log.warn(
              { deployment: dep.config.id },
              'upstream rejected stream_options.include_usage; streams from it are no longer costed',
            );
            return true;
          },
          clientGone,
          ...(requestId ? { requestId } : {}),
        },
        attemptsEnv,
      );
      if (attempts.kind === 'client_closed') throw ApiError.clientClosed();
      if (attempts.kind === 'busy') throw answersBusy();
      if (attempts.kind === 'refused') throw upstreamApiError(attempts.refusal.failure, attempts.refusal.dep);
      if (attempts.kind === 'exhausted') throw exhaustedError(attempts, plan.models, config.resilience.max_retry_ms);

      // Write the answer.
      const { dep, result } = attempts;
      servedBy = outcome.served = dep;
      if (attempts.fallbackReason)
        metrics.fallbacks.inc({ from: d.model, to: dep.model, reason: attempts.fallbackReason });
      const headers = routingHeaders(d, dep.model, attempts.fallbackReason);
      for (const k in result.passHeaders) headers.push(k, result.passHeaders[k]!);
      const timing = `classify;dur=${timingMs(d.classifySeconds)}`;
      const translated = viaChat(dep) ? endpoint.viaChat : undefined;
      if (endpoint === CHAT && ctx.shadow?.sample(d.policy, dep.model)) shadowJob = { body: baseBody };
      if (result.kind === 'body') {
        release = result.release;
        outcome.upstreamSeconds = result.upstreamSeconds;
        // no usage: still passed through, just not costed
        const usage = translated ? chatUsage(result.json) : endpoint.usage(result.json);
        if (usage) outcome.usage = usage;
        // Another API in front (Anthropic's Messages), or a chat answer to a Responses request: in its shape.
        const out = translated?.answer ?? endpoint.answerOut;
        writeJson(
          res,
          native(dep) && result.raw !== undefined
            ? { ...result, text: result.raw }
            : out
              ? { ...result, text: JSON.stringify(out(result.json)) }
              : result,
          headers,
          timing,
          elapsed(),
        );
        outcome.status = result.status;
        if (shadowJob) shadowJob.answer = chatText(result.json);
      } else {
        release = result.lease.end;
        ctx.openStreams.add(res);
        res.once('close', () => ctx.openStreams.delete(res));
        const end = await pipeStream(res, result, {
          headers,
          timing,
          clientWantsUsage: request.clientWantsUsage,
          maxEventChars: dep.config.max_event_bytes,
          dialect: translated ? 'chat' : (endpoint.sse ?? 'chat'),
          ...(dep.provider.stream ? { translator: dep.provider.stream(dep.config.model) } : {}),
          ...(native(dep)
            ? { raw: true }
            : translated
              ? { output: translated.stream() }
              : endpoint.streamOut
                ? { output: endpoint.streamOut() }
                : {}),
          onFirstToken: () => (outcome.ttftSeconds = elapsed()),
          elapsed,
          clientGone,
          ...(shadowJob ? { collectText: true } : {}),
        });
        outcome.upstreamSeconds = end.upstreamSeconds;
        if (end.usage) outcome.usage = end.usage;
        if (end.kind === 'client_gone') throw ApiError.clientClosed();
        if (end.kind === 'failed') {
          const label = failureLabel(end.failure);
          metrics.deploymentFailures.inc({ model: dep.model, deployment: dep.config.id, reason: label });
          recordDeploymentFailure(deployments, dep, end.failure);
          throw upstreamApiError(end.failure, dep); // headers are gone: it ends as an error event
        }
        outcome.status = result.status;
        if (shadowJob && end.kind === 'done') shadowJob.answer = end.text ?? '';
      }
    } catch (err) {
      const apiErr = err instanceof ApiError ? err : ApiError.internal();
      if (!(err instanceof ApiError)) log.error({ err, request_id: requestId }, 'unexpected error serving a request');
      outcome.status = apiErr.status;
      if (apiErr.status === 499) res.destroy();
      else if (res.headersSent) sendStreamError(res, apiErr);
      else
        sendApiError(
          res,
          apiErr,
          decision ? routingHeaders(decision, servedBy?.model) : [],
          endpoint.errorBody?.(apiErr),
        );
    } finally {
      release?.();
      outcome.totalSeconds = elapsed();
      recorder.record(outcome);
      if (decision && servedBy && outcome.status < 300) {
        // Feedback may name this answer later (POST /v1/feedback); shadow evaluation starts after it is sent.
        const answer = { policy: decision.policy, class: decision.class, model: servedBy.model };
        if (requestId)
          ctx.decisions.remember(requestId, {
            ...answer,
            cost_usd: outcome.usage ? costUsd(outcome.usage, servedBy.config.price) : 0,
          });
        if (shadowJob?.answer !== undefined)
          ctx.shadow!.offer({ ...answer, body: shadowJob.body, answer: shadowJob.answer });
      }
      requestLog.write({
        request_id: requestId,
        endpoint: endpoint.name,
        policy: decision?.policy,
        class: decision?.class,
        model: servedBy?.model ?? decision?.model,
        deployment: servedBy?.config.id,
        status: outcome.status,
        ms: Math.round(outcome.totalSeconds * 1000),
      });
    }
  };
}
