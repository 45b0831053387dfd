// POST /v1/chat/completions, /v1/completions, /v1/responses, /v1/embeddings (http/endpoints.ts describes each).
// The request path, in order: validate -> resolve the target -> classify -> plan the models -> attempts on
// deployments -> write the answer (JSON or a stream) -> record one outcome.
import { CHAT, chatUsage, type Endpoint } from '../http/endpoints.ts';
import { ApiError, apiError, sendApiError, sendStreamError } from '../http/errors.ts';
import { requestIdOf } from '../http/request-meta.ts';
import type { RouteCall, RouteHandler } from '../http/route-table.ts';
import { upstreamApiError } from '../http/upstream-errors.ts';
import { pipeStream, timingMs, writeJson } from '../http/write-response.ts';
import type { RequestOutcome } from '../metrics/request-recorder.ts';
import { costUsd, modelPrice } from '@llm-router/common/pricing';
import { chatText } from '../quality/call-model.ts';
import { decide, type RoutingDecision } from '../routing/decide.ts';
import { ModelPlanner } from '../routing/model-plan.ts';
import { PromptFacts } from '../routing/prompt-facts.ts';
import { NIM_EXTENSION_KEY } from '../routing/resolve-target.ts';
import { AbortEmitter } from '../upstream/abort-emitter.ts';
import { recordDeploymentFailure, runAttempts, type AttemptsEnv, type AttemptsOutcome } from '../upstream/attempts.ts';
import { withModel } from '../upstream/body-text.ts';
import type { Deployment } from '../upstream/deployments.ts';
import { failureLabel, type UpstreamFailure } from '../upstream/failures.ts';
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

/** One request on its way down the path: what the steps share, and what the record at the end reads. */
interface Serving {
  /** The request as it came: headers, the parsed body and its raw text. */
  call: RouteCall;
  requestId: string | undefined;
  elapsed: () => number;
  clientGone: AbortEmitter;
  outcome: RequestOutcome;
  decision?: RoutingDecision;
  servedBy?: Deployment;
  /** Frees what the answer holds (its bytes in the budget, the deployment's lease). */
  release?: () => void;
  /** Set when shadow evaluation sampled this answer: the request and the answer's text. */
  shadowJob?: { body: Record<string, unknown>; answer?: string };
}

type Parsed = ReturnType<Endpoint['parse']>;
type Served = Extract<AttemptsOutcome, { kind: 'served' }>;

/** The handler of one inference endpoint: the request path's steps, built once per endpoint. */
export function inferenceHandler(ctx: RouterContext, endpoint: Endpoint): RouteHandler {
  const path = new InferencePath(ctx, endpoint);
  return (call) => path.serve(call);
}

class InferencePath {
  private readonly planner: ModelPlanner;
  private readonly attemptsEnv: AttemptsEnv;

  constructor(
    private readonly ctx: RouterContext,
    private readonly endpoint: Endpoint,
  ) {
    this.planner = new ModelPlanner(endpoint, ctx.deployments.models);
    this.attemptsEnv = {
      deployments: ctx.deployments,
      resilience: ctx.config.resilience,
      hooks: ctx.events,
      ...(ctx.shared ? { shared: ctx.shared } : {}),
    };
  }

  /** Whether `dep`'s model serves this endpoint by translation to chat (it lists chat, not the endpoint). */
  private viaChat(dep: Deployment): boolean {
    const { endpoint } = this;
    return (
      endpoint.viaChat !== undefined &&
      !this.ctx.deployments.models.get(dep.routerModel)!.endpoints.includes(endpoint.upstream)
    );
  }

  /** Whether `dep` speaks this endpoint's own API (Anthropic, for /v1/messages): then nothing is translated. */
  private native(dep: Deployment): boolean {
    return this.endpoint.native?.provider === dep.provider.name;
  }

