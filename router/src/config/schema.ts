import { z } from 'zod';
import { TASK_CLASSES } from '@llm-router/common/task-classes';
import { CAPABILITIES, ENDPOINTS, PROVIDERS, SESSION_MODES, type ProviderName } from './vocabulary.ts';

const price = z
  .object({
    /** USD per 1M prompt tokens. */
    input_per_1m: z.number().nonnegative(),
    /** USD per 1M completion tokens. */
    output_per_1m: z.number().nonnegative(),
    /** USD per 1M prompt tokens read from the provider's prompt cache (default: input_per_1m). */
    cache_read_per_1m: z.number().nonnegative().optional(),
    /** USD per 1M prompt tokens written to it (Anthropic, Bedrock; default: input_per_1m). */
    cache_write_per_1m: z.number().nonnegative().optional(),
  })
  .strict();

const deployment = z
  .object({
    /** Stable id used in metrics and logs (never the URL or key). */
    id: z.string().regex(/^[A-Za-z0-9_.:-]+$/, 'use letters, digits, _ . : -'),
    /** The API it speaks (providers/): openai (OpenAI-compatible: OpenAI, vLLM, NIM, llm-sim) or anthropic (Messages). */
    provider: z.enum(PROVIDERS).default('openai'),
    /** Base URL, e.g. http://127.0.0.1:8000/v1 (anthropic: https://api.anthropic.com/v1) */
    api_base: z.url({ protocol: /^https?$/ }),
    /** Usually ${ENV_VAR}; sent as "Authorization: Bearer" (anthropic: x-api-key). */
    api_key: z.string().optional(),
    /** anthropic: the anthropic-version header. */
    anthropic_version: z.string().default('2023-06-01'),
    /** azure: the api-version query parameter, or "v1" for the /openai/v1 form (api_base ending in /openai/v1). */
    api_version: z.string().default('2024-10-21'),
    /** azure: the Azure deployment name (default: `model`). */
    azure_deployment: z.string().optional(),
    /** bedrock: SigV4 credentials (usually ${ENV_VAR}s) and region (default: from api_base's host); or an api_key. */
    aws_region: z.string().optional(),
    aws_access_key_id: z.string().optional(),
    aws_secret_access_key: z.string().optional(),
    aws_session_token: z.string().optional(),
    /** The model name the upstream expects. */
    model: z.string().min(1),
    price,
    rpm: z.number().int().nonnegative().default(0),
    tpm: z.number().int().nonnegative().default(0),
    /** Whole-request timeout, milliseconds. */
    timeout_ms: z.number().int().positive().default(120_000),
    weight: z.number().positive().default(1),
    max_connections: z.number().int().positive().default(256),
    /** Largest non-stream answer read from this deployment; past it the attempt fails (502), memory stays bounded. */
    max_response_bytes: z
      .number()
      .int()
      .positive()
      .default(32 * 1024 * 1024),
    /** Largest single server-sent event of a stream (UTF-8 bytes); past it the stream ends with an error event. */
    max_event_bytes: z
      .number()
      .int()
      .positive()
      .default(8 * 1024 * 1024),
    /** Ask for usage on streams (stream_options.include_usage) so they are costed. Set false for a provider
     * that rejects the field; the router also turns it off by itself after such a rejection. */
    stream_include_usage: z.boolean().default(true),
  })
  .strict();

export const BALANCING_STRATEGIES = [
  'weighted_random',
  'least_in_flight',
  'latency_aware',
  'headroom',
  'lowest_cost',
] as const;

