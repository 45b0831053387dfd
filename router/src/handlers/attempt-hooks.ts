// What the attempts on deployments leave in the metrics and the log (rate limits, retries, failures, refused
// credentials): one set of hooks for client requests and for the router's own calls (shadow evaluation).
import type { Logger } from 'pino';
import { failureDetail } from '../http/upstream-errors.ts';
import type { RouterMetrics } from '../metrics/router-metrics.ts';
import type { AttemptsHooks } from '../upstream/attempts.ts';

export function attemptHooks(metrics: RouterMetrics, log: Logger): AttemptsHooks {
  return {
    rateLimitedLocally: (model, n) => metrics.rateLimited.inc({ model, source: 'local' }, n),
    retry: (model, reason) => metrics.retries.inc({ model, reason }),
    failed: ({ model, dep, failure }, label) => {
      metrics.deploymentFailures.inc({ model, deployment: dep.config.id, reason: label });
      if (label === '429') metrics.rateLimited.inc({ model, source: 'upstream' });
      if (label !== 'auth') return;
      const detail = failureDetail(failure, dep);
      if (detail)
        log.warn(
          { deployment: dep.config.id, model, upstream_said: detail },
          'upstream refused the router credentials',
        );
    },
  };
}
