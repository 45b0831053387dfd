// Options of one load run: the CLI and the web UI both produce these.
import { z } from 'zod';

/** "90s", "2m", "500ms", "1h" or a number of seconds -> seconds. */
export function parseDuration(text: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h)?$/.exec(text.trim());
  if (!m) throw new Error(`invalid duration "${text}" (use e.g. 30s, 2m, 500ms)`);
  const n = Number(m[1]);
  return { ms: n / 1000, s: n, m: n * 60, h: n * 3600 }[(m[2] ?? 's') as 'ms' | 's' | 'm' | 'h'];
}

export const runOptionsSchema = z
  .object({
    /** Target base URL; several, comma-separated (router replicas), share the requests in turn. */
    host: z
      .string()
      .refine(
        (h) => h.split(',').every((u) => URL.canParse(u.trim()) && /^https?:$/.test(new URL(u.trim()).protocol)),
        {
          message: 'use http(s)://host:port, or several separated by commas',
        },
      )
      .default('http://127.0.0.1:4000'),
    /** Closed loop: simulated users, each waiting think time between requests. */
    users: z.number().int().min(1).max(100_000).default(10),
    /** Users started per second. */
    spawn_rate: z.number().positive().default(5),
    /** Open loop: requests per second at a constant arrival rate (users then only caps concurrency). */
    rate: z.number().positive().optional(),
    /** Absent: until stopped (the web UI, as Locust does); the headless CLI always bounds a run (30 s by default). */
    duration_s: z.number().positive().max(86_400).optional(),
    max_requests: z.number().int().positive().optional(),
    /** Think time between a user's requests, seconds (like Locust's between(0.5, 1)). */
    think_time_s: z.tuple([z.number().min(0), z.number().min(0)]).default([0.5, 1]),
    /** What to send as `model`, with weights: {"router/task_router": 2, "llama-3.1-8b-instruct": 1}. */
    targets: z
      .record(z.string(), z.number().positive())
      .default({ 'router/task_router': 1, 'router/complexity_router': 1 }),
    /** Send policies through NVIDIA's "nim-llm-router" body extension instead of model: router/<policy>. */
    nim_extension: z.boolean().default(false),
    /** Fraction of requests sent with stream: true. */
    stream_ratio: z.number().min(0).max(1).default(0.5),
    /** Fraction of requests with a long prompt (~150 repeated UUIDs: defeats prompt caches). */
    long_prompt_ratio: z.number().min(0).max(1).default(0),
    max_tokens: z.number().int().positive().optional(),
    api_key: z.string().optional(),
    /** Per-request client timeout. */
    timeout_s: z.number().positive().default(120),
    /** At the deadline (or a stop), requests still in flight get this long to finish; then they are cut (counted as cut, not failed). */
    grace_s: z.number().min(0).max(600).default(2),
    seed: z.number().int().default(1),
    /** Replay the prompts of this JSONL file (prompt-file.ts) instead of the built-in templates. */
    prompts_file: z.string().min(1).optional(),
    /**
     * What a prompt file's "<name>_correct" labels stand for: name -> model (routing-data: strong = GPT-4, weak =
     * Mixtral, played here by the router's strongest and cheapest models).
     */
    label_models: z
      .record(z.string(), z.string())
      .default({ strong: 'llama-3.1-405b-instruct', weak: 'llama-3.1-8b-instruct' }),
    /** With labels: post each answer's label as feedback (POST /v1/feedback) for the model that served it. */
    feedback: z.boolean().default(true),
  })
  .strict();

export type RunOptions = z.output<typeof runOptionsSchema>;
export type RunOptionsInput = z.input<typeof runOptionsSchema>;