const model = z
  .object({
    name: z.string().regex(/^[A-Za-z0-9_.:/-]+$/, 'use letters, digits, _ . : / -'),
    description: z.string().optional(),
    context_window: z.number().int().positive().optional(),
    /** What the model takes beyond text (vision: image parts, tools, json_schema: response_format json_schema).
     * Requests that need one never go to a model that declares capabilities without it. Absent: anything. */
    capabilities: z.array(z.enum(CAPABILITIES)).optional(),
    /** OpenAI endpoints its deployments serve: chat (/v1/chat/completions), completions, responses, embeddings. */
    endpoints: z.array(z.enum(ENDPOINTS)).min(1).default(['chat']),
    /** How requests are spread over the deployments. */
    strategy: z.enum(BALANCING_STRATEGIES).default('weighted_random'),
    /** Models tried, in order, when every deployment of this one failed or is unavailable. */
    fallbacks: z.array(z.string()).default([]),
    deployments: z.array(deployment).min(1),
  })
  .strict();

const resilience = z
  .object({
    /** Extra attempts on other deployments of the same model before falling back. */
    retries: z.number().int().min(0).max(10).default(2),
    /** First retry waits about this long; each next one doubles (with jitter). */
    backoff_ms: z.number().int().min(0).default(50),
    /** Total time budget for one request's attempts, the first one included (retries and fallbacks come out of it). */
    max_retry_ms: z.number().int().positive().default(30_000),
    cooldown: z
      .object({
        /** Consecutive failures (429, 5xx, timeouts, connection errors, unusable answers) that cool a deployment down... */
        allowed_fails: z.number().int().positive().default(5),
        /** ...or this share of failures over window_s, once it has seen min_requests there... */
        failure_ratio: z.number().gt(0).max(1).default(0.5),
        min_requests: z.number().int().positive().default(20),
        window_s: z.number().positive().default(60),
        /** ...for this long. A model's last healthy deployment is only taken out when it fails nearly always
         * (last_deployment_ratio over the window, and allowed_fails in a row): a client would rather have the
         * answers that succeed than a 503 for all. */
        duration_s: z.number().positive().default(30),
        last_deployment_ratio: z.number().gt(0).max(1).default(0.9),
      })
      .strict()
      .prefault({}),
    connect_timeout_ms: z.number().int().positive().default(5_000),
    /** Time to the upstream's response headers (for streams: the first byte). */
    first_byte_timeout_ms: z.number().int().positive().default(60_000),
    /** Longest silence between two chunks of a stream. */
    stream_idle_timeout_ms: z.number().int().positive().default(30_000),
  })
  .strict();
const RESILIENCE_DEFAULTS = resilience.parse({});

/**
 * Where rpm/tpm windows and cooldowns live. memory: in this process (each replica enforces the whole limit).
 * redis: shared by every replica and worker that names the same Redis and key_prefix. Written so one file serves
 * both (backend: ${ROUTER_STATE:-memory}); numbers may come from the environment as text.
 */
const state = z
  .object({
    backend: z.enum(['memory', 'redis']).default('memory'),
    /** redis://[user:password@]host:port[/db]; usually ${REDIS_URL}. Never logged with its password. */
    url: z
      .url({ protocol: /^rediss?$/, error: 'use redis://[user:password@]host:port[/db] (or rediss:// for TLS)' })
      .optional(),
    /** Prepended to every key and channel: routers with different prefixes do not share. */
    key_prefix: z.string().min(1).default('llm-router:'),
    /** Router replicas sharing the limits: while Redis is unreachable each enforces limit / (replicas x workers). */
    replicas: z.coerce.number().int().min(1).default(1),
    /** A Redis command slower than this counts as Redis unreachable; the request goes on with local limits. */
    timeout_ms: z.coerce.number().int().positive().default(100),
  })
  .strict()
  .superRefine((s, ctx) => {
    if (s.backend === 'redis' && !s.url)
      ctx.addIssue({
        code: 'custom',
        path: ['url'],
        message: 'backend redis needs a url, e.g. redis://127.0.0.1:6379',
      });
  })
  .prefault({});

const auth = z
  .object({
    /** Client keys accepted as "Authorization: Bearer <key>". Empty: no auth. The name is what logs and metrics show. */
    api_keys: z
      .array(
        z
          .object({
            name: z.string().regex(/^[A-Za-z0-9_.-]+$/),
            key: z.string().min(8, 'use a key of at least 8 characters'),
          })
          .strict(),
      )
      .default([]),
  })
  .strict();

