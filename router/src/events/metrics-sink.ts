// Events as Prometheus series: the request's own (through RequestRecorder's per-label-set series), attempts,
// fallbacks, cooldowns, auth, shared state, feedback and shadow evaluation.
import type { RouterMetrics } from '../metrics/router-metrics.ts';
import { RequestRecorder } from '../metrics/request-recorder.ts';
import type { RouterEvents } from './router-events.ts';

export function metricsSink(metrics: RouterMetrics): Partial<RouterEvents> {
  const recorder = new RequestRecorder(metrics);
  return {
    requestStarted: (client) => recorder.started(client),
    requestLeft: () => recorder.left(),
    classified: (classifier, seconds) => recorder.classified(classifier, seconds),
    scored: (policy, score) => recorder.scored(policy, score),
    requestFinished: (outcome) => recorder.record(outcome),
    requestAbandoned: (endpoint) =>
      metrics.requests.inc({ endpoint, policy: 'none', class: 'none', model: 'none', status: '499' }),
    sessionDecided: (policy, outcome) => metrics.sessionDecisions.inc({ policy, outcome }),
    externalClassifierFailed: (policy, reason) => metrics.externalClassifierFallbacks.inc({ policy, reason }),
    fellBack: (from, to, reason) => metrics.fallbacks.inc({ from, to, reason }),
    rateLimitedLocally: (model, n) => metrics.rateLimited.inc({ model, source: 'local' }, n),
    retry: (model, reason) => metrics.retries.inc({ model, reason }),
    attemptFailed: ({ model, dep }, label) => {
      metrics.deploymentFailures.inc({ model, deployment: dep.config.id, reason: label });
      if (label === '429') metrics.rateLimited.inc({ model, source: 'upstream' });
    },
    cooldownStarted: (dep, _seconds, reason) =>
      metrics.deploymentCooldowns.inc({ model: dep.routerModel, deployment: dep.config.id, reason }),
    authFailed: (reason) => metrics.authFailures.inc({ reason }),
    localDecision: () => metrics.sharedStateLocalDecisions.inc(),
    feedbackScored: (answer, score) => metrics.feedbackScore.observe(answer, score),
    shadowJudged: (policy, cls, model, verdict) => metrics.shadowVerdicts.inc({ policy, class: cls, model, verdict }),
    shadowSpent: (policy, usd) => metrics.shadowCost.inc({ policy }, usd),
    shadowDropped: (policy, reason) => metrics.shadowDropped.inc({ policy, reason }),
  };
}
