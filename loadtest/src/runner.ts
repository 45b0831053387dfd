// One load run. Closed loop: users with think time (like Locust). Open loop: a constant arrival rate,
// each request timed from its *intended* start, so a stalled server shows up as latency instead of
// silently lowering the rate (coordinated omission).
import { EventEmitter, setMaxListeners } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { LoadClient, type RequestResult } from './client.ts';
import type { LoadtestMetrics } from './metrics/loadtest-metrics.ts';
import type { RunOptions } from './options.ts';
import type { PriceTable } from './price-table.ts';
import { RunStats, type TimelinePoint } from './stats.ts';
import { POLICY_PREFIX, seededRandom, Workload } from './workload.ts';

export type RunState = 'running' | 'stopping' | 'done';
/** Why a run ended (or is ending). */
export type EndReason = 'duration reached' | 'max requests reached' | 'stopped';

/** Caps distinct label values so a misbehaving target cannot blow up metric cardinality. */
class BoundedLabels {
  private readonly seen = new Set<string>();
  constructor(private readonly max: number) {}
  value(v: string | undefined, fallback: string): string {
    if (!v || !/^[A-Za-z0-9_.:/-]{1,80}$/.test(v)) return fallback;
    if (this.seen.has(v)) return v;
    if (this.seen.size >= this.max) return 'other';
    this.seen.add(v);
    return v;
  }
}

export interface RunSummary {
  options: RunOptions;
  state: RunState;
  /** Set once the run stops sending. */
  end_reason: EndReason | null;
  started_at: string;
  elapsed_s: number;
  users: number;
  /** What the run aims at (edited mid-run): users, or the cap on requests in flight of an open loop. */
  target_users: number;
  spawn_rate: number;
  in_flight: number;
  rps: number;
  total: ReturnType<RunStats['total']['toJSON']> & { error_ratio: number };
  /** Requests still in flight when the deadline's (or a stop's) grace ran out: aborted, neither failed nor counted above. */
  cut: number;
  /** Feedback posted from a prompt file's labels (POST /v1/feedback): accepted, or refused / unreachable. */
  feedback: { posted: number; failed: number };
  by_model: Array<{ name: string } & ReturnType<RunStats['total']['toJSON']>>;
  by_policy: Array<{ name: string } & ReturnType<RunStats['total']['toJSON']>>;
  failures: Array<{ error: string; count: number }>;
  timeline: TimelinePoint[];
}

export class LoadRun extends EventEmitter {
  state: RunState = 'running';
  endReason: EndReason | null = null;
  readonly stats = new RunStats();
  /** Closed loop: the users the run aims at (edited mid-run); open loop: the cap on requests in flight. */
  targetUsers: number;
  private spawnRate: number;
  /** Wakes the spawner when the target changes mid-run. */
  private spawnMore?: () => void;
  users = 0;
  inFlight = 0;
  sent = 0;
  cut = 0;
  /** Feedback posted from prompt-file labels: accepted by the router, or not. */
  feedback = { posted: 0, failed: 0 };
  private readonly pendingFeedback = new Set<Promise<void>>();
  private readonly startedAt = Date.now();
  private readonly t0 = performance.now();
  private readonly abort = new AbortController();
  private readonly stopRequested = new AbortController();
  private readonly client: LoadClient;
  private readonly workload: Workload;
  private readonly modelLabels = new BoundedLabels(100);
  private readonly policyLabels = new BoundedLabels(50);
  private readonly random: () => number;
  readonly finished: Promise<RunSummary>;

  constructor(
    readonly options: RunOptions,
    private readonly metrics: LoadtestMetrics,
    private readonly prices: PriceTable,
  ) {
    super();
    // Every request and every user listens on these two signals.
    setMaxListeners(0, this.abort.signal, this.stopRequested.signal);
    this.workload = new Workload(options);
    this.random = seededRandom(options.seed + 1);
    this.targetUsers = options.users;
    this.spawnRate = options.spawn_rate;
    this.client = new LoadClient(options.host, Math.max(options.users, 16), options.api_key, options.timeout_s * 1000);
    this.finished = this.run();
  }

  elapsedSeconds(): number {
    return (performance.now() - this.t0) / 1000;
  }

  private shouldStop(): boolean {
    if (this.stopRequested.signal.aborted) return true;
    const o = this.options;
    if (o.duration_s !== undefined && this.elapsedSeconds() >= o.duration_s) this.endReason ??= 'duration reached';
    else if (o.max_requests !== undefined && this.sent >= o.max_requests) this.endReason ??= 'max requests reached';
    else return false;
    // Whatever waits on the stop signal (think time, the spawner) wakes now.
    this.stopRequested.abort();
    return true;
  }