  /** Validate → route → attempts → write, then one record, whatever happened. `call.client`: the key's name. */
  async serve(call: RouteCall): Promise<void> {
    const s = this.begin(call);
    try {
      const request = this.endpoint.parse(call.body);
      const prompt = new PromptFacts(request); // what the steps read of the prompt, each worked out once
      const d = await this.route(s, request, prompt);
      // The body as sent, less the router's own extension field (copied only when present: a delete turns the
      // object into a slow dictionary for the stringify that follows).
      let baseBody = request.body;
      if (NIM_EXTENSION_KEY in baseBody) {
        baseBody = { ...baseBody };
        delete baseBody[NIM_EXTENSION_KEY];
      }
      const text = baseBody === call.body ? call.text : undefined;
      const attempts = await this.attempt(s, request, prompt, d, baseBody, text);
      const { dep, result } = attempts;
      s.servedBy = s.outcome.served = dep;
      if (attempts.fallbackReason) this.ctx.events.fellBack(d.model, dep.routerModel, attempts.fallbackReason);
      const headers = routingHeaders(d, dep.routerModel, attempts.fallbackReason);
      for (const k in result.passHeaders) headers.push(k, result.passHeaders[k]!);
      if (this.endpoint === CHAT && this.ctx.shadow?.sample(d.policy, dep.routerModel))
        s.shadowJob = { body: baseBody };
      if (result.kind === 'body') this.writeBody(s, dep, result, headers);
      else await this.writeStream(s, request, dep, result, headers);
    } catch (err) {
      this.fail(s, err);
    } finally {
      this.finish(s);
    }
  }

  private begin(call: RouteCall): Serving {
    const started = process.hrtime.bigint();
    const { res } = call;
    const s: Serving = {
      call,
      requestId: requestIdOf(call.req),
      elapsed: () => Number(process.hrtime.bigint() - started) / 1e9,
      clientGone: new AbortEmitter(),
      outcome: { endpoint: this.endpoint.name, status: 200, totalSeconds: 0, upstreamSeconds: 0 },
    };
    const { events } = this.ctx;
    events.requestStarted(call.client);
    let released = false;
    // 'close' fires on every path (success, error, timeout, client abort): the one place to release.
    res.on('close', () => {
      if (!res.writableFinished) s.clientGone.abort();
      if (!released) (released = true), events.requestLeft();
    });
    return s;
  }

  /** Resolve the target, classify, and keep a conversation's model: the routing decision. */
  private async route(s: Serving, request: Parsed, prompt: PromptFacts): Promise<RoutingDecision> {
    const { ctx, endpoint } = this;
    const { headers } = s.call.req;
    const target = ctx.resolver.resolve(
      request.body,
      headerValue(headers['x-router-policy']),
      headerValue(headers['x-router-threshold']),
    );
    if (target.kind === 'policy' && !endpoint.byPolicy) {
      throw apiError(
        'policy_not_supported',
        `/v1${endpoint.path} is routed by model name, not by a policy ('${target.policy}'): send "model": "<a model>"`,
        { param: 'model' },
      );
    }
    const decided = decide(target, prompt, ctx.policies, ctx.events.externalClassifierFailed);
    let d = decided instanceof Promise ? await decided : decided; // a promise only with an external classifier
    // A later turn of a conversation keeps its session's model (or a stronger one).
    const session = ctx.sessions.keyOf(
      target.kind === 'policy',
      headerValue(headers['x-session-id']),
      request.body.user,
      prompt,
    );
    if (session) {
      const served = ctx.sessions.serve(d, session, true);
      d = served instanceof Promise ? await served : served;
      if (d.session) ctx.events.sessionDecided(d.policy, d.session);
    }
    s.decision = d;
    ctx.events.classified(d.classifier, d.classifySeconds);
    if (d.score !== undefined) ctx.events.scored(d.policy, d.score);
    s.outcome.routing = {
      policy: d.policy,
      class: d.class,
      model: d.model,
      baselinePrice: modelPrice(ctx.deployments.models.get(d.baselineModel)!),
    };
    return d;
  }

