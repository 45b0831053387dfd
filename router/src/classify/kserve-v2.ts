// An external classifier over the KServe v2 / Triton HTTP inference protocol — how NVIDIA's LLM Router
// blueprint serves its prompt-task-and-complexity classifier (routing_strategy "triton"). The prompt goes in
// as one BYTES tensor; the answer is read as:
//   - a BYTES tensor: the class label itself;
//   - a numeric tensor with one score per label (the blueprint's task router): argmax, its probability as the
//     confidence (softmax when the scores are not probabilities);
//   - for complexity: NVIDIA's six dimension outputs (creativity_scope, reasoning, contextual_knowledge,
//     domain_knowledge, constraint_ct, number_of_few_shots), or prompt_complexity_score alone.
// Every failure (timeout, refused, HTTP error, an answer of the wrong shape) is an error the policy turns
// into a fallback to the built-in classifier.
import { Pool } from 'undici';
import type { ComplexityDimension } from './complexity.ts';

export interface KServeConfig {
  url: string;
  model: string;
  timeout_ms: number;
  /** Input tensor name. */
  input: string;
  /** Output tensor with the label or the scores. */
  output: string;
  /** The labels, in the order of the output's scores. */
  labels?: string[] | undefined;
}

export type ExternalFailure = 'timeout' | 'unavailable' | 'http_error' | 'malformed';

export class ExternalClassifierError extends Error {
  constructor(
    readonly reason: ExternalFailure,
    message: string,
  ) {
    super(message);
  }
}

export interface ExternalAnswer {
  label?: string;
  confidence: number;
  /** Complexity dimensions when the server returns them. */
  dimensions?: Partial<Record<ComplexityDimension, number>>;
  overall?: number;
}

interface V2Tensor {
  name?: unknown;
  datatype?: unknown;
  shape?: unknown;
  data?: unknown;
}

/** NVIDIA's output names for the six dimensions. */
const NVIDIA_DIMENSIONS: Record<string, ComplexityDimension> = {
  creativity_scope: 'creativity',
  reasoning: 'reasoning',
  contextual_knowledge: 'contextual_knowledge',
  domain_knowledge: 'domain_knowledge',
  constraint_ct: 'constraints',
  number_of_few_shots: 'few_shot',
};

const flat = (data: unknown): unknown[] => (Array.isArray(data) ? data.flat(Infinity as 1) : []);

export class KServeV2Classifier {
  private readonly pool: Pool;
  private readonly inferPath: string;
  readonly base: URL;

  constructor(
    readonly config: KServeConfig,
    private readonly defaultLabels: readonly string[],
  ) {
    this.base = new URL(config.url);
    this.pool = new Pool(this.base.origin, {
      connections: 64,
      headersTimeout: config.timeout_ms,
      bodyTimeout: config.timeout_ms,
      connect: { timeout: config.timeout_ms },
    });
    this.inferPath = `${this.base.pathname.replace(/\/$/, '')}/v2/models/${encodeURIComponent(config.model)}/infer`;
  }

  private get labels(): readonly string[] {
    return this.config.labels ?? this.defaultLabels;
  }

