// The router's log: JSON lines on stdout (pino). A line per request is the busiest writer, so stdout is
// written asynchronously and in batches: a sync write to a full pipe blocked the event loop (it showed at
// p99), and a write per line cost ~10% of the router's CPU at saturation (bench-router). Request lines are
// gathered here (LineBatch) and handed to pino's destination a batch at a time; they wait at most
// FLUSH_INTERVAL_MS; a warning or an error goes out at once, with what waited before it; what is left is written
// synchronously at exit (crash included). Only a SIGKILL can lose the last FLUSH_INTERVAL_MS of info lines.
// In --workers mode each worker writes each line at once, synchronously: workers share stdout, and a batch
// larger than PIPE_BUF could interleave with another worker's mid-line, while a one-line write cannot.
import cluster from 'node:cluster';
import { writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { pino, type Logger } from 'pino';

/** About the bytes gathered before a write (counted in characters; under PIPE_BUF, 4 KiB on Linux). */
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

/** What pino.destination() returns (sonic-boom). */
type Destination = ReturnType<typeof pino.destination>;
const STDOUT = 1;
/** For a synchronous pause (Atomics.wait) while a full pipe drains at exit. */
const PAUSE = new Int32Array(new SharedArrayBuffer(4));

/**
 * Request lines gathered into one string of about LOG_BATCH_BYTES before they go to pino's destination.
 * sonic-boom measures its whole pending buffer again on every write (Buffer.byteLength of a string that grows,
 * flattened each time), so handing it a line at a time cost ~8% of the router's CPU per request (same-run A/B,
 * pinned, 16 rounds: 105.5 → 96.6 µs).
 */
class LineBatch {
  private text = '';
  constructor(private readonly destination: Destination) {}

  write(line: string): void {
    this.text += line;
    if (this.text.length >= LOG_BATCH_BYTES) this.flush();
  }

  /** Hands what is gathered to the destination: before any other line goes there, so the order holds. */
  flush(): void {
    if (this.text === '') return;
    const text = this.text;
    this.text = '';
    this.destination.write(text);
  }

  /**
   * At exit: the destination's buffer (older lines), then what is gathered here, synchronously (whichever exit
   * listener, this one or pino's, runs first).
   */
  flushSync(): void {
    try {
      this.destination.flushSync();
      let rest = Buffer.from(this.text);
      this.text = '';
      for (let busy = 0; rest.length > 0; ) {
        try {
          rest = rest.subarray(writeSync(STDOUT, rest));
        } catch (err) {
          // A non-blocking pipe that is full: wait for the reader a little, as sonic-boom does.
          if ((err as NodeJS.ErrnoException).code !== 'EAGAIN' || ++busy > 100) throw err;
          Atomics.wait(PAUSE, 0, 0, 10);
        }
      }
    } catch {
      // stdout is gone (a closed pipe): nothing can be written, and exit must not fail for it.
    }
  }
}

/** Batches to write at exit; one 'exit' listener however many logs a process creates (tests create several). */
const atExit = new Set<LineBatch>();
function flushAtExit(batch: LineBatch): void {
  if (atExit.size === 0)
    process.on('exit', () => {
      for (const b of atExit) b.flushSync();
    });
  atExit.add(batch);
}

/**
 * The request line written straight to pino's destination (or its batch), in pino's own format (level, time,
 * pid, hostname, the fields, msg; undefined fields left out). It is the busiest writer and its fields are
 * known: pino's generic serialisation (and the redaction pass, a wildcard path walking every field) were ~3% of
 * the router's CPU per request. router/test/log.test.ts checks it against a pino line.
 */
function requestLineWriter(enabled: boolean, out: { write(s: string): unknown }): RouterLogs['requests'] {
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
      out.write(`${line},"status":${l.status},"ms":${l.ms},"msg":"request"}\n`);
    },
  };
}

export function createLogs(level = process.env.LOG_LEVEL ?? 'info', flushIntervalMs = FLUSH_INTERVAL_MS): RouterLogs {
  const batched = !cluster.isWorker;
  const destination = pino.destination({ dest: STDOUT, sync: !batched, minLength: batched ? LOG_BATCH_BYTES : 0 });
  const batch = batched ? new LineBatch(destination) : undefined;
  if (batch) {
    flushAtExit(batch);
    setInterval(() => (batch.flush(), destination.flush()), flushIntervalMs).unref();
  }
  // A warning or an error goes out now. sonic-boom's flush() does nothing while a write is in flight, and what
  // it holds under minLength afterwards would wait for the next interval: so flush again when that write ends.
  let flushOnDrain = false;
  const flushNow = () => {
    destination.flush();
    if (flushOnDrain) return;
    flushOnDrain = true;
    destination.once('drain', () => {
      flushOnDrain = false;
      destination.flush();
    });
  };
  const log = pino(
    {
      level,
      redact: ['req.headers.authorization', '*.api_key'],
      hooks: {
        logMethod(args, method, levelValue) {
          batch?.flush();
          method.apply(this, args);
          if (batch && levelValue >= pino.levels.values.warn!) flushNow();
        },
      },
    },
    destination,
  );
  return {
    log,
    requests: requestLineWriter(log.isLevelEnabled('info'), batch ?? destination),
  };
}
