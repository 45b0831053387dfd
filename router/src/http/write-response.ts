// Writing an upstream success to the client: a JSON body at once, or a stream passed through event by event
// (never buffered beyond one event) with backpressure, the total timeout, and usage and first token read on
// the way.
import type { ServerResponse } from 'node:http';
import type { AbortEmitter } from '../upstream/abort-emitter.ts';
import { withRequestId } from './request-meta.ts';
import { type AttemptResult, failureOf } from '../upstream/call-deployment.ts';
import type { UpstreamFailure } from '../upstream/failures.ts';
import { SseTap, type SseDialect } from '@llm-router/common/sse-tap';
import type { Usage } from '@llm-router/common/pricing';
import type { StreamTranslator } from '../providers/provider.ts';

/** A Server-Timing duration: milliseconds with three decimals. */
export const timingMs = (seconds: number) => (seconds * 1000).toFixed(3);

/** `headers`: the answer's other headers (a flat name, value list), written with these in one writeHead. */
export function writeJson(
  res: ServerResponse,
  result: Extract<AttemptResult, { kind: 'body' }>,
  headers: string[],
  timing: string,
  totalSeconds: number,
): void {
  headers.push(
    'server-timing',
    `${timing}, upstream;dur=${timingMs(result.upstreamSeconds)}, total;dur=${timingMs(totalSeconds)}`,
    'content-type',
    'application/json',
    'content-length',
    String(Buffer.byteLength(result.text)),
  );
  res.writeHead(result.status, withRequestId(res, headers)).end(result.text);
}

/**
 * Resolves when the client has read what was written ('drain'), has gone, or `attempt` was aborted (the
 * total timeout: a client that stops reading must not hold the deployment forever). Checks first, since
 * any of these may already have happened, and removes its listeners whichever way it ends.
 */
function writable(res: ServerResponse, attempt: AbortEmitter): Promise<void> {
  if (res.destroyed || !res.writableNeedDrain || attempt.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done).off('close', done);
      attempt.off('abort', done);
      resolve();
    };
    res.on('drain', done).on('close', done);
    attempt.on('abort', done);
  });
}

export type StreamEnd =
  | { kind: 'done'; usage?: Usage; upstreamSeconds: number; text?: string }
  /** The client left: nothing more to write. */
  | { kind: 'client_gone'; usage?: Usage; upstreamSeconds: number }
  /** The upstream failed mid-stream (headers are sent: the caller ends it with an error event). */
  | { kind: 'failed'; failure: UpstreamFailure; usage?: Usage; upstreamSeconds: number };

export interface StreamOptions {
  /** The answer's other headers (a flat name, value list). */
  headers: string[];
  timing: string;
  /** The usage chunk the router asked for is dropped unless the client asked for it too. */
  clientWantsUsage: boolean;
  maxEventBytes: number;
  dialect: SseDialect;
  onFirstToken(): void;
  elapsed(): number;
  clientGone: AbortEmitter;
  /** Keep the answer's text (StreamEnd.text): for shadow evaluation. */
  collectText?: boolean;
  /** A provider whose stream is not OpenAI's (providers/): its events become OpenAI chunks before anything else. */
  translator?: StreamTranslator;
  /** Another API in front (Anthropic's Messages): the chunks, once read, become its events for the client. */
  output?: StreamTranslator;
  /** The client gets the upstream's stream untouched (its own API); it is still read, translated, for metrics. */
  raw?: boolean;
}

export async function pipeStream(
  res: ServerResponse,
  result: Extract<AttemptResult, { kind: 'stream' }>,
  o: StreamOptions,
): Promise<StreamEnd> {
  const upstreamElapsed = () => Number(process.hrtime.bigint() - result.startedAt) / 1e9;
  const tap = new SseTap(!o.clientWantsUsage, o.onFirstToken, o.maxEventBytes, o.dialect);
  tap.collectText = o.collectText === true;
  o.headers.push(
    'content-type',
    'text/event-stream',
    'cache-control',
    'no-cache',
    // Total time is only known at the end of a stream: it comes as a trailer.
    'server-timing',
    `${o.timing}, upstream-headers;dur=${timingMs(upstreamElapsed())}`,
    'trailer',
    'server-timing',
  );
  res.writeHead(result.status, withRequestId(res, o.headers));
  res.flushHeaders();
  const decoder = new TextDecoder();
  try {
    for await (const chunk of result.response.body) {
      result.attempt.received();
      // A binary stream (AWS's event stream) goes to its translator as bytes; text streams are decoded first.
      const text = o.translator?.pushBytes ? '' : decoder.decode(chunk as Buffer, { stream: true });
      const chunks = tap.push(
        o.translator?.pushBytes
          ? o.translator.pushBytes(chunk as Buffer)
          : o.translator
            ? o.translator.push(text)
            : text,
      );
      // Raw: the client gets what the upstream sent (read above only for metrics).
      const out = o.raw ? text : o.output && chunks ? o.output.push(chunks) : chunks;
      if (out && !res.write(out)) {
        result.attempt.waitForClient(true);
        await writable(res, result.attempt);
        result.attempt.waitForClient(false);
      }
      if (res.destroyed) break;
      if (result.attempt.aborted) throw new Error('attempt aborted');
    }
  } catch (err) {
    const end = { usage: tap.result.usage, upstreamSeconds: upstreamElapsed() };
    return o.clientGone.aborted
      ? { kind: 'client_gone', ...end }
      : { kind: 'failed', failure: failureOf(result.attempt, err), ...end };
  }
  const translated = o.translator ? tap.push(o.translator.flush()) : '';
  const rest = translated + tap.flush(); // an unterminated last event may still hold the usage
  const end = { usage: tap.result.usage, upstreamSeconds: upstreamElapsed() };
  if (res.destroyed) return { kind: 'client_gone', ...end };
  res.addTrailers({ 'server-timing': `total;dur=${timingMs(o.elapsed())}` });
  res.end(o.raw ? decoder.decode() : o.output ? o.output.push(rest) + o.output.flush() : rest);
  return { kind: 'done', ...end, ...(tap.result.text !== undefined ? { text: tap.result.text } : {}) };
}
