// One attempt's cancellation: the client leaving, or one of the attempt's time limits (the deployment's
// timeout_ms for the whole attempt, resilience.first_byte_timeout_ms until the answer's headers,
// resilience.stream_idle_timeout_ms between two chunks of its body). All three share one timer that is
// checked when it fires, not moved per chunk. undici's own headersTimeout/bodyTimeout made two timer objects
// per request that lingered in its timer list; without them the router runs measurably fewer instructions per
// request (docs/performance.md).
import { AbortEmitter } from './abort-emitter.ts';

export type AttemptTimeout = 'timeout' | 'first_byte_timeout' | 'stream_idle_timeout';

export interface AttemptLimits {
  /** The whole attempt, to its last byte. */
  totalMs: number;
  /** Until the answer's status line and headers. */
  firstByteMs: number;
  /** The longest silence between two chunks of the body once the headers came. */
  idleMs: number;
}

/** What the signal needs from timers and the clock (tests pass their own). */
export interface AttemptClock {
  now(): number;
  setTimeout(fn: (a: AttemptSignal) => void, ms: number, a: AttemptSignal): unknown;
  clearTimeout(timer: unknown): void;
}

const SYSTEM_CLOCK: AttemptClock = {
  now: () => performance.now(),
  setTimeout: (fn, ms, a) => setTimeout(fn, ms, a),
  clearTimeout: (t) => clearTimeout(t as NodeJS.Timeout),
};

export class AttemptSignal extends AbortEmitter {
  /** Which limit ended the attempt; undefined when none did (the client left, or it is still running). */
  timedOut: AttemptTimeout | undefined;
  private readonly startedAt: number;
  /** When the headers came (-1 before), then when the last chunk came. */
  private lastByteAt = -1;
  /** The reader is waiting for the client to take what it has (backpressure): silence is then not the upstream's. */
  private waitingForClient = false;
  private timer: unknown;
  private readonly onClientAbort = () => this.abort();

  constructor(
    private readonly client: AbortEmitter,
    private readonly limits: AttemptLimits,
    private readonly clock: AttemptClock = SYSTEM_CLOCK,
  ) {
    super();
    client.on('abort', this.onClientAbort);
    this.startedAt = clock.now();
    // The first check comes at the earliest limit; each check sets the next (see check()).
    this.timer = clock.setTimeout(
      AttemptSignal.check,
      Math.min(limits.totalMs, limits.firstByteMs, limits.idleMs),
      this,
    );
  }

  /** The answer's headers, or a chunk of its body, came: the first-byte limit is met, the idle one restarts. */
  received(): void {
    this.lastByteAt = this.clock.now();
  }

  /** The reader waits for the client to drain (true) or goes on reading (false, which counts as activity). */
  waitForClient(waiting: boolean): void {
    this.waitingForClient = waiting;
    if (!waiting) this.lastByteAt = this.clock.now();
  }

  done(): void {
    this.clock.clearTimeout(this.timer);
    this.client.off('abort', this.onClientAbort);
  }

  /**
   * The timer's callback (static: no closure per attempt). Ends the attempt if a limit has passed, else sets the
   * next check at the earliest time one could pass. Before the headers that includes now + idleMs, so that the
   * idle limit, which starts with the headers, is never checked late.
   */
  private static check(a: AttemptSignal): void {
    if (a.aborted) return;
    const now = a.clock.now();
    const { totalMs, firstByteMs, idleMs } = a.limits;
    const totalAt = a.startedAt + totalMs;
    const responded = a.lastByteAt >= 0;
    const nextAt = responded
      ? Math.min(totalAt, (a.waitingForClient ? now : a.lastByteAt) + idleMs)
      : Math.min(totalAt, a.startedAt + firstByteMs, now + idleMs);
    if (now >= totalAt) a.timedOut = 'timeout';
    else if (!responded && now >= a.startedAt + firstByteMs) a.timedOut = 'first_byte_timeout';
    else if (responded && !a.waitingForClient && now >= a.lastByteAt + idleMs) a.timedOut = 'stream_idle_timeout';
    if (a.timedOut) {
      a.client.off('abort', a.onClientAbort);
      a.abort();
      return;
    }
    a.timer = a.clock.setTimeout(AttemptSignal.check, Math.max(1, nextAt - now), a);
  }
}
