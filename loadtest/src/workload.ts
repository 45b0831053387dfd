// What the load generator sends: a prompt mix over task types and complexities, so the router really
// routes differently, optionally long prompts, streaming or not, by model or policy.
import { randomUUID } from 'node:crypto';
import { generatePrompts } from '@llm-router/training/prompt-set';
import { mulberry32 } from '@llm-router/common/prng';
import { NIM_EXTENSION_KEY, POLICY_MODEL_PREFIX } from '@llm-router/common/routing';
import type { RunOptions } from './options.ts';
import { readPromptFile, type ReplayPrompt } from './prompt-file.ts';

export const POLICY_PREFIX = POLICY_MODEL_PREFIX;

/** Seeded PRNG so a run's request sequence is repeatable. */
export const seededRandom = mulberry32;

/** ~150 UUIDs: a prompt of ~1,400 tokens that no cache has seen. */
export function longPrompt(): string {
  const ids = Array.from({ length: 150 }, () => randomUUID()).join(' ');
  return `Summarize the following identifiers and tell me which one appears first: ${ids}`;
}

export interface PlannedRequest {
  /** What the request targets (its `model` or policy): the label used when the router does not say. */
  target: string;
  stream: boolean;
  body: string;
  /** From a prompt file: whether each model answers it right (model -> 0..1). */
  labels?: Record<string, number>;
}

export class Workload {
  private readonly prompts: ReplayPrompt[];
  private readonly targets: Array<[string, number]>;
  private readonly totalWeight: number;
  private readonly random: () => number;

  constructor(private readonly options: RunOptions) {
    this.targets = Object.entries(options.targets);
    this.totalWeight = this.targets.reduce((s, [, w]) => s + w, 0);
    this.random = seededRandom(options.seed);
    this.prompts = options.prompts_file
      ? readPromptFile(options.prompts_file, options.label_models)
      : generatePrompts().map((p) => ({ messages: [{ role: 'user', content: p.text }], labels: {} }));
  }

  targetNames(): string[] {
    return this.targets.map(([t]) => t);
  }

  next(): PlannedRequest {
    let r = this.random() * this.totalWeight;
    let target = this.targets[0]![0];
    for (const [t, w] of this.targets) if ((r -= w) < 0) (target = t), (r = Infinity);
    const stream = this.random() < this.options.stream_ratio;
    const prompt: ReplayPrompt =
      this.random() < this.options.long_prompt_ratio
        ? { messages: [{ role: 'user', content: longPrompt() }], labels: {} }
        : this.prompts[Math.floor(this.random() * this.prompts.length)]!;
    const body: Record<string, unknown> = { model: target, stream, messages: prompt.messages };
    if (stream) body.stream_options = { include_usage: true };
    if (this.options.max_tokens) body.max_tokens = this.options.max_tokens;
    if (this.options.nim_extension && target.startsWith(POLICY_PREFIX)) {
      body.model = '';
      body[NIM_EXTENSION_KEY] = { policy: target.slice(POLICY_PREFIX.length), routing_strategy: 'triton' };
    }
    const labelled = Object.keys(prompt.labels).length > 0;
    return { target, stream, body: JSON.stringify(body), ...(labelled ? { labels: prompt.labels } : {}) };
  }
}