/**
 * A classifier served over the KServe v2 / Triton HTTP protocol (NVIDIA's blueprint: routing_strategy "triton").
 * Written as the policy's `classifier: {kind: kserve_v2, ...}`; on error or timeout the built-in one answers.
 */
const externalClassifier = z
  .object({
    kind: z.literal('kserve_v2'),
    /** Base URL of the inference server, e.g. http://triton:8000 */
    url: z.url({ protocol: /^https?$/ }),
    model: z.string().min(1),
    timeout_ms: z.number().int().positive().default(100),
    /** What its answer means: task classes (routes by class) or complexity (tiers, or NVIDIA's six dimensions). */
    classes: z.enum(['task', 'complexity']).default('task'),
    input: z.string().min(1).default('INPUT'),
    output: z.string().min(1).default('OUTPUT'),
    /** Labels in the order of the output's scores; default: the task classes, or the tier names. */
    labels: z.array(z.string().min(1)).min(1).optional(),
  })
  .strict();

/** `classifier: {kind: kserve_v2, classes, ...}` becomes `classifier: <classes>` plus `external: {...}`. */
const liftExternalClassifier = (p: unknown) => {
  if (!p || typeof p !== 'object' || Array.isArray(p)) return p;
  const c = (p as { classifier?: unknown }).classifier;
  if (!c || typeof c !== 'object' || Array.isArray(c)) return p;
  const classes = (c as { classes?: unknown }).classes;
  return { ...p, classifier: typeof classes === 'string' ? classes : 'task', external: c };
};

/**
 * Shadow evaluation (quality/shadow.ts): for a sample of the policy's answers from a cheaper model than
 * `reference_model`, after the client has its answer, ask the reference model the same request and `judge_model`
 * which answer is better (both orders). Never delays or changes the client's request; capped in calls and spend.
 */
const shadowSchema = z
  .object({
    sample_rate: z.number().min(0).max(1),
    reference_model: z.string(),
    judge_model: z.string(),
    max_per_minute: z.number().int().positive().default(30),
    max_usd_per_hour: z.number().positive().default(1),
    /** Sampled answers waiting for their evaluation; more are dropped (counted). */
    queue: z.number().int().positive().default(50),
    /** Evaluations running at once for the policy (each is a reference answer and two judge calls). */
    concurrency: z.number().int().positive().max(64).default(4),
  })
  .strict();

/** Providers whose APIs serve chat only (by translation), by the name of their API. */
const CHAT_ONLY_APIS: Partial<Record<ProviderName, string>> = {
  anthropic: "Anthropic's Messages",
  gemini: "Gemini's generateContent",
  bedrock: "Bedrock's Converse",
};

const policyCommon = {
  name: z.string().regex(/^[A-Za-z0-9_-]+$/, 'use letters, digits, _ -'),
  description: z.string().optional(),
  /** class -> model name */
  routes: z.record(z.string(), z.string()),
  /** Model for classes without a route (and for empty prompts). */
  default: z.string(),
  /** What the request would have cost without routing; default: the policy's most expensive model. */
  baseline_model: z.string().optional(),
  /** Tried after the chosen model's own fallbacks. */
  fallbacks: z.array(z.string()).default([]),
  /** Classifications less confident than this get the class "uncertain" and go to `uncertain`. 0: never. */
  min_confidence: z.number().min(0).max(1).default(0),
  /** Model for uncertain classifications; default: the policy's `default`. */
  uncertain: z.string().optional(),
  /** Set from `classifier: {kind: kserve_v2, ...}`. */
  external: externalClassifier.optional(),
  shadow: shadowSchema.optional(),
};

const taskPolicy = z.object({ ...policyCommon, classifier: z.literal('task') }).strict();
const complexityPolicy = z
  .object({
    ...policyCommon,
    classifier: z.literal('complexity'),
    /** Ascending: a request belongs to the first tier whose max_score is >= its overall score. */
    tiers: z.array(z.object({ name: z.string().min(1), max_score: z.number().min(0).max(1) }).strict()).min(1),
  })
  .strict();

