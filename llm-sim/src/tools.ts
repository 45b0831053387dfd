import type { Endpoint, RequestBody } from './endpoints.ts';

/** A function call llm-sim answers with: the tool's name and its arguments as a JSON text. */
export interface ToolCall {
  name: string;
  arguments: string;
}

type Json = Record<string, unknown>;
const obj = (v: unknown): Json => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : {});
const list = (v: unknown): Json[] => (Array.isArray(v) ? v.map(obj) : []);

interface Offered {
  tools: Array<{ name: string; schema: unknown }>;
  /** 'none': never call; 'any': must call; a tool's name: must call that one. */
  choice: 'auto' | 'none' | 'any' | { name: string };
  /** The last turn answers an earlier call (a tool result): the model now answers in text. */
  answered: boolean;
}

/** The tools a request offers, read from each API's own fields (their API references: tools and tool choice). */
function offered(endpoint: Endpoint, body: RequestBody): Offered {
  const b = body as unknown as Json;
  const messages = list(b.messages);
  const last = messages.at(-1) ?? {};
  const named = (name: unknown) => (typeof name === 'string' ? { name } : 'any');
  switch (endpoint) {
    case 'chat': {
      const c = b.tool_choice;
      return {
        tools: list(b.tools).map((t) => ({ name: String(obj(t.function).name), schema: obj(t.function).parameters })),
        choice:
          c === 'none'
            ? 'none'
            : c === 'required'
              ? 'any'
              : c && typeof c === 'object'
                ? named(obj(obj(c).function).name)
                : 'auto',
        answered: last.role === 'tool',
      };
    }
    case 'responses': {
      const c = b.tool_choice;
      return {
        tools: list(b.tools)
          .filter((t) => t.type === 'function')
          .map((t) => ({ name: String(t.name), schema: t.parameters })),
        choice:
          c === 'none' ? 'none' : c === 'required' ? 'any' : c && typeof c === 'object' ? named(obj(c).name) : 'auto',
        answered: list(b.input).at(-1)?.type === 'function_call_output',
      };
    }
    case 'messages': {
      const c = obj(b.tool_choice);
      return {
        // Server tools (web search and the like) have a type and no input schema: llm-sim never calls them.
        tools: list(b.tools)
          .filter((t) => t.input_schema !== undefined)
          .map((t) => ({ name: String(t.name), schema: t.input_schema })),
        choice: c.type === 'none' ? 'none' : c.type === 'any' ? 'any' : c.type === 'tool' ? named(c.name) : 'auto',
        answered: last.role === 'user' && list(last.content).some((p) => p.type === 'tool_result'),
      };
    }
    case 'gemini': {
      const config = obj(obj(b.toolConfig).functionCallingConfig);
      const allowed = Array.isArray(config.allowedFunctionNames) ? config.allowedFunctionNames : [];
      return {
        tools: list(b.tools).flatMap((t) =>
          list(t.functionDeclarations).map((f) => ({
            name: String(f.name),
            schema: f.parametersJsonSchema ?? f.parameters,
          })),
        ),
        choice:
          config.mode === 'NONE'
            ? 'none'
            : config.mode === 'ANY'
              ? allowed.length === 1
                ? named(allowed[0])
                : 'any'
              : 'auto',
        answered: list(obj(list(b.contents).at(-1)).parts).some((p) => p.functionResponse !== undefined),
      };
    }
    case 'converse': {
      const config = obj(b.toolConfig);
      const c = obj(config.toolChoice);
      return {
        tools: list(config.tools)
          .filter((t) => t.toolSpec !== undefined)
          .map((t) => ({ name: String(obj(t.toolSpec).name), schema: obj(obj(t.toolSpec).inputSchema).json })),
        choice: c.any ? 'any' : c.tool ? named(obj(c.tool).name) : 'auto',
        answered: list(last.content).some((p) => p.toolResult !== undefined),
      };
    }
    default:
      return { tools: [], choice: 'none', answered: false };
  }
}

/**
 * The call llm-sim makes, or undefined for a text answer. Deterministic, so tests know what comes back: offered tools
 * and not told otherwise, it calls the named tool or the first one, unless the last turn is a tool's result (then it
 * answers in text, as a model finishing a tool loop does).
 */
export function toolCallFor(endpoint: Endpoint, body: RequestBody): ToolCall | undefined {
  const { tools, choice, answered } = offered(endpoint, body);
  if (tools.length === 0 || choice === 'none' || (answered && choice === 'auto')) return undefined;
  const tool = (typeof choice === 'object' && tools.find((t) => t.name === choice.name)) || tools[0]!;
  return { name: tool.name, arguments: JSON.stringify(sampleValue(tool.schema) ?? {}) };
}

/** A value that fits a JSON schema: the first enum value, "sim" for strings, 1 for numbers, required properties. */
export function sampleValue(schema: unknown, depth = 0): unknown {
  const s = obj(schema);
  if (depth > 8) return null;
  if (Array.isArray(s.enum) && s.enum.length > 0) return s.enum[0];
  if (s.const !== undefined) return s.const;
  const variants = list(s.anyOf ?? s.oneOf);
  if (variants.length > 0) return sampleValue(variants.find((v) => v.type !== 'null') ?? variants[0], depth + 1);
  const type = Array.isArray(s.type) ? (s.type.find((t) => t !== 'null') ?? 'null') : s.type;
  switch (type) {
    case 'string':
      return 'sim';
    case 'number':
    case 'integer':
      return typeof s.minimum === 'number' ? s.minimum : 1;
    case 'boolean':
      return true;
    case 'array':
      return s.items === undefined ? [] : [sampleValue(s.items, depth + 1)];
    case 'null':
      return null;
    default: {
      const properties = obj(s.properties);
      const required = Array.isArray(s.required) ? (s.required as string[]) : Object.keys(properties);
      return Object.fromEntries(
        required.filter((k) => k in properties).map((k) => [k, sampleValue(properties[k], depth + 1)]),
      );
    }
  }
}

/** The arguments' JSON in pieces of a few characters: what a stream sends as argument deltas, one per token. */
export function argumentPieces(call: ToolCall): string[] {
  const pieces: string[] = [];
  for (let i = 0; i < call.arguments.length; i += 4) pieces.push(call.arguments.slice(i, i + 4));
  return pieces.length ? pieces : [''];
}