  /** Plan the models, then try their deployments; anything but an answer is thrown as the client's error. */
  private async attempt(
    s: Serving,
    request: Parsed,
    prompt: PromptFacts,
    d: RoutingDecision,
    baseBody: Record<string, unknown>,
    text: string | undefined,
  ): Promise<Served> {
    const { ctx, endpoint } = this;
    const promptTokens = prompt.tokens;
    const plan = this.planner.plan(d.model, ctx.policies.get(d.policy), prompt.needs, promptTokens);
    const attempts = await runAttempts(
      {
        models: plan.models,
        decidedModel: d.model,
        ...(plan.firstSkip ? { initialFallbackReason: plan.firstSkip } : {}),
        stream: request.stream,
        promptTokens,
        path: (dep) =>
          dep.basePath + dep.provider.path(this.viaChat(dep) ? 'chat' : endpoint.upstream, dep.config, request.stream),
        body: (dep) => this.upstreamBody(baseBody, text, dep, request.stream),
        retryBodyOnce: (dep, failure) => this.dropStreamOptions(request, dep, failure),
        clientGone: s.clientGone,
        ...(s.requestId ? { requestId: s.requestId } : {}),
      },
      this.attemptsEnv,
    );
    if (attempts.kind === 'client_closed') throw ApiError.clientClosed();
    if (attempts.kind === 'busy') throw answersBusy();
    if (attempts.kind === 'refused') throw upstreamApiError(attempts.refusal.failure, attempts.refusal.dep);
    if (attempts.kind === 'exhausted') throw exhaustedError(attempts, plan.models, ctx.config.resilience.max_retry_ms);
    return attempts;
  }

  /** A provider refusing include_usage: stop adding it for this deployment, and ask again at once. */
  private dropStreamOptions(request: Parsed, dep: Deployment, failure: UpstreamFailure): boolean {
    if (!request.stream || !dep.streamUsage || !this.endpoint.asksStreamUsage || !rejectsStreamOptions(failure))
      return false;
    dep.streamUsage = false;
    this.ctx.events.streamOptionsRefused(dep);
    return true;
  }

