// Optional client API keys ("Authorization: Bearer <key>", or "x-api-key: <key>" as Anthropic's clients send it).
// Keys are compared as SHA-256 digests in constant time; only the key's configured name reaches logs and metrics.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { RouterConfig } from '../config/schema.ts';
import { type ApiError, apiError } from './errors.ts';

const digest = (key: string) => createHash('sha256').update(key).digest();
export const ANONYMOUS_CLIENT = 'anonymous';

/** Returns a check: the caller's key name (ANONYMOUS_CLIENT when auth is off), or the 401 to send. */
export function clientAuth(
  config: RouterConfig['auth'],
  onFailure: (reason: 'missing_api_key' | 'invalid_api_key') => void = () => {},
) {
  const keys = config.api_keys.map((k) => ({ name: k.name, digest: digest(k.key) }));
  return (req: IncomingMessage): string | ApiError => {
    if (keys.length === 0) return ANONYMOUS_CLIENT;
    const bearer = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? '')?.[1];
    const xApiKey = req.headers['x-api-key'];
    const key = bearer ?? (typeof xApiKey === 'string' && xApiKey ? xApiKey : undefined);
    if (!key) {
      onFailure('missing_api_key');
      return apiError('missing_api_key', "You didn't provide an API key. Send it as 'Authorization: Bearer YOUR_KEY'.");
    }
    const presented = digest(key.trim());
    const match = keys.find((k) => timingSafeEqual(k.digest, presented));
    if (!match) {
      onFailure('invalid_api_key');
      return apiError('invalid_api_key', 'Incorrect API key provided.');
    }
    return match.name;
  };
}
