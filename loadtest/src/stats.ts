// Aggregates of a run: totals, per model, per policy, grouped failures, and a per-second timeline.

/** Log-bucketed latency histogram: ~1% precision, constant memory whatever the request count. */
export class LatencyHistogram {
  private static readonly GROWTH = Math.log(1.01);
  private readonly counts = new Map<number, number>();
  count = 0;
  sum = 0;
  max = 0;
  min = Infinity;

  add(seconds: number): void {
    const us = Math.max(1, seconds * 1e6);
    const bucket = Math.floor(Math.log(us) / LatencyHistogram.GROWTH);
    this.counts.set(bucket, (this.counts.get(bucket) ?? 0) + 1);
    this.count++;
    this.sum += seconds;
    if (seconds > this.max) this.max = seconds;
    if (seconds < this.min) this.min = seconds;
  }

  /** Adds another histogram's observations (a rolling window is the merge of its slots). */
  merge(other: LatencyHistogram): this {
    for (const [bucket, n] of other.counts) this.counts.set(bucket, (this.counts.get(bucket) ?? 0) + n);
    this.count += other.count;
    this.sum += other.sum;
    this.max = Math.max(this.max, other.max);
    this.min = Math.min(this.min, other.min);
    return this;
  }

  /** Quantile in seconds (upper edge of the bucket that holds it); NaN when empty. */
  quantile(q: number): number {
    if (this.count === 0) return NaN;
    const target = q * this.count;
    let seen = 0;
    for (const bucket of [...this.counts.keys()].sort((a, b) => a - b)) {
      seen += this.counts.get(bucket)!;
      if (seen >= target) return Math.min(this.max, Math.exp((bucket + 1) * LatencyHistogram.GROWTH) / 1e6);
    }
    return this.max;
  }
}

export class GroupStats {
  requests = 0;
  failures = 0;
  readonly latency = new LatencyHistogram();
  readonly ttft = new LatencyHistogram();
  promptTokens = 0;
  completionTokens = 0;
  costUsd = 0;
  /** Answers whose model has a label in the prompt file, and the sum of those labels (right = 1). */
  labelled = 0;
  labelSum = 0;
  /** Requests and failures in the last whole second (Locust's "current RPS"), set by the runner's tick. */
  currentRps = 0;
  currentFailuresPerS = 0;
  secondRequests = 0;
  secondFailures = 0;

  /** Close the current second: its counts become the current rates. */
  tick(slotSeconds: number): void {
    this.currentRps = this.secondRequests / slotSeconds;
    this.currentFailuresPerS = this.secondFailures / slotSeconds;
    this.secondRequests = 0;
    this.secondFailures = 0;
  }

  toJSON() {
    const ms = (s: number) => (Number.isFinite(s) ? Math.round(s * 10000) / 10 : null);
    return {
      requests: this.requests,
      failures: this.failures,
      avg_ms: ms(this.latency.count ? this.latency.sum / this.latency.count : NaN),
      min_ms: ms(this.latency.min),
      median_ms: ms(this.latency.quantile(0.5)),
      p95_ms: ms(this.latency.quantile(0.95)),
      p99_ms: ms(this.latency.quantile(0.99)),
      max_ms: ms(this.latency.max),
      ttft_p50_ms: ms(this.ttft.quantile(0.5)),
      /** Measured accuracy: mean label of the answers that had one (replayed prompt files with labels). */
      accuracy: this.labelled ? Math.round((this.labelSum / this.labelled) * 10000) / 10000 : null,
      current_rps: this.currentRps,
      current_failures_per_s: this.currentFailuresPerS,
      prompt_tokens: this.promptTokens,
      completion_tokens: this.completionTokens,
      cost_usd: Math.round(this.costUsd * 1e8) / 1e8,
    };
  }
}

export interface TimelinePoint {
  /** Seconds since the run started. */
  t: number;
  rps: number;
  failures_per_s: number;
  /** Latency percentiles over the last ROLLING_WINDOW_S seconds (per second, p95 and p99 of a few requests coincide). */
  p50_ms: number | null;
  p95_ms: number | null;
  p99_ms: number | null;
  users: number;
}