  /**
   * Change the number of users mid-run (Locust's "Edit"): more users are spawned at `spawnRate` per second, fewer
   * leave after their current request. In an open loop, `users` caps requests in flight.
   */
  setUsers(users: number, spawnRate = this.spawnRate): void {
    if (this.state !== 'running') return;
    this.targetUsers = users;
    this.spawnRate = spawnRate;
    this.spawnMore?.();
  }

  /** Stop sending; requests in flight get `graceSeconds` (default: the run's grace_s) to finish, then are cut. */
  async stop(graceSeconds = this.options.grace_s): Promise<RunSummary> {
    if (this.state === 'running') {
      this.state = 'stopping';
      this.endReason ??= 'stopped';
      this.stopRequested.abort();
      const grace = setTimeout(() => this.abort.abort(), graceSeconds * 1000);
      await this.finished;
      clearTimeout(grace);
    }
    return this.finished;
  }

  private async run(): Promise<RunSummary> {
    const ticker = setInterval(() => this.emit('tick', this.stats.tick(this.elapsedSeconds(), this.users)), 1000);
    // The deadline holds: past duration_s + grace_s, whatever is still in flight is cut.
    let grace: NodeJS.Timeout | undefined;
    const duration = this.options.duration_s;
    const deadline =
      duration === undefined
        ? undefined
        : setTimeout(() => {
            this.endReason ??= 'duration reached';
            this.stopRequested.abort();
            grace = setTimeout(() => this.abort.abort(), this.options.grace_s * 1000);
          }, duration * 1000);
    try {
      if (this.options.rate !== undefined) await this.openLoop(this.options.rate);
      else await this.closedLoop();
    } finally {
      clearInterval(ticker);
      if (deadline) clearTimeout(deadline);
      clearTimeout(grace);
      this.users = 0;
      this.metrics.users.set(0);
      this.state = 'done';
      await Promise.all(this.pendingFeedback);
      await this.client.close().catch(() => {});
    }
    const summary = this.summary();
    this.emit('done', summary);
    return summary;
  }

  private async closedLoop(): Promise<void> {
    const userLoops = new Set<Promise<void>>();
    const [minThink, maxThink] = this.options.think_time_s;
    const user = async () => {
      this.users++;
      this.metrics.users.set(this.users);
      try {
        // A user leaves when the run stops or when there are more users than the target (edited down).
        while (!this.shouldStop() && this.users <= this.targetUsers) {
          await this.sendOne(performance.now());
          const think = minThink + this.random() * (maxThink - minThink);
          if (think > 0) await sleep(think * 1000, undefined, { signal: this.stopRequested.signal }).catch(() => {});
        }
      } finally {
        this.users--;
        this.metrics.users.set(this.users);
      }
    };
    // The spawner: brings the user count up to the target at the spawn rate, and waits for edits until the end.
    while (!this.shouldStop()) {
      if (this.users < this.targetUsers) {
        const loop = user().finally(() => userLoops.delete(loop));
        userLoops.add(loop);
        if (this.users < this.targetUsers)
          await sleep(1000 / this.spawnRate, undefined, { signal: this.stopRequested.signal }).catch(() => {});
        continue;
      }
      await new Promise<void>((resolve) => {
        const done = () => {
          this.spawnMore = undefined;
          this.stopRequested.signal.removeEventListener('abort', done);
          resolve();
        };
        this.spawnMore = done;
        this.stopRequested.signal.addEventListener('abort', done);
      });
    }
    while (userLoops.size > 0) await Promise.race(userLoops);
  }

  private async openLoop(rate: number): Promise<void> {
    const intervalMs = 1000 / rate;
    const queue: number[] = [];
    const running = new Set<Promise<void>>();
    let i = 0;
    const start = performance.now();
    const launch = (intended: number) => {
      const p = this.sendOne(intended).finally(() => {
        running.delete(p);
        const nextIntended = queue.shift();
        if (nextIntended !== undefined) launch(nextIntended);
      });
      running.add(p);
    };
    while (!this.shouldStop()) {
      const now = performance.now();
      // Everything due by now is started (or queued, keeping its intended start time).
      const cap = this.options.max_requests ?? Infinity;
      while (start + i * intervalMs <= now && i < cap && !this.shouldStop()) {
        const intended = start + i++ * intervalMs;
        if (running.size < this.targetUsers) launch(intended);
        else queue.push(intended);
      }
      this.users = running.size;
      this.metrics.users.set(this.users);
      if (i >= cap) {
        this.endReason ??= 'max requests reached';
        break;
      }
      await sleep(Math.max(1, Math.min(intervalMs, 10)));
    }
    // Stopped or out of time: requests not yet sent are dropped. Out of requests (max_requests): the queue drains.
    if (this.endReason !== 'max requests reached') queue.length = 0;
    while (running.size > 0) await Promise.race(running);
  }

