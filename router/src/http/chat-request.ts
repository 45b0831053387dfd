// Validation of a chat completion body: only the fields the router relies on; everything else passes
// through to the upstream untouched, as OpenAI-compatible proxies must.
import { z } from 'zod';
import { formatPath } from '@llm-router/yaml-config';
import { ApiError } from './errors.ts';

const ROLES = ['system', 'developer', 'user', 'assistant', 'tool', 'function'] as const;

const message = z.looseObject({
  role: z.enum(ROLES),
  content: z.union([z.string(), z.array(z.looseObject({ type: z.string() })), z.null()]).optional(),
});

export const chatRequestSchema = z.looseObject({
  model: z.string().optional(),
  messages: z.array(message).min(1, "'messages' must contain at least one message"),
  stream: z.boolean().optional(),
  stream_options: z.looseObject({ include_usage: z.boolean().optional() }).nullable().optional(),
  max_tokens: z.number().int().positive().nullable().optional(),
  max_completion_tokens: z.number().int().positive().nullable().optional(),
  temperature: z.number().min(0).max(2).nullable().optional(),
  n: z.number().int().min(1).max(128).nullable().optional(),
});
export type ChatRequest = z.output<typeof chatRequestSchema>;

export function parseChatRequest(body: unknown): ChatRequest {
  if (body === undefined || body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new ApiError(400, 'Request body must be a JSON object with "model" and "messages"', 'invalid_request_error', 'invalid_body');
  }
  const parsed = chatRequestSchema.safeParse(body, { reportInput: true });
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const param = formatPath(issue.path);
    const message = issue.code === 'invalid_type' && issue.input === undefined ? `Missing required parameter: '${param}'` : `Invalid '${param}': ${issue.message}`;
    throw new ApiError(400, message, 'invalid_request_error', issue.code === 'invalid_type' && issue.input === undefined ? 'missing_required_parameter' : 'invalid_value', param);
  }
  return parsed.data;
}
