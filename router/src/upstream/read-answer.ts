// One upstream request whose whole answer is wanted at once (every non-stream call): sent with undici's
// dispatch API and a handler that keeps the chunks, instead of pool.request(). request() wraps each answer
// in an async resource, a Readable stream and a promise to consume it; for a body read whole, that was a large
// share of the router's CPU per request (measured against the same proxy with dispatch, same run).
import type { IncomingHttpHeaders } from 'node:http';
import type { Dispatcher } from 'undici';
import { errors as undiciErrors } from 'undici';
import type { AbortEmitter } from './abort-emitter.ts';
import type { ByteBudget } from './byte-budget.ts';

/** How much of an answer that is not a 2xx is kept (an error body: logged, and may be passed on). */
export const ERROR_BODY_LIMIT = 64 * 1024;

export interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  /** When the status line and headers arrived (process.hrtime.bigint()). */
  headersAt: bigint;
  /** The body as text; null when it was over the limit (the connection is then dropped, not read to the end). */
  text: string | null;
  /** The body failed after the headers (timeout, reset): `text` is then what the caller must not trust. */
  bodyError?: Error;
  /** The router's budget for answers held at once was spent: `text` is null, and no deployment is to blame. */
  overBudget?: boolean;
  /** Give back the answer's bytes to the budget: once, when the router no longer holds the text. */
  release(): void;
}

export interface AnswerLimits {
  /** Bytes of a 2xx answer (the deployment's max_response_bytes) and of any other (an error body). */
  ok: number;
  other: number;
  /** Bytes of all answers the router holds at once. */
  budget: ByteBudget;
}

/** Told when the answer's headers, then each chunk of its body, arrive (the attempt's first-byte and idle limits). */
export interface AnswerProgress {
  received(): void;
}

const NO_PROGRESS: AnswerProgress = { received() {} };

/**
 * Send `options` and read the answer whole, up to `limits.ok` bytes for a 2xx and `limits.other` for any other
 * status (a declared length over the limit is refused before any byte). Rejects only when no answer arrived
 * (connect, first-byte timeout, abort); a failure after the headers is `bodyError`. `signal` aborts it, as it
 * aborts pool.request().
 */
export function readAnswer(
  dispatcher: Dispatcher,
  options: Dispatcher.DispatchOptions,
  signal: AbortEmitter,
  limits: AnswerLimits,
  progress: AnswerProgress = NO_PROGRESS,
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    dispatcher.dispatch(options, new AnswerReader(signal, limits, progress, resolve, reject));
  });
}

const aborted = () => new undiciErrors.RequestAbortedError();

/** The dispatch handler: one object per call, its methods on the prototype (no closures per request). */
class AnswerReader implements Dispatcher.DispatchHandler {
  private answer: Answer | undefined;
  private chunks: Buffer[] = [];
  private size = 0;
  private limit = 0;
  private settled = false;
  private controller: Dispatcher.DispatchController | undefined;
  private readonly onAbort = () => this.controller?.abort(aborted());
  /** Bytes reserved in the budget, given back by the answer's release() (or at once when there is no answer). */
  private reserved = 0;
  private readonly release = () => {
    this.limits.budget.release(this.reserved);
    this.reserved = 0;
  };

  constructor(
    private readonly signal: AbortEmitter,
    private readonly limits: AnswerLimits,
    private readonly progress: AnswerProgress,
    private readonly resolve: (a: Answer) => void,
    private readonly reject: (err: Error) => void,
  ) {
    signal.on('abort', this.onAbort);
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    if (this.signal.aborted) controller.abort(aborted());
  }

  onResponseStart(controller: Dispatcher.DispatchController, status: number, headers: IncomingHttpHeaders): void {
    if (status < 200) return; // 1xx: the real answer follows
    this.progress.received();
    this.answer = { status, headers, headersAt: process.hrtime.bigint(), text: null, release: this.release };
    this.limit = status < 300 ? this.limits.ok : this.limits.other;
    const declared = headers['content-length'];
    if (declared !== undefined && Number(declared) > this.limit) this.overLimit(controller);
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.settled) return;
    this.progress.received();
    this.size += chunk.length;
    if (this.size > this.limit) this.overLimit(controller);
    else if (!this.limits.budget.reserve(chunk.length)) {
      this.answer!.overBudget = true;
      this.overLimit(controller);
    } else {
      this.reserved += chunk.length;
      this.chunks.push(chunk);
    }
  }

  onResponseEnd(): void {
    const { answer, chunks } = this;
    if (this.settled || !answer) return;
    this.settle();
    answer.text = (chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)).toString('utf8');
    this.resolve(answer);
  }

  onResponseError(_controller: Dispatcher.DispatchController, err: Error): void {
    if (this.settled) return;
    this.settle();
    if (!this.answer) {
      this.release();
      this.reject(err);
      return;
    }
    this.answer.text = null;
    this.answer.bodyError = err;
    this.resolve(this.answer);
  }

  /** Past a limit: answer now without the body, and drop the connection rather than read the rest. */
  private overLimit(controller: Dispatcher.DispatchController): void {
    this.settle();
    this.chunks = [];
    this.release();
    this.resolve(this.answer!);
    controller.abort(aborted());
  }

  private settle(): void {
    this.settled = true;
    this.signal.off('abort', this.onAbort);
  }
}