  private async sendOne(intendedStart: number): Promise<void> {
    this.sent++;
    this.inFlight++;
    this.metrics.inFlight.inc();
    const planned = this.workload.next();
    let result: RequestResult;
    try {
      result = await this.client.send(planned, intendedStart, this.abort.signal);
    } finally {
      this.inFlight--;
      this.metrics.inFlight.dec();
    }
    if (!result.ok && this.abort.signal.aborted) {
      this.cut++;
      return;
    }
    this.record(result, planned.labels);
  }

  private record(r: RequestResult, labels?: Record<string, number>): void {
    const fallbackModel = r.target.startsWith(POLICY_PREFIX) ? 'unrouted' : r.target;
    const model = this.modelLabels.value(r.model, this.modelLabels.value(fallbackModel, 'other'));
    const policy = this.policyLabels.value(
      r.policy,
      r.target.startsWith(POLICY_PREFIX) ? r.target.slice(POLICY_PREFIX.length) : 'none',
    );
    const promptTokens = r.usage?.prompt_tokens ?? 0;
    const completionTokens = r.usage?.completion_tokens ?? 0;
    const costUsd = r.usage ? this.prices.cost(model, r.usage) : 0;
    // A replayed prompt's label for the model that answered: measured accuracy, and feedback to the router.
    const label = r.ok && r.model ? labels?.[r.model] : undefined;
    if (label !== undefined && r.requestId && this.options.feedback) {
      const posted = this.client.feedback(r.requestId, label, r.replica).then((ok) => {
        this.feedback[ok ? 'posted' : 'failed']++;
        this.metrics.feedback.inc({ model, outcome: ok ? 'posted' : 'failed' });
        this.pendingFeedback.delete(posted);
      });
      this.pendingFeedback.add(posted);
    }
    this.stats.record({
      ...(label !== undefined ? { label } : {}),
      model,
      policy,
      ok: r.ok,
      latencySeconds: r.latencySeconds,
      ...(r.ttftSeconds !== undefined ? { ttftSeconds: r.ttftSeconds } : {}),
      promptTokens,
      completionTokens,
      costUsd,
      ...(r.error ? { error: r.error } : {}),
    });
    const m = this.metrics;
    m.requests.inc({ model, policy, status: r.status });
    m.requestDuration.observe({ model }, r.latencySeconds);
    if (r.ttftSeconds !== undefined) m.timeToFirstToken.observe({ model }, r.ttftSeconds);
    if (r.usage) {
      m.tokens.inc({ model, type: 'prompt' }, promptTokens);
      m.tokens.inc({ model, type: 'completion' }, completionTokens);
      m.cost.inc({ model }, costUsd);
    }
  }

  summary(): RunSummary {
    const elapsed = this.elapsedSeconds();
    const total = this.stats.total.toJSON();
    const rows = (map: Map<string, { toJSON(): ReturnType<RunStats['total']['toJSON']> }>) =>
      [...map].map(([name, g]) => ({ name, ...g.toJSON() })).sort((a, b) => b.requests - a.requests);
    return {
      options: this.options,
      state: this.state,
      end_reason: this.endReason,
      started_at: new Date(this.startedAt).toISOString(),
      elapsed_s: Math.round(elapsed * 10) / 10,
      users: this.users,
      target_users: this.targetUsers,
      spawn_rate: this.spawnRate,
      in_flight: this.inFlight,
      rps: Math.round((total.requests / Math.max(elapsed, 0.001)) * 10) / 10,
      total: { ...total, error_ratio: total.requests ? total.failures / total.requests : 0 },
      cut: this.cut,
      feedback: { ...this.feedback },
      by_model: rows(this.stats.byModel),
      by_policy: rows(this.stats.byPolicy),
      failures: [...this.stats.failures].map(([error, count]) => ({ error, count })).sort((a, b) => b.count - a.count),
      timeline: this.stats.timeline,
    };
  }
}
