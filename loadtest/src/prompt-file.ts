// Prompts replayed from a file instead of the built-in templates: JSONL, one request a line, as
// {"prompt": "..."} or {"messages": [...]} (chat), with optional labels of whether each model answers it right:
// {"labels": {"<model>": true | false | 0..1}}, or ../shared/routing-data's {"strong_correct": true,
// "weak_correct": false} with --label-models strong=<model>,weak=<model> naming the models they stand for.
import { readFileSync } from 'node:fs';

export interface ReplayPrompt {
  messages: Array<{ role: string; content: unknown }>;
  /** Model name -> score of its answer (1 right, 0 wrong), where the file says. */
  labels: Record<string, number>;
}

const score = (v: unknown): number | undefined =>
  typeof v === 'boolean' ? Number(v) : typeof v === 'number' && v >= 0 && v <= 1 ? v : undefined;

/** Reads a prompt file; errors name the file, the line and the fix. */
export function readPromptFile(file: string, labelModels: Record<string, string>): ReplayPrompt[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new Error(`prompt file ${file}: ${(err as Error).message}`);
  }
  const out: ReplayPrompt[] = [];
  text.split('\n').forEach((line, i) => {
    if (!line.trim()) return;
    const where = `prompt file ${file}, line ${i + 1}`;
    let row: Record<string, unknown>;
    try {
      row = JSON.parse(line) as Record<string, unknown>;
    } catch {
      throw new Error(`${where}: not JSON (one JSON object a line: {"prompt": "..."} or {"messages": [...]})`);
    }
    const messages =
      typeof row.prompt === 'string'
        ? [{ role: 'user', content: row.prompt }]
        : Array.isArray(row.messages) && row.messages.length > 0
          ? (row.messages as ReplayPrompt['messages'])
          : undefined;
    if (!messages) throw new Error(`${where}: give "prompt" (a string) or "messages" (a non-empty chat array)`);
    const labels: Record<string, number> = {};
    if (row.labels && typeof row.labels === 'object')
      for (const [model, v] of Object.entries(row.labels)) {
        const s = score(v);
        if (s !== undefined) labels[model] = s;
      }
    for (const [name, model] of Object.entries(labelModels)) {
      const s = score(row[`${name}_correct`]);
      if (s !== undefined && labels[model] === undefined) labels[model] = s;
    }
    out.push({ messages, labels });
  });
  if (out.length === 0) throw new Error(`prompt file ${file}: no prompts in it`);
  return out;
}
