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

/** Deepest nesting accepted. Real requests (tool schemas included) stay far below; thousands of levels overflow
 * the stack of every recursive JSON walker downstream (JSON.stringify first), so they are refused here. */
export const MAX_JSON_DEPTH = 128;

/** Nesting depth of a parsed JSON value, measured without recursion, stopping past `limit`. */
export function jsonDepthExceeds(value: unknown, limit = MAX_JSON_DEPTH): boolean {
  const stack: Array<[unknown, number]> = [[value, 1]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    if (depth > limit) return true;
    for (const child of Array.isArray(v) ? v : Object.values(v))
      if (child !== null && typeof child === 'object') stack.push([child, depth + 1]);
  }
  return false;
}

/**
 * A request body checked against `schema`, or the OpenAI-shaped 400 that says what is wrong: not an object
 * (`what` names the required fields), nested too deep, or the first schema issue with its `param`.
 */
export function validateBody<S extends z.ZodType>(schema: S, raw: unknown, what: string): z.output<S> {
  if (raw === undefined || raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new ApiError(
      400,
      `Request body must be a JSON object with "model" and ${what}`,
      'invalid_request_error',
      'invalid_body',
    );
  }
  if (jsonDepthExceeds(raw)) {
    throw new ApiError(
      400,
      `The JSON body is nested more than ${MAX_JSON_DEPTH} levels deep`,
      'invalid_request_error',
      'json_too_deep',
    );
  }
  const parsed = schema.safeParse(raw, { reportInput: true });
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const param = formatPath(issue.path);
    const missing = issue.code === 'invalid_type' && issue.input === undefined;
    throw new ApiError(
      400,
      missing ? `Missing required parameter: '${param}'` : `Invalid '${param}': ${issue.message}`,
      'invalid_request_error',
      missing ? 'missing_required_parameter' : 'invalid_value',
      param,
    );
  }
  return parsed.data;
}

export const parseChatRequest = (body: unknown): ChatRequest => validateBody(chatRequestSchema, body, '"messages"');