export interface Sample {
  model: string;
  policy: string;
  ok: boolean;
  latencySeconds: number;
  ttftSeconds?: number;
  promptTokens: number;
  completionTokens: number;
  costUsd: number;
  error?: string;
  /** The prompt file's label for the model that answered (1 right, 0 wrong), if it has one. */
  label?: number;
}

/** Seconds of requests the timeline's latency percentiles are computed over. */
export const ROLLING_WINDOW_S = 10;

/**
 * A failure message as a group key: numbers blanked ("retry after 3s" and "after 4s" are one row) except in
 * addresses, which say where it failed (connect ECONNREFUSED 127.0.0.1:4000).
 */
export function failureKey(message: string): string {
  const kept: string[] = [];
  const held = message.replace(
    /(?:\b(?:\d{1,3}(?:\.\d{1,3}){3}|localhost)|\[[0-9a-fA-F:.]+\])(?::\d+)?|:\d{2,5}\b/g,
    (m) => {
      kept.push(m);
      return `⟦${kept.length - 1}⟧`;
    },
  );
  return held
    .replace(/\d+(\.\d+)?/g, 'N')
    .replace(/⟦N⟧/g, () => kept.shift()!)
    .slice(0, 200);
}

export class RunStats {
  readonly total = new GroupStats();
  readonly byModel = new Map<string, GroupStats>();
  readonly byPolicy = new Map<string, GroupStats>();
  readonly failures = new Map<string, number>();
  readonly timeline: TimelinePoint[] = [];
  private second = { requests: 0, failures: 0, latency: new LatencyHistogram() };
  private readonly recentLatency: LatencyHistogram[] = [];

  record(s: Sample): void {
    for (const g of [this.total, group(this.byModel, s.model), group(this.byPolicy, s.policy)]) {
      g.requests++;
      if (!s.ok) g.failures++;
      g.latency.add(s.latencySeconds);
      if (s.ttftSeconds !== undefined) g.ttft.add(s.ttftSeconds);
      g.promptTokens += s.promptTokens;
      g.completionTokens += s.completionTokens;
      g.costUsd += s.costUsd;
      g.secondRequests++;
      if (!s.ok) g.secondFailures++;
      if (s.label !== undefined) {
        g.labelled++;
        g.labelSum += s.label;
      }
    }
    this.second.requests++;
    this.second.latency.add(s.latencySeconds);
    if (!s.ok) {
      this.second.failures++;
      const key = failureKey(s.error ?? 'failed');
      if (this.failures.has(key) || this.failures.size < 100) this.failures.set(key, (this.failures.get(key) ?? 0) + 1);
    }
  }

  /** Close the current one-second slot (called once a second by the runner). */
  tick(t: number, users: number, slotSeconds = 1): TimelinePoint {
    const ms = (s: number) => (Number.isNaN(s) ? null : Math.round(s * 10000) / 10);
    this.recentLatency.push(this.second.latency);
    if (this.recentLatency.length > ROLLING_WINDOW_S / slotSeconds) this.recentLatency.shift();
    const h = this.recentLatency.reduce((all, slot) => all.merge(slot), new LatencyHistogram());
    for (const g of [this.total, ...this.byModel.values(), ...this.byPolicy.values()]) g.tick(slotSeconds);
    const point = {
      t: Math.round(t * 10) / 10,
      rps: this.second.requests / slotSeconds,
      failures_per_s: this.second.failures / slotSeconds,
      p50_ms: ms(h.quantile(0.5)),
      p95_ms: ms(h.quantile(0.95)),
      p99_ms: ms(h.quantile(0.99)),
      users,
    };
    this.timeline.push(point);
    if (this.timeline.length > 3600) this.timeline.shift();
    this.second = { requests: 0, failures: 0, latency: new LatencyHistogram() };
    return point;
  }
}

function group(map: Map<string, GroupStats>, key: string): GroupStats {
  let g = map.get(key);
  if (!g) map.set(key, (g = new GroupStats()));
  return g;
}
