// Errors on the express routes (everything but the inference fast path), in OpenAI's shape: body-parser's
// failures map to the same 400/413/415 the fast path's reader answers, never a 500 for bad input.
import type { NextFunction, Request, Response } from 'express';
import type { Logger } from 'pino';
import { ApiError, apiError, sendApiError } from './errors.ts';
import { invalidJson, tooLarge } from './read-json-body.ts';

export function expressErrorHandler(maxBodyBytes: number, log: Logger, onAbandoned: (path: string) => void) {
  // Express needs the 4-argument signature to treat this as the error handler.
  return (err: unknown, req: Request, res: Response, _next: NextFunction) => {
    if (err instanceof ApiError) return sendApiError(res, err);
    const type = (err as { type?: string })?.type;
    if (type === 'entity.parse.failed') return sendApiError(res, invalidJson((err as Error).message));
    if (type === 'entity.too.large') return sendApiError(res, tooLarge(maxBodyBytes));
    if (type === 'encoding.unsupported' || type === 'charset.unsupported')
      return sendApiError(res, apiError('unsupported_encoding', (err as Error).message));
    if (type === 'request.aborted') return onAbandoned(req.path);
    // Any other client-side failure body-parser reports (e.g. a body that is not the gzip it claims to be).
    const status = (err as { status?: number; expose?: boolean })?.status;
    if (status !== undefined && status >= 400 && status < 500 && (err as { expose?: boolean }).expose) {
      return sendApiError(
        res,
        apiError('invalid_body', `Could not read the request body: ${(err as Error).message}`, { status }),
      );
    }
    log.error({ err }, 'unhandled error');
    sendApiError(res, ApiError.internal());
  };
}