  /** The upstream body for one deployment: its model name, and on streams usage asked for where it is allowed.
   * `text`: the JSON text `baseBody` was parsed from, when it is still that body. */
  private upstreamBody(
    baseBody: Record<string, unknown>,
    text: string | undefined,
    dep: Deployment,
    stream: boolean,
  ): string {
    const { endpoint } = this;
    if (this.native(dep)) return endpoint.native!.body(baseBody, dep.config.model);
    // Through chat: the request as a chat request (with usage asked for on streams, the translation reads it).
    if (this.viaChat(dep)) {
      const chat = endpoint.viaChat!.body(baseBody);
      if (dep.provider.body) return dep.provider.body(chat, dep.config, stream);
      return JSON.stringify({ ...chat, model: dep.config.model });
    }
    // A provider with its own API (Anthropic, Gemini) builds its body from the client's.
    if (dep.provider.body) return dep.provider.body(baseBody, dep.config, stream);
    if (!stream || !dep.streamUsage || !endpoint.asksStreamUsage) {
      // The client's own text, its model set to the deployment's: no second serialisation, and numbers reach the
      // upstream exactly as the client wrote them (upstream/body-text.ts).
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

  /** A whole answer: passed through, or in the client's API's shape when it came through another. */
  private writeBody(
    s: Serving,
    dep: Deployment,
    result: Extract<Served['result'], { kind: 'body' }>,
    headers: string[],
  ) {
    const translated = this.viaChat(dep) ? this.endpoint.viaChat : undefined;
    s.release = result.release;
    s.outcome.upstreamSeconds = result.upstreamSeconds;
    // no usage: still passed through, just not costed
    const usage = translated ? chatUsage(result.json) : this.endpoint.usage(result.json);
    if (usage) s.outcome.usage = usage;
    // Another API in front (Anthropic's Messages), or a chat answer to a Responses request: in its shape.
    const out = translated?.answer ?? this.endpoint.answerOut;
    const answer =
      this.native(dep) && result.raw !== undefined
        ? { ...result, text: result.raw }
        : out
          ? { ...result, text: JSON.stringify(out(result.json)) }
          : result;
    writeJson(s.call.res, answer, headers, this.timing(s), s.elapsed());
    s.outcome.status = result.status;
    if (s.shadowJob) s.shadowJob.answer = chatText(result.json);
  }

  /** A stream, event by event (translated where the deployment speaks another API); a failure mid-stream is booked
   * against the deployment and ends the stream with an error event. */
  private async writeStream(
    s: Serving,
    request: Parsed,
    dep: Deployment,
    result: Extract<Served['result'], { kind: 'stream' }>,
    headers: string[],
  ): Promise<void> {
    const { ctx, endpoint } = this;
    const { res } = s.call;
    const translated = this.viaChat(dep) ? endpoint.viaChat : undefined;
    s.release = result.lease.end;
    ctx.openStreams.add(res);
    res.once('close', () => ctx.openStreams.delete(res));
    const end = await pipeStream(res, result, {
      headers,
      timing: this.timing(s),
      clientWantsUsage: request.clientWantsUsage,
      maxEventBytes: dep.config.max_event_bytes,
      dialect: translated ? 'chat' : (endpoint.sse ?? 'chat'),
      ...(dep.provider.stream ? { translator: dep.provider.stream(dep.config.model) } : {}),
      ...(this.native(dep)
        ? { raw: true }
        : translated
          ? { output: translated.stream() }
          : endpoint.streamOut
            ? { output: endpoint.streamOut() }
            : {}),
      onFirstToken: () => (s.outcome.ttftSeconds = s.elapsed()),
      elapsed: s.elapsed,
      clientGone: s.clientGone,
      ...(s.shadowJob ? { collectText: true } : {}),
    });
    s.outcome.upstreamSeconds = end.upstreamSeconds;
    if (end.usage) s.outcome.usage = end.usage;
    if (end.kind === 'client_gone') throw ApiError.clientClosed();
    if (end.kind === 'failed') {
      // Booked as any failed attempt is (the event), and counted against the deployment's health (its state).
      ctx.events.attemptFailed({ model: dep.routerModel, dep, failure: end.failure }, failureLabel(end.failure));
      recordDeploymentFailure(ctx.deployments, dep, end.failure);
      throw upstreamApiError(end.failure, dep); // headers are gone: it ends as an error event
    }
    s.outcome.status = result.status;
    if (s.shadowJob && end.kind === 'done') s.shadowJob.answer = end.text ?? '';
  }

  private timing(s: Serving): string {
    return `classify;dur=${timingMs(s.decision!.classifySeconds)}`;
  }

  /** The client's error: a JSON error, an error event on a stream already started, or nothing for a client gone. */
  private fail(s: Serving, err: unknown): void {
    const { res } = s.call;
    const apiErr = err instanceof ApiError ? err : ApiError.internal();
    if (!(err instanceof ApiError))
      this.ctx.log.error({ err, request_id: s.requestId }, 'unexpected error serving a request');
    s.outcome.status = apiErr.status;
    if (apiErr.status === 499) res.destroy();
    else if (res.headersSent) sendStreamError(res, apiErr);
    else
      sendApiError(
        res,
        apiErr,
        s.decision ? routingHeaders(s.decision, s.servedBy?.routerModel) : [],
        this.endpoint.errorBody?.(apiErr),
      );
  }

  /** One record per request: metrics, the decision kept for feedback, a sampled shadow evaluation, the log line. */
  private finish(s: Serving): void {
    const { ctx } = this;
    const { decision, servedBy, outcome } = s;
    s.release?.();
    outcome.totalSeconds = s.elapsed();
    if (servedBy && outcome.usage) servedBy.state.recordCompletionTokens(outcome.usage.completion_tokens);
    ctx.events.requestFinished(outcome);
    if (decision && servedBy && outcome.status < 300) {
      // Feedback may name this answer later (POST /v1/feedback); shadow evaluation starts after it is sent.
      const answer = { policy: decision.policy, class: decision.class, model: servedBy.routerModel };
      if (s.requestId)
        ctx.decisions.remember(s.requestId, {
          ...answer,
          cost_usd: outcome.usage ? costUsd(outcome.usage, servedBy.config.price) : 0,
        });
      if (s.shadowJob?.answer !== undefined)
        ctx.shadow!.offer({ ...answer, body: s.shadowJob.body, answer: s.shadowJob.answer });
    }
    ctx.requestLog.write({
      request_id: s.requestId,
      endpoint: this.endpoint.name,
      policy: decision?.policy,
      class: decision?.class,
      model: servedBy?.routerModel ?? decision?.model,
      deployment: servedBy?.config.id,
      status: outcome.status,
      ms: Math.round(outcome.totalSeconds * 1000),
    });
  }
}
