// Events worth a log line: what an operator must act on or would ask about (refused credentials, cooldowns, an
// external classifier or shadow evaluation failing, a provider refusing a field, the shared state store lost and
// found). Requests have their own line
// (log.ts).
import type { Logger } from 'pino';
import { failureDetail } from '../http/upstream-errors.ts';
import type { RouterEvents } from './router-events.ts';

export function logSink(log: Logger): Partial<RouterEvents> {
  return {
    attemptFailed: ({ model, dep, failure }, label) => {
      if (label !== 'auth') return;
      const detail = failureDetail(failure, dep);
      if (detail)
        log.warn(
          { deployment: dep.config.id, model, upstream_said: detail },
          'upstream refused the router credentials',
        );
    },
    cooldownStarted: (dep, seconds, reason) =>
      log.warn({ model: dep.routerModel, deployment: dep.config.id, seconds, reason }, 'deployment cooling down'),
    externalClassifierFailed: (policy, reason) =>
      log.warn({ policy, reason }, 'external classifier failed; the built-in one answered'),
    streamOptionsRefused: (dep) =>
      log.warn(
        { deployment: dep.config.id },
        'upstream rejected stream_options.include_usage; streams from it are no longer costed',
      ),
    shadowFailed: (policy, err) => log.warn({ policy, err: String(err) }, 'shadow evaluation failed'),
    sharedStateLost: (redis, localShare) =>
      log.warn(
        { redis, local_share: localShare },
        'shared state: Redis unreachable; enforcing local limits (limit / replicas) until it answers again',
      ),
    sharedStateConnected: (redis) =>
      log.info({ redis }, 'shared state: connected to Redis; rate limits and cooldowns are shared'),
    sharedStateFailed: (what, message) =>
      log.warn(
        { err: message },
        what === 'command'
          ? 'shared state: Redis command failed'
          : 'shared state: Redis answered but the windows could not be updated',
      ),
    peerCooldown: (dep, seconds) =>
      log.info({ model: dep.routerModel, deployment: dep.config.id, seconds }, 'deployment cooling down (shared)'),
  };
}
