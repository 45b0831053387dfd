// The router's log: JSON lines on stdout (pino). A line per request is the busiest writer, so stdout is
// written asynchronously and in batches: a sync write to a full pipe blocked the event loop (it showed at
// p99), and a write per line cost ~10% of the router's CPU at saturation (bench-router). Info lines wait at
// most FLUSH_INTERVAL_MS for a batch to fill; a warning or an error goes out at once, with what waited before
// it; pino flushes what is left synchronously at exit (crash included). Only a SIGKILL can lose the last
// FLUSH_INTERVAL_MS of info lines.
// In --workers mode each worker writes each line at once, synchronously: workers share stdout, and a batch
// larger than PIPE_BUF could interleave with another worker's mid-line, while a one-line write cannot.
import cluster from 'node:cluster';
import { pino, type Logger } from 'pino';

/** Bytes gathered before a write (under PIPE_BUF, 4 KiB on Linux). */
export const LOG_BATCH_BYTES = 4096;
export const FLUSH_INTERVAL_MS = 250;

export interface RouterLogs {
  log: Logger;
  /** The line per request: its fields are fixed and never secret, so it skips the redaction pass (a wildcard
   * path walks every field of every line). Same level and destination as `log`. */
  requests: Logger;
}

export function createLogs(level = process.env.LOG_LEVEL ?? 'info', flushIntervalMs = FLUSH_INTERVAL_MS): RouterLogs {
  const batched = !cluster.isWorker;
  const destination = pino.destination({ dest: 1, sync: !batched, minLength: batched ? LOG_BATCH_BYTES : 0 });
  if (batched) setInterval(() => destination.flush(), flushIntervalMs).unref();
  return {
    log: pino(
      {
        level,
        redact: ['req.headers.authorization', '*.api_key'],
        hooks: {
          logMethod(args, method, levelValue) {
            method.apply(this, args);
            if (batched && levelValue >= pino.levels.values.warn!) destination.flush();
          },
        },
      },
      destination,
    ),
    requests: pino({ level }, destination),
  };
}
