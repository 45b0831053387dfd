// POST /v1/route: the routing decision for a chat body, without calling a model. `model` is the model that would
// really be tried first: the decided one, or the first capable model of its chain when the request needs what the
// decided one lacks (images, tools, json_schema) or its context window is too small (then `decided_model` and
// `fallback_reason` say so), or the model its conversation's session keeps, as POST /v1/chat/completions would do.
import { CHAT } from '../http/endpoints.ts';
import { sendJson } from '../http/errors.ts';
import type { RouteCall } from '../http/route-table.ts';
import { decide } from '../routing/decide.ts';
import { ModelPlanner } from '../routing/model-plan.ts';
import { PromptFacts } from '../routing/prompt-facts.ts';
import type { RouterContext } from './context.ts';

export function routeDecisionHandler(ctx: RouterContext) {
  const planner = new ModelPlanner(CHAT, ctx.deployments.models);
  const header = (req: RouteCall['req'], name: string) => {
    const v = req.headers[name];
    return Array.isArray(v) ? v[0] : v;
  };
  return async ({ req, res, body }: RouteCall) => {
    const request = CHAT.parse(body);
    const target = ctx.resolver.resolve(
      request.body,
      header(req, 'x-router-policy'),
      header(req, 'x-router-threshold'),
    );
    const prompt = new PromptFacts(request);
    let d = await decide(target, prompt, ctx.policies, ctx.events.externalClassifierFailed);
    // A later turn of a conversation: what its session would do (read only: asking does not move the session).
    const session = ctx.sessions.keyOf(
      target.kind === 'policy',
      header(req, 'x-session-id'),
      request.body.user,
      prompt,
    );
    if (session) d = await ctx.sessions.serve(d, session, false);
    const plan = planner.plan(d.model, ctx.policies.get(d.policy), prompt.needs, prompt.tokens);
    const model = plan.models[0]!;
    sendJson(res, 200, {
      policy: d.policy,
      classifier: d.classifier,
      class: d.class,
      confidence: d.confidence,
      ...(d.score !== undefined ? { score: d.score, threshold: d.threshold } : {}),
      ...(d.session ? { session: d.session } : {}),
      ...(d.predicted ? { predicted_class: d.predicted } : {}),
      ...(d.scores ? { complexity: d.scores } : {}),
      model,
      ...(model !== d.model ? { decided_model: d.model, fallback_reason: plan.firstSkip ?? 'fallback' } : {}),
      baseline_model: d.baselineModel,
      deployments: ctx.deployments.deploymentsOf(model).map((dep) => ({
        id: dep.config.id,
        upstream_model: dep.config.model,
        weight: dep.config.weight,
        rpm: dep.config.rpm,
        tpm: dep.config.tpm,
        price: dep.config.price,
      })),
      classify_ms: Number((d.classifySeconds * 1000).toFixed(4)),
    });
  };
}
