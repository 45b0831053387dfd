// Graceful drain on SIGTERM (a rolling update, a scale-down): /ready answers 503 at once so load balancers stop
// sending; after drain_delay_ms (time for them to notice) the listener closes; requests and streams in progress
// finish, up to drain_timeout_ms, and only then are the last connections cut.
import type { Server } from 'node:http';

export type DrainResult = 'drained' | 'timed_out';

export class Drain {
  draining = false;
  private active = 0;
  private wake: (() => void) | undefined;

  constructor(private readonly server: Server) {
    server.on('request', (_req, res) => {
      this.active++;
      // A connection that asks during a drain is not kept alive after its answer.
      if (this.draining) res.shouldKeepAlive = false;
      res.once('close', () => {
        this.active--;
        if (this.active === 0) this.wake?.();
      });
    });
  }

  /** Requests being answered now. */
  get inProgress(): number {
    return this.active;
  }

  async run(delayMs: number, timeoutMs: number): Promise<DrainResult> {
    this.draining = true;
    const deadline = Date.now() + timeoutMs;
    if (delayMs > 0) await new Promise((r) => setTimeout(r, Math.min(delayMs, timeoutMs)));
    this.server.close(); // no new connections; idle keep-alive ones are closed now
    // Connections whose request finished become idle: close them as they do.
    const sweep = setInterval(() => this.server.closeIdleConnections(), 100);
    try {
      if (this.active > 0)
        await new Promise<void>((resolve) => {
          this.wake = resolve;
          setTimeout(resolve, Math.max(0, deadline - Date.now()));
        });
      return this.active === 0 ? 'drained' : 'timed_out';
    } finally {
      clearInterval(sweep);
      this.server.closeAllConnections();
    }
  }
}
