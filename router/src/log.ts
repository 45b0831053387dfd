// The router's log: JSON lines on stdout (pino). A line per request is the busiest writer, so stdout is
// written asynchronously and in batches: a sync write to a full pipe blocked the event loop (it showed at
// p99), and a write per line cost a visible share of the router's CPU at saturation (bench-router). Lines are gathered
// here (StdoutLines) and written a batch at a time; they wait at most FLUSH_INTERVAL_MS; a warning or an error
// goes out at once, with what waited before it; what is left is written synchronously at exit (crash
// included). Only a SIGKILL can lose the last FLUSH_INTERVAL_MS of info lines.
// In --workers mode each worker writes each line at once, synchronously: workers share stdout, and a batch
// larger than PIPE_BUF could interleave with another worker's mid-line, while a one-line write cannot.
import cluster from 'node:cluster';
import { write as fsWrite, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { pino, type Logger } from 'pino';

/** About the bytes gathered before a write (under PIPE_BUF, 4 KiB on Linux). */
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

/** What pino.destination() returns (sonic-boom): the workers' synchronous stdout. */
type Destination = ReturnType<typeof pino.destination>;
const STDOUT = 1;
/** For a synchronous pause (Atomics.wait) while a full pipe drains at exit. */
const PAUSE = new Int32Array(new SharedArrayBuffer(4));
/** A non-blocking pipe that is full (EAGAIN): try again after this long, as sonic-boom does. */
const RETRY_FULL_PIPE_MS = 10;

type WriteFn = (
  fd: number,
  buffer: Buffer,
  offset: number,
  length: number,
  position: null,
  done: (err: NodeJS.ErrnoException | null, written: number) => void,
) => void;

/** What each of the two buffers lines are gathered in starts at; one grows when a backlog outgrows it. */
const GATHER_BYTES = 64 * 1024;
/** A buffer grown past this for a backlog is let go once written, not kept as the spare. */
const KEEP_BYTES = 4 * GATHER_BYTES;

/**
 * The primary process's stdout: lines gathered in a buffer and written asynchronously, about LOG_BATCH_BYTES
 * at a time, and everything gathered during a write in the next one. sonic-boom (pino.destination) writes one
 * buffer of at most 16 KiB per completed write, and a completion waits for a turn of the event loop: under many
 * connections a turn is long, request lines came in faster than they went out, and the pending buffers were
 * copied by every young-generation GC (bench-router). Lines are
 * copied as UTF-8 into a Buffer as they come (outside the JS heap): a line's string dies young, and lines
 * waiting for a write are not copied by each GC as strings were.
 * Two buffers take turns: one gathers while the other is written.
 */
export class StdoutLines {
  private gathering: Buffer = Buffer.allocUnsafe(GATHER_BYTES);
  private used = 0;
  /** The buffer the next write's lines are gathered in, once the write in flight ends. */
  private spare: Buffer | undefined = Buffer.allocUnsafe(GATHER_BYTES);
  private writing = false;
  /** A flush was asked for during a write: write what is gathered when it ends, whatever its size. */
  private urgent = false;
  /** stdout is gone (a closed pipe): lines are dropped, the process goes on. */
  private broken = false;
  private waiting: Array<() => void> = [];

  constructor(
    private readonly fd = STDOUT,
    private readonly batchBytes = LOG_BATCH_BYTES,
    private readonly writeFn: WriteFn = fsWrite,
  ) {}

  write(line: string): boolean {
    if (this.broken) return true;
    // A UTF-16 unit is at most 3 bytes of UTF-8 (a surrogate pair, 2 units, is 4): room for the worst case.
    const room = this.used + 3 * line.length;
    if (room > this.gathering.length) {
      const grown = Buffer.allocUnsafe(Math.max(room, 2 * this.gathering.length));
      this.gathering.copy(grown, 0, 0, this.used);
      this.gathering = grown;
    }
    this.used += this.gathering.write(line, this.used);
    if (!this.writing && this.used >= this.batchBytes) this.writeOut();
    return true;
  }

  /**
   * Writes what is gathered now, or when the write in flight ends; `done` is called once all of it is written
   * (pino's logger.flush(cb) passes one: shutdown exits from it).
   */
  flush(done?: () => void): void {
    if (done) this.waiting.push(done);
    if (this.writing) this.urgent = true;
    else if (this.used > 0) this.writeOut();
    else this.settle();
  }

  /** Nothing gathered and nothing in flight (or stdout gone): whoever waits for a flush is done. */
  private settle(): void {
    if (this.waiting.length === 0) return;
    const waiting = this.waiting;
    this.waiting = [];
    for (const done of waiting) done();
  }

  private writeOut(): void {
    const full = this.gathering;
    const out = full.subarray(0, this.used);
    this.gathering = this.spare ?? Buffer.allocUnsafe(GATHER_BYTES);
    this.spare = undefined;
    this.used = 0;
    this.urgent = false;
    this.writing = true;
    this.send(out, full);
  }

  /** Writes `buffer`, a part of `whole`; `whole` is the next spare once all of it is written. */
  private send(buffer: Buffer, whole: Buffer): void {
    this.writeFn(this.fd, buffer, 0, buffer.length, null, (err, written) => {
      if (err) {
        if (err.code === 'EAGAIN') {
          setTimeout(() => this.send(buffer, whole), RETRY_FULL_PIPE_MS);
          return;
        }
        this.broken = true;
        this.used = 0;
        this.writing = false;
        this.settle();
        return;
      }
      if (written < buffer.length) return this.send(buffer.subarray(written), whole);
      this.writing = false;
      if (whole.length <= KEEP_BYTES) this.spare = whole;
      const due = this.urgent || this.waiting.length > 0 || this.used >= this.batchBytes;
      if (due && this.used > 0) this.writeOut();
      else this.settle();
    });
  }

  /**
   * At exit: what is gathered, synchronously. A write still in flight is the thread pool's (as with sonic-boom's
   * flushSync); exit does not wait for it.
   */
  flushSync(): void {
    if (this.broken) return;
    try {
      let rest = this.gathering.subarray(0, this.used);
      this.used = 0;
      for (let busy = 0; rest.length > 0; ) {
        try {
          rest = rest.subarray(writeSync(this.fd, rest));
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'EAGAIN' || ++busy > 100) throw err;
          Atomics.wait(PAUSE, 0, 0, RETRY_FULL_PIPE_MS);
        }
      }
    } catch {
      // stdout is gone (a closed pipe): nothing can be written, and exit must not fail for it.
    }
  }
}