/**
 * Routes on the strong-need score (classify/strong-need.ts): the probability that the cheapest model would get a
 * prompt wrong where the strongest gets it right. `models` cheapest first; a prompt goes to the last model whose
 * threshold its score reaches (`thresholds`: one per model after the first, ascending). Classes: weak, mid_1, ...,
 * strong. A request may set the strong model's threshold itself (router/<policy>@0.3, or x-router-threshold).
 */
const qualityPolicy = z
  .object({
    name: policyCommon.name,
    description: policyCommon.description,
    classifier: z.literal('quality'),
    models: z.array(z.string()).min(2, 'name at least two models, cheapest first'),
    thresholds: z.array(z.number().min(0).max(1)),
    baseline_model: policyCommon.baseline_model,
    fallbacks: policyCommon.fallbacks,
    shadow: policyCommon.shadow,
  })
  .strict()
  .superRefine((p, ctx) => {
    if (p.thresholds.length !== p.models.length - 1)
      ctx.addIssue({
        code: 'custom',
        path: ['thresholds'],
        message: `give one threshold per model after the first: ${p.models.length - 1} for ${p.models.length} models`,
      });
    p.thresholds.forEach((t, j) => {
      if (j > 0 && t < p.thresholds[j - 1]!)
        ctx.addIssue({ code: 'custom', path: ['thresholds', j], message: 'thresholds must be ascending' });
    });
  })
  // The shape the other policies have: one class per model, the cheapest as the default.
  .transform((p) => {
    const classes = qualityClasses(p.models.length);
    return {
      ...p,
      routes: Object.fromEntries(classes.map((c, i) => [c, p.models[i]!])),
      default: p.models[0]!,
      min_confidence: 0,
    };
  });

/** Class names of a quality policy's models, cheapest first: weak, mid_1 ... mid_n, strong. */
export function qualityClasses(models: number): string[] {
  return Array.from({ length: models }, (_, i) => (i === 0 ? 'weak' : i === models - 1 ? 'strong' : `mid_${i}`));
}

const routerConfigFields = z
  .object({
    server: z
      .object({
        host: z.string().default('127.0.0.1'),
        port: z.number().int().min(0).max(65535).default(4000),
        /** Largest accepted request body. */
        max_body_bytes: z
          .number()
          .int()
          .positive()
          .default(4 * 1024 * 1024),
        /** Router processes sharing the port (node:cluster); metrics are aggregated across them. */
        workers: z.number().int().min(1).max(256).default(1),
        /** A connection that has no request in progress is closed after this long without a byte. */
        idle_timeout_ms: z.number().int().positive().default(30_000),
        /** A request (headers and body) must arrive in full within this long, or it gets a 408 and its connection
         * is closed: a client trickling a body cannot hold a connection and its body bytes for minutes. */
        request_timeout_ms: z.number().int().positive().default(60_000),
        /** On SIGTERM: /ready answers 503 at once; new connections are still taken for this long (so load
         * balancers notice), then refused; requests in progress get up to drain_timeout_ms to finish. */
        drain_delay_ms: z.coerce.number().int().min(0).default(0),
        drain_timeout_ms: z.coerce.number().int().positive().default(30_000),
        /** Open client connections at most (new ones are refused past it). 0: the open-files limit less 64. */
        max_connections: z.number().int().min(0).default(0),
        /** Request body bytes held at once, over all requests; past it a request gets a fast 503 (retry-after). */
        max_body_bytes_in_flight: z
          .number()
          .int()
          .positive()
          .default(64 * 1024 * 1024),
        /** Upstream answer bytes held at once, over all requests (each is also bounded by its deployment's
         * max_response_bytes); past it an answer being read is dropped and the client gets a fast 503. */
        max_response_bytes_in_flight: z
          .number()
          .int()
          .positive()
          .default(256 * 1024 * 1024),
        /** Browser clients: origins allowed to call the API ("*" for any), answered with CORS headers and preflights. */
        cors: z
          .object({
            allowed_origins: z.array(z.string().min(1)).default([]),
            max_age_s: z.number().int().nonnegative().default(600),
          })
          .strict()
          .prefault({}),
      })
      .strict()
      .prefault({}),
    models: z.array(model).min(1),
    policies: z
      .array(
        z.preprocess(
          liftExternalClassifier,
          z.discriminatedUnion('classifier', [taskPolicy, complexityPolicy, qualityPolicy]),
        ),
      )
      .default([]),
    /** Extra names clients may send as `model`: alias -> "router/<policy>" or a model name. */
    aliases: z.record(z.string(), z.string()).default({}),
    resilience: resilience.default(RESILIENCE_DEFAULTS),
    auth: auth.default({ api_keys: [] }),
    state,
    /** Conversations keep their model (routing/sessions.ts): a later turn of a policy-routed conversation is
     * served by the model its session has, or a pricier one (mode up), or always the same (pin). */
    /** Feedback on answers (POST /v1/feedback): how long, and how many, answers' routing decisions are remembered. */
    feedback: z
      .object({
        ttl_s: z.number().positive().default(3600),
        /** Per router process (least recent go first); Redis keeps its own for ttl_s when state is shared. */
        max_decisions: z.number().int().positive().default(100_000),
      })
      .strict()
      .prefault({}),
    sessions: z
      .object({
        mode: z.enum(SESSION_MODES).default('up'),
        /** A session is forgotten this long after its last turn. */
        ttl_s: z.number().positive().default(1800),
        /** Sessions remembered in each router process (least recently used go first); Redis keeps its own. */
        max_sessions: z.number().int().positive().default(10_000),
      })
      .strict()
      .prefault({}),
  })
  .strict();

