// Body reading for the chat fast path: identity-encoded UTF-8 JSON, which is what OpenAI SDKs send.
// Anything else (gzip/deflate/br, other charsets) takes the express route and its body-parser instead,
// so both paths accept the same requests; this one skips express's per-request middleware cost.
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import { type ApiError, apiError } from './errors.ts';

/** Thrown when the client hangs up before its body has arrived. */
export class BodyAbortedError extends Error {}

/**
 * The text each body object read here was parsed from, while the object lives (its request's lifetime; the bytes
 * stay counted in the body budget until the response closes). Bodies read by express's body-parser have none.
 */
const sourceText = new WeakMap<object, string>();

/** The JSON text `body` was parsed from, when the fast path read it and it is still that object. */
export const sourceTextOf = (body: object): string | undefined => sourceText.get(body);

const UTF8 = /^utf-?8$/i;

export function isPlainJsonRequest(headers: IncomingHttpHeaders): boolean {
  const encoding = headers['content-encoding'];
  if (encoding !== undefined && encoding.toLowerCase() !== 'identity') return false;
  const type = headers['content-type'];
  if (type === undefined || type === 'application/json') return true; // what SDKs send: no charset to read
  const charset = /charset\s*=\s*"?([^";\s]+)/i.exec(type);
  return !charset || UTF8.test(charset[1]!);
}

/** The 413 both body readers (this one and express's body-parser) answer with. */
export function tooLarge(limit: number): ApiError {
  return apiError('request_too_large', `Request body exceeds the limit of ${limit} bytes`);
}

/** The 400 both body readers answer with for a body that is not JSON. */
export function invalidJson(detail: string): ApiError {
  return apiError('invalid_json', `We could not parse the JSON body of your request: ${detail}`);
}

/**
 * The parsed body; rejects with an ApiError (400, 413, or `busy` when `reserve` refuses a chunk: too many body
 * bytes held router-wide) or BodyAbortedError. An empty body reads as {}.
 */
export function readJsonBody(
  req: IncomingMessage,
  limit: number,
  reserve: (bytes: number) => boolean = () => true,
  busy?: () => ApiError,
): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length']);
    if (declared > limit) {
      req.resume(); // drain, so the 413 can still be read by the client
      return reject(tooLarge(limit));
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    const onData = (chunk: Buffer) => {
      if (failed) return;
      size += chunk.length;
      if (size > limit) {
        failed = true;
        chunks.length = 0;
        reject(tooLarge(limit));
      } else if (!reserve(chunk.length)) {
        failed = true;
        chunks.length = 0;
        reject(busy?.() ?? tooLarge(limit));
      } else chunks.push(chunk);
    };
    const onEnd = () => {
      cleanup();
      if (failed) return;
      let text = (chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)).toString('utf8');
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1); // a UTF-8 byte-order mark is legal, JSON.parse rejects it
      if (text.trim() === '') return resolve({});
      try {
        const value: unknown = JSON.parse(text);
        if (typeof value === 'object' && value !== null) sourceText.set(value, text);
        resolve(value);
      } catch (err) {
        reject(invalidJson((err as Error).message));
      }
    };
    const onAbort = () => {
      cleanup();
      if (!failed) (failed = true), reject(new BodyAbortedError('client closed the request while sending its body'));
    };
    const cleanup = () => {
      req.off('data', onData).off('end', onEnd).off('close', onClose);
    };
    // 'close' before 'end' means the body never finished (an aborted request also closes; with no 'error'
    // listener, node does not emit its 'aborted' error).
    const onClose = () => {
      if (!req.complete) onAbort();
    };
    req.on('data', onData).on('end', onEnd).on('close', onClose);
  });
}
