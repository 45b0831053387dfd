// Validation of a chat completion body: only the fields the router relies on; everything else passes
// through to the upstream untouched, as OpenAI-compatible proxies must.
import { z } from 'zod';
import { formatPath } from '@llm-router/yaml-config';
import { apiError } from './errors.ts';

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

/** Whether a parsed JSON value nests deeper than `limit`. Recursion stops at the limit, so it cannot overflow. */
export function jsonDepthExceeds(value: unknown, limit = MAX_JSON_DEPTH): boolean {
  return deeper(value, limit);
}
function deeper(v: unknown, levelsLeft: number): boolean {
  if (v === null || typeof v !== 'object') return false;
  if (levelsLeft === 0) return true;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) if (deeper(v[i], levelsLeft - 1)) return true;
  } else for (const k in v) if (deeper((v as Record<string, unknown>)[k], levelsLeft - 1)) return true;
  return false;
}

/**
 * A request body checked against `schema`, or the OpenAI-shaped 400 that says what is wrong: not an object
 * (`what` names the required fields), nested too deep, or the first schema issue with its `param`.
 */
export function validateBody<S extends z.ZodType>(schema: S, raw: unknown, what: string): z.output<S> {
  if (raw === undefined || raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw apiError('invalid_body', `Request body must be a JSON object with "model" and ${what}`);
  }
  if (jsonDepthExceeds(raw)) {
    throw apiError('json_too_deep', `The JSON body is nested more than ${MAX_JSON_DEPTH} levels deep`);
  }
  const parsed = schema.safeParse(raw, { reportInput: true });
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const param = formatPath(issue.path);
    const missing = issue.code === 'invalid_type' && issue.input === undefined;
    throw missing
      ? apiError('missing_required_parameter', `Missing required parameter: '${param}'`, { param })
      : apiError('invalid_value', `Invalid '${param}': ${issue.message}`, { param });
  }
  return parsed.data;
}

const ROLE_SET: ReadonlySet<unknown> = new Set(ROLES);
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const optional = (v: unknown, ok: (x: unknown) => boolean) => v === undefined || v === null || ok(v);
const positiveInt = (v: unknown) => Number.isSafeInteger(v) && (v as number) > 0;

/**
 * True when `raw` is a chat body the schema accepts as it is, checked without zod: the common shape (messages
 * of known roles with text or typed parts, the usual scalars within range). zod's safeParse was the largest
 * part of the router's own CPU per request. Anything else (including every error) goes through the schema,
 * which stays the one definition of what is valid and of the error messages: this only ever says yes to
 * what it would accept (tested against it on generated bodies).
 */
export function isCommonChatBody(raw: unknown): raw is ChatRequest {
  if (!isObject(raw)) return false;
  const { model, messages, stream, stream_options, max_tokens, max_completion_tokens, temperature, n } = raw;
  if (model !== undefined && typeof model !== 'string') return false;
  if (stream !== undefined && typeof stream !== 'boolean') return false;
  if (!Array.isArray(messages) || messages.length === 0) return false;
  for (const m of messages) {
    if (!isObject(m) || !ROLE_SET.has(m.role)) return false;
    const c = m.content;
    if (c === undefined || c === null || typeof c === 'string') continue;
    if (!Array.isArray(c)) return false;
    for (const part of c) if (!isObject(part) || typeof part.type !== 'string') return false;
  }
  return (
    optional(
      stream_options,
      (o) => isObject(o) && (o.include_usage === undefined || typeof o.include_usage === 'boolean'),
    ) &&
    optional(max_tokens, positiveInt) &&
    optional(max_completion_tokens, positiveInt) &&
    optional(temperature, (t) => typeof t === 'number' && t >= 0 && t <= 2) &&
    optional(n, (x) => Number.isSafeInteger(x) && (x as number) >= 1 && (x as number) <= 128)
  );
}

export const parseChatRequest = (body: unknown): ChatRequest =>
  isCommonChatBody(body) && !jsonDepthExceeds(body) ? body : validateBody(chatRequestSchema, body, '"messages"');
