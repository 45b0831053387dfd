import { z } from 'zod';
import { loadYamlConfig } from '@llm-router/yaml-config';

const distribution = z.object({ mean: z.number().nonnegative(), stddev: z.number().nonnegative().default(0) }).strict();

export const simModelSchema = z
  .object({
    id: z.string().min(1),
    /** Time to first token, milliseconds. */
    ttft_ms: distribution.default({ mean: 300, stddev: 50 }),
    tokens_per_second: distribution.default({ mean: 60, stddev: 10 }),
    output_tokens: z
      .object({
        mean: z.number().positive(),
        stddev: z.number().nonnegative().default(0),
        min: z.number().int().positive().default(1),
        max: z.number().int().positive().default(4096),
      })
      .strict()
      .default({ mean: 200, stddev: 80, min: 1, max: 4096 }),
    context_window: z.number().int().positive().default(128_000),
    /** Requests per minute; 0 = unlimited. Exceeding it answers 429 with retry-after. */
    rpm: z.number().int().nonnegative().default(0),
    /** Tokens (prompt + completion) per minute; 0 = unlimited. */
    tpm: z.number().int().nonnegative().default(0),
    /** Probability of answering 500. */
    error_rate: z.number().min(0).max(1).default(0),
    /** Probability of answering "overloaded" at once, in the API's shape (Anthropic's 529, 503 elsewhere). */
    overload_rate: z.number().min(0).max(1).default(0),
    /** Probability of never answering (the client must time out). */
    hang_probability: z.number().min(0).max(1).default(0),
    /** Probability of stalling: the answer starts (headers, half its body or tokens), then nothing more comes. */
    stall_probability: z.number().min(0).max(1).default(0),
    /**
     * Simulated answer quality in [0, 1] (quality.ts): the chance of a right answer falls as prompts get harder
     * than this. Each answer carries whether it was right as an invisible mark a judge model reads.
     */
    quality: z.number().min(0).max(1).default(0.5),
    /** A judge: given a judge prompt ([Answer A] ... [Answer B] ...), it answers A, B or SAME by the answers' marks. */
    judge: z.boolean().default(false),
    /** Size of the deterministic vectors /v1/embeddings returns. */
    embedding_dims: z.number().int().positive().max(8192).default(256),
  })
  .strict();

export const simConfigSchema = z
  .object({
    /** Seed of the random generator: same seed and same request order give the same answers. */
    seed: z.number().int().default(42),
    /**
     * When set, every request must present this key the way its API sends one (Authorization: Bearer, api-key,
     * x-api-key, x-goog-api-key or ?key=; SigV4-signed Bedrock requests are not checked), else an auth error in the
     * API's shape: for testing how a router handles a wrong key.
     */
    api_key: z.string().min(1).optional(),
    /** Multiplies every simulated delay: 1 = realistic, 0 = instant (tests, throughput benchmarks). */
    time_scale: z.number().nonnegative().default(1),
    models: z.array(simModelSchema).min(1),
  })
  .strict()
  .superRefine((cfg, ctx) => {
    const seen = new Set<string>();
    cfg.models.forEach((m, i) => {
      if (seen.has(m.id))
        ctx.addIssue({ code: 'custom', path: ['models', i, 'id'], message: `duplicate model id "${m.id}"` });
      seen.add(m.id);
    });
  });

export type SimModel = z.output<typeof simModelSchema>;
export type SimConfig = z.output<typeof simConfigSchema>;

export function loadSimConfig(file: string): SimConfig {
  return loadYamlConfig(file, simConfigSchema);
}
