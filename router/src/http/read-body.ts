// The one body reader of every route: JSON in UTF-8 (what SDKs send) read as it arrives, and what else HTTP allows a
// client — gzip, deflate or br bodies, UTF-16 — decoded with Node's own zlib and TextDecoder. The limit holds on the
// bytes received and on the decoded size (a small gzip cannot expand past it); each chunk is reserved against the
// router-wide body budget as it arrives.
import type { IncomingMessage } from 'node:http';
import { promisify } from 'node:util';
import { brotliDecompress, gunzip, inflate } from 'node:zlib';
import { type ApiError, apiError } from './errors.ts';

/** Thrown when the client hangs up before its body has arrived. */
export class BodyAbortedError extends Error {}

/** A parsed body and the JSON text it was parsed from (the upstream gets that text when nothing must change). */
export interface ReadBody {
  value: unknown;
  /** Undefined for an empty body (read as {}). */
  text: string | undefined;
}

type Decompress = (buf: Buffer, options: { maxOutputLength: number }) => Promise<Buffer>;
const DECOMPRESS: Record<string, Decompress> = {
  gzip: promisify(gunzip),
  'x-gzip': promisify(gunzip),
  deflate: promisify(inflate),
  br: promisify(brotliDecompress),
};

/** The 413 for a body over the limit. */
export function tooLarge(limit: number): ApiError {
  return apiError('request_too_large', `Request body exceeds the limit of ${limit} bytes`);
}

/** The 400 for a body that is not JSON. */
export function invalidJson(detail: string): ApiError {
  return apiError('invalid_json', `We could not parse the JSON body of your request: ${detail}`);
}

/** How to turn the request's bytes into text: its content encoding and charset, or the 415 for ones we cannot read. */
function decoding(req: IncomingMessage): { decompress?: Decompress; charset?: string } | ApiError {
  const encoding = (req.headers['content-encoding'] ?? 'identity').trim().toLowerCase();
  const decompress = DECOMPRESS[encoding];
  if (!decompress && encoding !== 'identity')
    return apiError(
      'unsupported_encoding',
      `unsupported content encoding "${encoding}": send gzip, deflate, br or none`,
    );
  const type = req.headers['content-type'];
  const declared = type === undefined ? undefined : /charset\s*=\s*"?([^";\s]+)/i.exec(type)?.[1]?.toLowerCase();
  const charset = declared === undefined || declared === 'utf-8' || declared === 'utf8' ? undefined : declared;
  // JSON is Unicode (RFC 8259): UTF-8, or UTF-16 where a client says so.
  if (charset !== undefined && !/^utf-16(le|be)?$/.test(charset))
    return apiError('unsupported_encoding', `unsupported charset "${charset.toUpperCase()}": JSON must be UTF-8`);
  return { ...(decompress ? { decompress } : {}), ...(charset ? { charset } : {}) };
}

/** Parses JSON text (a UTF-8 byte-order mark allowed, an empty body read as {}). */
function parse(raw: string): ReadBody {
  const text = raw.charCodeAt(0) === 0xfeff ? raw.slice(1) : raw; // legal in a body, JSON.parse rejects it
  if (text.trim() === '') return { value: {}, text: undefined };
  try {
    return { value: JSON.parse(text), text };
  } catch (err) {
    throw invalidJson((err as Error).message);
  }
}

/** Bytes to text: decompressed when the body says it is compressed, then decoded from its charset. */
async function decode(bytes: Buffer, how: { decompress?: Decompress; charset?: string }, limit: number) {
  let plain = bytes;
  if (how.decompress)
    try {
      plain = await how.decompress(bytes, { maxOutputLength: limit });
    } catch (err) {
      if ((err as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') throw tooLarge(limit);
      throw apiError('invalid_body', `Could not read the request body: ${(err as Error).message}`);
    }
  return how.charset ? new TextDecoder(how.charset).decode(plain) : plain.toString('utf8');
}

/**
 * The parsed body; rejects with an ApiError (400, 413, 415, or `busy` when `reserve` refuses a chunk: too many body
 * bytes held router-wide) or BodyAbortedError.
 */
export async function readJsonBody(
  req: IncomingMessage,
  limit: number,
  reserve: (bytes: number) => boolean = () => true,
  busy?: () => ApiError,
): Promise<ReadBody> {
  const how = decoding(req);
  if (!(how instanceof Error)) {
    const bytes = await readBytes(req, limit, reserve, busy);
    // What SDKs send (UTF-8, not compressed) is parsed straight from the bytes.
    return parse(how.decompress || how.charset ? await decode(bytes, how, limit) : bytes.toString('utf8'));
  }
  req.resume(); // drain, so the 415 can still be read by the client
  throw how;
}

/** The body's bytes as they came, within `limit` and the budget. */
function readBytes(
  req: IncomingMessage,
  limit: number,
  reserve: (bytes: number) => boolean,
  busy?: () => ApiError,
): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length']);
    if (declared > limit) {
      req.resume(); // drain, so the 413 can still be read by the client
      return reject(tooLarge(limit));
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    const fail = (err: Error) => {
      failed = true;
      chunks.length = 0;
      reject(err);
    };
    const onData = (chunk: Buffer) => {
      if (failed) return;
      size += chunk.length;
      if (size > limit) fail(tooLarge(limit));
      else if (!reserve(chunk.length)) fail(busy?.() ?? tooLarge(limit));
      else chunks.push(chunk);
    };
    const onEnd = () => {
      cleanup();
      if (!failed) resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks));
    };
    // 'close' before 'end' means the body never finished (an aborted request also closes; with no 'error'
    // listener, node does not emit its 'aborted' error).
    const onClose = () => {
      if (req.complete) return;
      cleanup();
      if (!failed) fail(new BodyAbortedError('client closed the request while sending its body'));
    };
    const cleanup = () => void req.off('data', onData).off('end', onEnd).off('close', onClose);
    req.on('data', onData).on('end', onEnd).on('close', onClose);
  });
}
