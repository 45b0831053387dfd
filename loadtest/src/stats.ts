// Aggregates of a run: totals, per model, per policy, grouped failures, and a per-second timeline.

/** Log-bucketed latency histogram: ~1% precision, constant memory whatever the request count. */
export class LatencyHistogram {
  private static readonly GROWTH = Math.log(1.01);
  private readonly counts = new Map<number, number>();
  count = 0;
  sum = 0;
  max = 0;

  add(seconds: number): void {
    const us = Math.max(1, seconds * 1e6);
    const bucket = Math.floor(Math.log(us) / LatencyHistogram.GROWTH);
    this.counts.set(bucket, (this.counts.get(bucket) ?? 0) + 1);
    this.count++;
    this.sum += seconds;
    if (seconds > this.max) this.max = seconds;
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

  toJSON() {
    const ms = (s: number) => (Number.isNaN(s) ? null : Math.round(s * 10000) / 10);
    return {
      requests: this.requests,
      failures: this.failures,
      median_ms: ms(this.latency.quantile(0.5)),
      p95_ms: ms(this.latency.quantile(0.95)),
      p99_ms: ms(this.latency.quantile(0.99)),
      max_ms: ms(this.latency.max),
      ttft_p50_ms: ms(this.ttft.quantile(0.5)),
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
}

export class RunStats {
  readonly total = new GroupStats();
  readonly byModel = new Map<string, GroupStats>();
  readonly byPolicy = new Map<string, GroupStats>();
  readonly failures = new Map<string, number>();
  readonly timeline: TimelinePoint[] = [];
  private second = { requests: 0, failures: 0, latency: new LatencyHistogram() };

  record(s: Sample): void {
    for (const g of [this.total, group(this.byModel, s.model), group(this.byPolicy, s.policy)]) {
      g.requests++;
      if (!s.ok) g.failures++;
      g.latency.add(s.latencySeconds);
      if (s.ttftSeconds !== undefined) g.ttft.add(s.ttftSeconds);
      g.promptTokens += s.promptTokens;
      g.completionTokens += s.completionTokens;
      g.costUsd += s.costUsd;
    }
    this.second.requests++;
    this.second.latency.add(s.latencySeconds);
    if (!s.ok) {
      this.second.failures++;
      // Group by message with numbers blanked, so "retry after 3s" and "after 4s" are one row.
      const key = (s.error ?? 'failed').replace(/\d+(\.\d+)?/g, 'N').slice(0, 200);
      if (this.failures.has(key) || this.failures.size < 100) this.failures.set(key, (this.failures.get(key) ?? 0) + 1);
    }
  }

  /** Close the current one-second slot (called once a second by the runner). */
  tick(t: number, users: number, slotSeconds = 1): TimelinePoint {
    const ms = (s: number) => (Number.isNaN(s) ? null : Math.round(s * 10000) / 10);
    const h = this.second.latency;
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
