// POST /v1/route: the routing decision for a chat body, without calling a model.
import type { Request, Response } from 'express';
import { parseChatRequest } from '../http/chat-request.ts';
import { decide } from '../routing/decide.ts';
import type { RouterContext } from './context.ts';

export function routeDecisionHandler(ctx: RouterContext) {
  return async (req: Request, res: Response) => {
    const body = parseChatRequest(req.body);
    const target = ctx.resolver.resolve(body, req.get('x-router-policy') ?? undefined);
    const d = await decide(target, body.messages, ctx.policies, (policy, reason) =>
      ctx.metrics.externalClassifierFallbacks.inc({ policy, reason }),
    );
    res.json({
      policy: d.policy,
      classifier: d.classifier,
      class: d.class,
      confidence: d.confidence,
      ...(d.predicted ? { predicted_class: d.predicted } : {}),
      ...(d.scores ? { complexity: d.scores } : {}),
      model: d.model,
      baseline_model: d.baselineModel,
      deployments: ctx.deployments.deploymentsOf(d.model).map((dep) => ({
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
