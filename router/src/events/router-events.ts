// What happens in the router that metrics and logs record, as one interface: one method per event, called where it
// happens; sinks (metrics-sink.ts, log-sink.ts, shared-state-sink.ts) each turn the events they care about into
// series, log lines or messages to the other replicas. Adding a metric is its name (common/src/metric-names.ts)
// and one sink method.
import type { RequestOutcome } from '../metrics/request-recorder.ts';
import type { SharedStateEvents } from '../state/redis-state.ts';
import type { AttemptsHooks } from '../upstream/attempts.ts';
import type { Deployment, DeploymentEvents } from '../upstream/deployments.ts';

export type AuthFailure = 'missing_api_key' | 'invalid_api_key';
export type ShadowDrop = 'queue_full' | 'rate_limit' | 'budget' | 'failed';

/** With the attempts' own events (upstream/attempts.ts: a local rate limit, a retry, a failed attempt), the
 * deployments' (upstream/deployments.ts: a cooldown started here, completion tokens read) and the shared state's
 * (state/redis-state.ts: a decision on local limits, the store lost and found, a peer's cooldown). */
export interface RouterEvents extends AttemptsHooks, DeploymentEvents, SharedStateEvents {
  /** A request arrived from `client` (the API key's name). */
  requestStarted(client: string): void;
  /** It left (on every path, once). */
  requestLeft(): void;
  classified(classifier: string, seconds: number): void;
  /** A quality policy's strong-need score for the request. */
  scored(policy: string, score: number): void;
  /** A conversation's session kept, raised or started the routed model. */
  sessionDecided(policy: string, outcome: string): void;
  /** An external classifier failed; the built-in one answered. */
  externalClassifierFailed(policy: string, reason: string): void;
  /** Served by a later model of the plan than the decided one. */
  fellBack(from: string, to: string, reason: string): void;
  /** A deployment refused stream_options.include_usage: its streams are no longer costed. */
  streamOptionsRefused(dep: Deployment): void;
  /** One per request, on every path: what was asked, how it was routed, what served it, how it ended. */
  requestFinished(outcome: RequestOutcome): void;
  /** The client left while still sending its body (counted as a 499). */
  requestAbandoned(endpoint: string): void;
  authFailed(reason: AuthFailure): void;
  feedbackScored(answer: { policy: string; class: string; model: string }, score: number): void;
  shadowJudged(policy: string, cls: string, model: string, verdict: string): void;
  shadowSpent(policy: string, usd: number): void;
  shadowDropped(policy: string, reason: ShadowDrop): void;
  shadowFailed(policy: string, err: unknown): void;
}

/** Every event's name, so a fan-out can be built for each (the check below fails to compile if one is missing). */
const EVENT_NAMES = [
  'rateLimitedLocally',
  'retry',
  'attemptFailed',
  'requestStarted',
  'requestLeft',
  'classified',
  'scored',
  'sessionDecided',
  'externalClassifierFailed',
  'fellBack',
  'streamOptionsRefused',
  'requestFinished',
  'requestAbandoned',
  'authFailed',
  'cooldownStarted',
  'completionTokensRead',
  'localDecision',
  'sharedStateLost',
  'sharedStateConnected',
  'sharedStateFailed',
  'peerCooldown',
  'feedbackScored',
  'shadowJudged',
  'shadowSpent',
  'shadowDropped',
  'shadowFailed',
] as const satisfies ReadonlyArray<keyof RouterEvents>;
type Unlisted = Exclude<keyof RouterEvents, (typeof EVENT_NAMES)[number]>;
const everyEventListed: [Unlisted] extends [never] ? true : Unlisted = true;
void everyEventListed;

type Handler = (...args: never[]) => void;
const noop = () => {};

/** One RouterEvents from sinks that each handle some events: each event calls every sink that handles it. */
export function fanOut(...sinks: Array<Partial<RouterEvents>>): RouterEvents {
  const events: Record<string, Handler> = {};
  for (const name of EVENT_NAMES) {
    const handlers = sinks.map((s) => s[name] as Handler | undefined).filter((h): h is Handler => h !== undefined);
    events[name] =
      handlers.length === 0
        ? noop
        : handlers.length === 1
          ? handlers[0]!
          : (...args: never[]) => {
              for (const h of handlers) h(...args);
            };
  }
  return events as unknown as RouterEvents;
}

/** Events that go nowhere (tests, tools). */
export const NO_EVENTS: RouterEvents = fanOut();