/** Writers to flush at exit; one 'exit' listener however many logs a process creates (tests create several). */
const atExit = new Set<StdoutLines>();
function flushAtExit(out: StdoutLines): void {
  if (atExit.size === 0)
    process.on('exit', () => {
      for (const b of atExit) b.flushSync();
    });
  atExit.add(out);
}

/**
 * The request line written straight to pino's destination (or its batch), in pino's own format (level, time,
 * pid, hostname, the fields, msg; undefined fields left out). It is the busiest writer and its fields are
 * known: pino's generic serialisation (and the redaction pass, a wildcard path walking every field) showed in the
 * router's CPU per request. router/test/log.test.ts checks it against a pino line.
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
  const out: StdoutLines | Destination = cluster.isWorker
    ? pino.destination({ dest: STDOUT, sync: true })
    : new StdoutLines();
  const batched = out instanceof StdoutLines ? out : undefined;
  if (batched) {
    flushAtExit(batched);
    setInterval(() => batched.flush(), flushIntervalMs).unref();
  }
  const log = pino(
    {
      level,
      redact: ['req.headers.authorization', '*.api_key'],
      hooks: {
        logMethod(args, method, levelValue) {
          method.apply(this, args);
          // A warning or an error goes out now, with every line gathered before it.
          if (batched && levelValue >= pino.levels.values.warn!) batched.flush();
        },
      },
    },
    out,
  );
  return {
    log,
    requests: requestLineWriter(log.isLevelEnabled('info'), out),
  };
}
