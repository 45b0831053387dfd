// Graceful drain on SIGTERM (a rolling update, a scale-down): /ready answers 503 at once so load balancers stop
// sending; after drain_delay_ms (time for them to notice) the listener closes; requests and streams in progress
// finish, up to drain_timeout_ms, and only then are the last connections cut.
import type { Server } from 'node:http';

export type DrainResult = 'drained' | 'timed_out';

/** Requests the edge is answering: counted in its one per-request 'close' listener (no second listener here). */
export class InProgress {
  count = 0;
  private onZero: (() => void) | undefined;

  begin(): void {
    this.count++;
  }

  end(): void {
    if (--this.count === 0) this.onZero?.();
  }

  /** Resolves when no request is in progress (at once if none is). */
  idle(): Promise<void> {
    return this.count === 0 ? Promise.resolve() : new Promise((resolve) => (this.onZero = resolve));
  }
}

export class Drain {
  constructor(
    private readonly server: Server,
    private readonly requests: InProgress,
  ) {}

  /** Requests being answered now. */
  get inProgress(): number {
    return this.requests.count;
  }

  async run(delayMs: number, timeoutMs: number): Promise<DrainResult> {
    const deadline = Date.now() + timeoutMs;
    if (delayMs > 0) await new Promise((r) => setTimeout(r, Math.min(delayMs, timeoutMs)));
    this.server.close(); // no new connections; idle keep-alive ones are closed now
    // Connections whose request finished become idle: close them as they do.
    const sweep = setInterval(() => this.server.closeIdleConnections(), 100);
    try {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        this.requests.idle(),
        new Promise<void>((resolve) => (timer = setTimeout(resolve, Math.max(0, deadline - Date.now())))),
      ]);
      clearTimeout(timer);
      return this.requests.count === 0 ? 'drained' : 'timed_out';
    } finally {
      clearInterval(sweep);
      this.server.closeAllConnections();
    }
  }
}
