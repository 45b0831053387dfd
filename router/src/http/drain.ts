// Graceful drain on SIGTERM (a rolling update, a scale-down): /ready answers 503 at once so load balancers stop
// sending; after drain_delay_ms (time for them to notice) the listener closes; requests and streams in progress
// finish, up to drain_timeout_ms (what still streams then ends with an error event), and only then are the last
// connections cut.
import type { Server } from 'node:http';
import { Server as NetServer, type Socket } from 'node:net';
import { idleForDrain } from './server-limits.ts';

/** A connection accepted just before the listener closed gets this long to send its request. */
const NEW_CONNECTION_GRACE_MS = 2_000;

export type DrainResult = 'drained' | 'timed_out';

/** Requests the edge is answering: counted in its one per-request 'close' listener (no second listener here). */
export class InProgress {
  count = 0;

  begin(): void {
    this.count++;
  }

  end(): void {
    this.count--;
  }
}

export class Drain {
  constructor(
    private readonly server: Server,
    private readonly requests: InProgress,
    /** The server's open connections (server-limits.ts trackConnections). */
    private readonly connections: Set<Socket>,
    /** At drain_timeout_ms, before connections are cut: end what is still streaming with an error event. */
    private readonly onTimeout: () => void = () => {},
  ) {}

  /** Requests being answered now. */
  get inProgress(): number {
    return this.requests.count;
  }

  async run(delayMs: number, timeoutMs: number): Promise<DrainResult> {
    const deadline = Date.now() + timeoutMs;
    if (delayMs > 0) await new Promise((r) => setTimeout(r, Math.min(delayMs, timeoutMs)));
    // No new connections. net's close, not http's: http's also closes every connection without a request in
    // progress, and one accepted a moment ago may have its request on the way (it would get a bare reset).
    NetServer.prototype.close.call(this.server);
    const sweep = () => {
      const now = Date.now();
      for (const socket of this.connections) if (idleForDrain(socket, now, NEW_CONNECTION_GRACE_MS)) socket.destroy();
    };
    try {
      // Drained when no request is in progress and no connection is left: idle ones are closed as they become
      // idle, a new one once it has been answered (or has sent nothing within the grace).
      for (;;) {
        sweep();
        if (this.requests.count === 0 && this.connections.size === 0) return 'drained';
        if (Date.now() >= deadline) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      if (this.requests.count === 0) return 'drained';
      this.onTimeout();
      // The error events' bytes go out before the connections are cut.
      await new Promise((r) => setTimeout(r, 100));
      return 'timed_out';
    } finally {
      this.server.closeAllConnections();
      for (const socket of this.connections) socket.destroy();
    }
  }
}