type Fields = z.output<typeof routerConfigFields>;
type Issues = z.RefinementCtx;
const issue = (ctx: Issues, path: PropertyKey[], message: string) => ctx.addIssue({ code: 'custom', path, message });

/** Model names and deployment ids are unique; chat-only APIs serve chat only. Returns the model names. */
function checkModels(cfg: Fields, ctx: Issues): Set<string> {
  const modelNames = new Set<string>();
  const deploymentIds = new Set<string>();
  cfg.models.forEach((m, i) => {
    if (modelNames.has(m.name)) issue(ctx, ['models', i, 'name'], `duplicate model name "${m.name}"`);
    modelNames.add(m.name);
    m.deployments.forEach((d, j) => {
      if (deploymentIds.has(d.id))
        issue(ctx, ['models', i, 'deployments', j, 'id'], `duplicate deployment id "${d.id}"`);
      deploymentIds.add(d.id);
      // Anthropic's and Gemini's APIs serve chat only (through translation).
      if (d.provider in CHAT_ONLY_APIS)
        m.endpoints.forEach((e, k) => {
          if (e !== 'chat')
            issue(
              ctx,
              ['models', i, 'endpoints', k],
              `deployment "${d.id}" speaks ${CHAT_ONLY_APIS[d.provider]} API, which serves chat only: remove "${e}" from this model's endpoints, or give it OpenAI-compatible deployments`,
            );
        });
    });
  });
  return modelNames;
}

/** A policy's classes: its routes and its external classifier's labels must be among them; tiers ascend to 1. */
function checkClasses(p: Fields['policies'][number], i: number, ctx: Issues, checkModel: ModelCheck): void {
  if (p.classifier === 'quality') return;
  const classes: readonly string[] = p.classifier === 'task' ? TASK_CLASSES : p.tiers.map((t) => t.name);
  const notAClass = (c: string) =>
    `"${c}" is not a class of the ${p.classifier} classifier (classes: ${classes.join(', ')})`;
  p.external?.labels?.forEach((l, j) => {
    if (!classes.includes(l)) issue(ctx, ['policies', i, 'classifier', 'labels', j], notAClass(l));
  });
  for (const [cls, target] of Object.entries(p.routes)) {
    checkModel(target, ['policies', i, 'routes', cls]);
    if (!classes.includes(cls)) issue(ctx, ['policies', i, 'routes', cls], notAClass(cls));
  }
  if (p.classifier !== 'complexity') return;
  p.tiers.forEach((t, j) => {
    if (j > 0 && t.max_score <= p.tiers[j - 1]!.max_score)
      issue(ctx, ['policies', i, 'tiers', j, 'max_score'], 'tiers must be in ascending max_score order');
  });
  if (p.tiers.at(-1)!.max_score < 1)
    issue(
      ctx,
      ['policies', i, 'tiers', p.tiers.length - 1, 'max_score'],
      'the last tier must have max_score: 1 so every score has a tier',
    );
}

