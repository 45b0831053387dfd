// POST /v1/feedback {"request_id": "...", "score": 0..1 | true/false | "up"/"down"}: a client's verdict on an
// answer, by the x-request-id the answer carried. Lands in llm_router_feedback_score by the policy, class and
// model that answered (quality/recent-decisions.ts remembers them for feedback.ttl_s).
import { z } from 'zod';
import { apiError, sendJson } from '../http/errors.ts';
import type { RouteCall } from '../http/route-table.ts';
import type { RouterContext } from './context.ts';

const THUMBS: Record<string, number> = { up: 1, thumbs_up: 1, down: 0, thumbs_down: 0 };

const feedbackBody = z
  .object({
    request_id: z.string().min(1).max(200),
    score: z.union([z.number().min(0).max(1), z.boolean(), z.enum(Object.keys(THUMBS) as [string, ...string[]])]),
    /** Free text for the client's own records: not stored, never a label. */
    comment: z.string().max(4000).optional(),
  })
  .strict();

export function feedbackHandler(ctx: RouterContext) {
  return async ({ res, body }: RouteCall) => {
    const parsed = feedbackBody.safeParse(body);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw apiError(
        'invalid_feedback',
        `Invalid feedback: ${issue.path.join('.') || 'body'}: ${issue.message} (send {"request_id": "<the answer's x-request-id>", "score": 0..1, true/false or "up"/"down"})`,
        { param: issue.path.join('.') || null },
      );
    }
    const { request_id: id, score: given } = parsed.data;
    const score = typeof given === 'number' ? given : typeof given === 'boolean' ? Number(given) : THUMBS[given]!;
    const claim = await ctx.decisions.claim(id);
    if (claim.kind === 'unknown')
      throw apiError(
        'feedback_request_not_found',
        `No recent answer has request id "${id}" (answers are remembered for ${ctx.config.feedback.ttl_s} s: feedback.ttl_s)`,
        { param: 'request_id' },
      );
    if (claim.kind === 'already')
      throw apiError('feedback_already_recorded', `The answer "${id}" already has feedback: one score per answer`, {
        param: 'request_id',
      });
    const { policy, class: cls, model } = claim.answer;
    ctx.events.feedbackScored({ policy, class: cls, model }, score);
    sendJson(res, 200, { object: 'feedback', request_id: id, score, policy, class: cls, model });
  };
}
