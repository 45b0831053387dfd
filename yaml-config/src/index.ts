// One loader for every YAML config in the project, so every config error reads the same way:
// "<file>: <path>: <what is wrong>. Fix: <how>".
import { readFileSync } from 'node:fs';
import { parseDocument } from 'yaml';
import type { z } from 'zod';

export class ConfigError extends Error {
  constructor(
    readonly file: string,
    readonly problems: string[],
  ) {
    super(`Invalid config ${file}:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

/** Matches ${VAR} and ${VAR:-default}. */
const ENV_REF = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

/**
 * Replace ${VAR} / ${VAR:-default} inside string scalars. Done on parsed values (not raw text) so a
 * secret containing YAML syntax cannot change the document's shape. Missing variables are collected.
 */
function substituteEnv(value: unknown, env: NodeJS.ProcessEnv, path: string, missing: string[] | null): unknown {
  if (typeof value === 'string') {
    return value.replace(ENV_REF, (_m, name: string, fallback: string | undefined) => {
      const v = env[name];
      if (v !== undefined && v !== '') return v;
      if (fallback !== undefined) return fallback;
      missing?.push(
        `${path}: environment variable ${name} is not set. Fix: export ${name}=... or write \${${name}:-default}`,
      );
      return '';
    });
  }
  if (Array.isArray(value)) return value.map((v, i) => substituteEnv(v, env, `${path}[${i}]`, missing));
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, substituteEnv(v, env, path ? `${path}.${k}` : k, missing)]),
    );
  }
  return value;
}

export function formatPath(path: ReadonlyArray<PropertyKey>): string {
  let out = '';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : out ? `.${String(p)}` : String(p);
  return out || '(root)';
}

/** Turn a zod issue into "path: message. Fix: ..." with a hint a person can act on. */
function describeIssue(issue: z.core.$ZodIssue): string {
  const where = formatPath(issue.path);
  let fix = '';
  switch (issue.code) {
    case 'invalid_type':
      fix = issue.input === undefined ? `add the required key` : `give a value of type ${issue.expected}`;
      break;
    case 'unrecognized_keys':
      fix = `remove or rename ${issue.keys.map((k) => `"${k}"`).join(', ')} (check spelling)`;
      break;
    case 'invalid_value':
      fix = `use one of: ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
      break;
    case 'too_small':
      fix = `use a value >= ${String(issue.minimum)}`;
      break;
    case 'too_big':
      fix = `use a value <= ${String(issue.maximum)}`;
      break;
    default:
      fix = 'see the example configs in config/';
  }
  return `${where}: ${issue.message}. Fix: ${fix}`;
}

export interface LoadOptions {
  env?: NodeJS.ProcessEnv;
  /** Substitute '' for unset variables instead of failing (for tools that read only part of a config). */
  allowMissingEnv?: boolean;
}

/** Parse YAML text already read from `file` (kept separate so tests need no files). */
export function parseYamlConfig<S extends z.ZodType>(
  file: string,
  text: string,
  schema: S,
  options: LoadOptions = {},
): z.output<S> {
  const doc = parseDocument(text, { prettyErrors: true });
  if (doc.errors.length > 0) {
    throw new ConfigError(
      file,
      doc.errors.map((e) => `YAML syntax: ${e.message.split('\n')[0]}. Fix: correct the YAML at that line`),
    );
  }
  const missing: string[] = [];
  const raw = substituteEnv(doc.toJS() ?? {}, options.env ?? process.env, '', options.allowMissingEnv ? null : missing);
  if (missing.length > 0) throw new ConfigError(file, missing);
  const parsed = schema.safeParse(raw, { reportInput: true });
  if (!parsed.success) throw new ConfigError(file, parsed.error.issues.map(describeIssue));
  return parsed.data;
}

export function loadYamlConfig<S extends z.ZodType>(file: string, schema: S, options: LoadOptions = {}): z.output<S> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(file, [
      `cannot read file (${(err as NodeJS.ErrnoException).code ?? String(err)}). Fix: check the path`,
    ]);
  }
  return parseYamlConfig(file, text, schema, options);
}
export { parseCommandLine } from './command-line.ts';
