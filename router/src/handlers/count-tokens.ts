// POST /v1/messages/count_tokens: Anthropic's token counter, estimated the way the router counts a prompt (no
// upstream call); errors in Anthropic's shape.
import { estimatePromptTokens, type ChatMessageLike } from '../classify/prompt-text.ts';
import { anthropicError, parseMessagesRequest, toChatBody } from '../http/anthropic-messages.ts';
import { ApiError, sendApiError, sendJson } from '../http/errors.ts';
import type { RouteCall } from '../http/route-table.ts';

export function countTokens({ res, body }: RouteCall): void {
  try {
    const chat = toChatBody(parseMessagesRequest({ max_tokens: 1, ...(body as object) }));
    sendJson(res, 200, { input_tokens: estimatePromptTokens(chat.messages as ChatMessageLike[]) });
  } catch (err) {
    if (!(err instanceof ApiError)) throw err;
    sendApiError(res, err, [], anthropicError(err));
  }
}
