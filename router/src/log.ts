// The router's log: JSON lines on stdout (pino). A line per request is the busiest writer, so stdout is
// written asynchronously and in batches: a sync write to a full pipe blocked the event loop (it showed at
// p99), and a write per line cost ~10% of the router's CPU at saturation (bench-router). Info lines wait at
// most FLUSH_INTERVAL_MS for a batch to fill; a warning or an error goes out at once, with what waited before
// it; pino flushes what is left synchronously at exit (crash included). Only a SIGKILL can lose the last
// FLUSH_INTERVAL_MS of info lines.
// In --workers mode each worker writes each line at once, synchronously: workers share stdout, and a batch
// larger than PIPE_BUF could interleave with another worker's mid-line, while a one-line write cannot.
import cluster from 'node:cluster';
import { hostname } from 'node:os';
import { pino, type Logger } from 'pino';

/** Bytes gathered before a write (under PIPE_BUF, 4 KiB on Linux). */
export const LOG_BATCH_BYTES = 4096;
export const FLUSH_INTERVAL_MS = 250;

/** The fields of the line per request: fixed, and never secret. */
export interface RequestLine {
  request_id: string | undefined;
  endpoint: string;
  policy: string | undefined;
  class: string | undefined;
  model: string | undefined;
  deployment: string | undefined;
  status: number;
  ms: number;
}

export interface RouterLogs {
  log: Logger;
  /** The line per request (an info line, "msg":"request"), in pino's format, same level and destination as `log`. */
  requests: { write(line: RequestLine): void };
}

const str = (v: string) => JSON.stringify(v);

/**
 * The request line written straight to pino's destination, in pino's own format (level, time, pid, hostname,
 * the fields, msg; undefined fields left out). It is the busiest writer and its fields are known: pino's
 * generic serialisation (and the redaction pass, a wildcard path walking every field) were ~3% of the
 * router's CPU per request. router/test/log.test.ts checks it against a pino line.
 */
function requestLineWriter(enabled: boolean, destination: { write(s: string): unknown }): RouterLogs['requests'] {
  const head = `,"pid":${process.pid},"hostname":${str(hostname())}`;
  return {
    write(l) {
      if (!enabled) return;
      let line = `{"level":30,"time":${Date.now()}${head}`;
      if (l.request_id !== undefined) line += `,"request_id":${str(l.request_id)}`;
      line += `,"endpoint":${str(l.endpoint)}`;
      if (l.policy !== undefined) line += `,"policy":${str(l.policy)}`;
      if (l.class !== undefined) line += `,"class":${str(l.class)}`;
      if (l.model !== undefined) line += `,"model":${str(l.model)}`;
      if (l.deployment !== undefined) line += `,"deployment":${str(l.deployment)}`;
      destination.write(`${line},"status":${l.status},"ms":${l.ms},"msg":"request"}\n`);
    },
  };
}

export function createLogs(level = process.env.LOG_LEVEL ?? 'info', flushIntervalMs = FLUSH_INTERVAL_MS): RouterLogs {
  const batched = !cluster.isWorker;
  const destination = pino.destination({ dest: 1, sync: !batched, minLength: batched ? LOG_BATCH_BYTES : 0 });
  if (batched) setInterval(() => destination.flush(), flushIntervalMs).unref();
  const log = pino(
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
  );
  return { log, requests: requestLineWriter(log.isLevelEnabled('info'), destination) };
}