type ModelCheck = (name: string, path: PropertyKey[]) => void;

/** Policy names are unique and every model a policy names exists. Returns the policy names. */
function checkPolicies(cfg: Fields, ctx: Issues, checkModel: ModelCheck): Set<string> {
  const policyNames = new Set<string>();
  cfg.policies.forEach((p, i) => {
    if (policyNames.has(p.name)) issue(ctx, ['policies', i, 'name'], `duplicate policy name "${p.name}"`);
    policyNames.add(p.name);
    checkModel(p.default, ['policies', i, 'default']);
    for (const [j, f] of p.fallbacks.entries()) checkModel(f, ['policies', i, 'fallbacks', j]);
    if (p.baseline_model) checkModel(p.baseline_model, ['policies', i, 'baseline_model']);
    if (p.shadow) {
      checkModel(p.shadow.reference_model, ['policies', i, 'shadow', 'reference_model']);
      checkModel(p.shadow.judge_model, ['policies', i, 'shadow', 'judge_model']);
    }
    if (p.classifier === 'quality')
      for (const [j, m] of p.models.entries()) checkModel(m, ['policies', i, 'models', j]);
    else if (p.uncertain) checkModel(p.uncertain, ['policies', i, 'uncertain']);
    checkClasses(p, i, ctx, checkModel);
  });
  return policyNames;
}

/** What the config's parts say about each other: names unique, every reference to something defined. */
function checkReferences(cfg: Fields, ctx: Issues): void {
  const modelNames = checkModels(cfg, ctx);
  const known = [...modelNames].join(', ');
  const checkModel: ModelCheck = (name, path) => {
    if (!modelNames.has(name)) issue(ctx, path, `unknown model "${name}" (defined models: ${known})`);
  };
  cfg.models.forEach((m, i) => {
    for (const [j, f] of m.fallbacks.entries()) checkModel(f, ['models', i, 'fallbacks', j]);
  });
  const keyNames = new Set<string>();
  cfg.auth.api_keys.forEach((k, i) => {
    if (keyNames.has(k.name)) issue(ctx, ['auth', 'api_keys', i, 'name'], `duplicate key name "${k.name}"`);
    keyNames.add(k.name);
  });
  const policyNames = checkPolicies(cfg, ctx, checkModel);
  for (const [alias, target] of Object.entries(cfg.aliases)) {
    const policy = target.startsWith('router/') ? target.slice('router/'.length).replace(/@[^@]*$/, '') : null;
    if (policy !== null ? !policyNames.has(policy) : !modelNames.has(target))
      issue(
        ctx,
        ['aliases', alias],
        `alias target "${target}" is neither a model nor router/<policy> (policies: ${[...policyNames].join(', ')})`,
      );
  }
}

export const routerConfigSchema = routerConfigFields.superRefine(checkReferences);

export type RouterConfig = z.output<typeof routerConfigSchema>;
export type ModelConfig = RouterConfig['models'][number];
export type DeploymentConfig = ModelConfig['deployments'][number];
export type PolicyConfig = RouterConfig['policies'][number];
export type ExternalClassifierConfig = z.output<typeof externalClassifier>;
export type ResilienceConfig = RouterConfig['resilience'];
export type BalancingStrategy = (typeof BALANCING_STRATEGIES)[number];
export type StateConfig = RouterConfig['state'];