  async classify(text: string): Promise<ExternalAnswer> {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), this.config.timeout_ms);
    let status: number;
    let body: string;
    try {
      const res = await this.pool.request({
        method: 'POST',
        path: this.inferPath,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ inputs: [{ name: this.config.input, shape: [1, 1], datatype: 'BYTES', data: [text] }] }),
        signal: controller.signal,
      });
      status = res.statusCode;
      body = await res.body.text();
    } catch (err) {
      const e = err as { name?: string; code?: string };
      const timedOut =
        controller.signal.aborted ||
        e.code === 'UND_ERR_HEADERS_TIMEOUT' ||
        e.code === 'UND_ERR_BODY_TIMEOUT' ||
        e.code === 'UND_ERR_CONNECT_TIMEOUT';
      throw new ExternalClassifierError(
        timedOut ? 'timeout' : 'unavailable',
        `${this.base.origin}: ${timedOut ? `no answer within ${this.config.timeout_ms} ms` : (err as Error).message}`,
      );
    } finally {
      clearTimeout(timer);
    }
    if (status !== 200)
      throw new ExternalClassifierError(
        'http_error',
        `${this.inferPath} answered HTTP ${status}: ${body.slice(0, 200)}`,
      );
    let outputs: V2Tensor[];
    try {
      const parsed = JSON.parse(body) as { outputs?: unknown };
      if (!Array.isArray(parsed.outputs)) throw new Error('no "outputs" array');
      outputs = parsed.outputs as V2Tensor[];
    } catch (err) {
      throw new ExternalClassifierError('malformed', `${this.inferPath}: ${(err as Error).message}`);
    }
    return this.read(outputs);
  }

  /** The answer from a v2 response's outputs; throws 'malformed' when it cannot be read as configured. */
  read(outputs: V2Tensor[]): ExternalAnswer {
    const byName = new Map(outputs.filter((o) => typeof o?.name === 'string').map((o) => [o.name as string, o]));
    const malformed = (why: string) => new ExternalClassifierError('malformed', `${this.config.model}: ${why}`);

    const dimensions: Partial<Record<ComplexityDimension, number>> = {};
    for (const [name, dim] of Object.entries(NVIDIA_DIMENSIONS)) {
      const v = Number(flat(byName.get(name)?.data)[0]);
      if (byName.has(name) && Number.isFinite(v)) dimensions[dim] = Math.min(1, Math.max(0, v));
    }
    const overallRaw = byName.has('prompt_complexity_score')
      ? Number(flat(byName.get('prompt_complexity_score')!.data)[0])
      : NaN;

    const out = byName.get(this.config.output) ?? (outputs.length === 1 ? outputs[0] : undefined);
    if (!out) {
      if (Object.keys(dimensions).length > 0 || Number.isFinite(overallRaw)) {
        return { confidence: 1, dimensions, ...(Number.isFinite(overallRaw) ? { overall: overallRaw } : {}) };
      }
      throw malformed(`no output named "${this.config.output}" (got ${[...byName.keys()].join(', ') || 'none'})`);
    }
    const data = flat(out.data);
    const labels = this.labels;
    if (out.datatype === 'BYTES') {
      const label = String(data[0] ?? '');
      if (!labels.includes(label)) throw malformed(`label "${label.slice(0, 60)}" is not one of ${labels.join(', ')}`);
      const prob = Number(
        flat(byName.get(`${this.config.output}_prob`)?.data ?? byName.get('task_type_prob')?.data)[0],
      );
      return { label, confidence: Number.isFinite(prob) ? Math.min(1, Math.max(0, prob)) : 1, dimensions };
    }
    const scores = data.map(Number);
    if (scores.length !== labels.length || scores.some((v) => !Number.isFinite(v))) {
      throw malformed(`${scores.length} scores for ${labels.length} labels (${labels.join(', ')})`);
    }
    const isDistribution =
      scores.every((v) => v >= 0 && v <= 1) && Math.abs(scores.reduce((a, b) => a + b, 0) - 1) < 1e-3;
    const max = Math.max(...scores);
    const probs = isDistribution ? scores : scores.map((v) => Math.exp(v - max));
    const sum = probs.reduce((a, b) => a + b, 0);
    const best = scores.indexOf(max);
    return { label: labels[best]!, confidence: probs[best]! / sum, dimensions };
  }

  /**
   * Checks, once at start, that the server has the model ready and that its metadata names the configured input
   * and output tensors. Returns problems to log (the router still starts: the built-in classifier answers).
   */
  async probe(): Promise<string[]> {
    const base = `${this.base.pathname.replace(/\/$/, '')}/v2/models/${encodeURIComponent(this.config.model)}`;
    const get = async (path: string) => {
      const res = await this.pool.request({
        method: 'GET',
        path,
        signal: AbortSignal.timeout(Math.max(1000, this.config.timeout_ms)),
      });
      return { status: res.statusCode, text: await res.body.text() };
    };
    try {
      const ready = await get(`${base}/ready`);
      if (ready.status !== 200)
        return [`model "${this.config.model}" is not ready (GET ${base}/ready: HTTP ${ready.status})`];
      const meta = await get(base);
      if (meta.status !== 200) return [`no metadata for "${this.config.model}" (HTTP ${meta.status})`];
      const m = JSON.parse(meta.text) as { inputs?: Array<{ name?: string }>; outputs?: Array<{ name?: string }> };
      const names = (t?: Array<{ name?: string }>) => (t ?? []).map((x) => x.name);
      const problems: string[] = [];
      if (m.inputs && !names(m.inputs).includes(this.config.input))
        problems.push(`its inputs are ${names(m.inputs).join(', ')}, not "${this.config.input}" (set input:)`);
      if (
        m.outputs &&
        !names(m.outputs).includes(this.config.output) &&
        !names(m.outputs).includes('prompt_complexity_score')
      )
        problems.push(`its outputs are ${names(m.outputs).join(', ')}, not "${this.config.output}" (set output:)`);
      return problems;
    } catch (err) {
      return [`cannot reach ${this.base.origin}: ${(err as Error).message}`];
    }
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}
