// One upstream request whose whole answer is wanted at once (every non-stream call): sent with undici's
// dispatch API and a handler that keeps the chunks, instead of pool.request(). request() wraps each answer
// in an async resource, a Readable stream and a promise to consume it; for a body read whole, that was
// ~10% of the router's CPU per request (measured against the same proxy with dispatch, same run).
import type { IncomingHttpHeaders } from 'node:http';
import type { Dispatcher } from 'undici';
import { errors as undiciErrors } from 'undici';
import type { AbortEmitter } from './abort-emitter.ts';

export interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  /** When the status line and headers arrived (process.hrtime.bigint()). */
  headersAt: bigint;
  /** The body as text; null when it was over the limit (the connection is then dropped, not read to the end). */
  text: string | null;
  /** The body failed after the headers (timeout, reset): `text` is then what the caller must not trust. */
  bodyError?: Error;
}

/**
 * Send `options` and read the answer whole, up to `limitFor(status)` bytes (a declared length over it is
 * refused before any byte). Rejects only when no answer arrived (connect, first-byte timeout, abort); a
 * failure after the headers is `bodyError`. `signal` aborts it, as it aborts pool.request().
 */
export function readAnswer(
  dispatcher: Dispatcher,
  options: Dispatcher.DispatchOptions,
  signal: AbortEmitter,
  limitFor: (status: number) => number,
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    let answer: Answer | undefined;
    let chunks: Buffer[] = [];
    let size = 0;
    let limit = 0;
    let settled = false;
    let controller: Dispatcher.DispatchController | undefined;
    const aborted = () => new undiciErrors.RequestAbortedError();
    const onAbort = () => controller?.abort(aborted());
    const settle = () => {
      settled = true;
      signal.off('abort', onAbort);
    };
    const fail = (err: Error) => {
      if (settled) return;
      settle();
      if (!answer) return reject(err);
      answer.text = null;
      answer.bodyError = err;
      resolve(answer);
    };
    /** Past the limit: answer now without the body, and drop the connection rather than read the rest. */
    const overLimit = (c: Dispatcher.DispatchController) => {
      settle();
      chunks = [];
      resolve(answer!);
      c.abort(aborted());
    };
    signal.once('abort', onAbort);
    dispatcher.dispatch(options, {
      onRequestStart(c) {
        controller = c;
        if (signal.aborted) c.abort(aborted());
      },
      onResponseStart(c, status, headers) {
        if (status < 200) return; // 1xx: the real answer follows
        answer = { status, headers, headersAt: process.hrtime.bigint(), text: null };
        limit = limitFor(status);
        const declared = headers['content-length'];
        if (declared !== undefined && Number(declared) > limit) overLimit(c);
      },
      onResponseData(c, chunk) {
        if (settled) return;
        size += chunk.length;
        if (size > limit) return overLimit(c);
        chunks.push(chunk);
      },
      onResponseEnd() {
        if (settled || !answer) return;
        settle();
        answer.text = (chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)).toString('utf8');
        resolve(answer);
      },
      onResponseError(_c, err) {
        fail(err);
      },
    });
  });
}
