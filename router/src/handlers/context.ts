import type { ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { RouterEvents } from '../events/router-events.ts';
import type { RouterLogs } from '../log.ts';
import type { RouterConfig } from '../config/schema.ts';
import type { RouterMetrics } from '../metrics/router-metrics.ts';
import type { Policy } from '../routing/policies.ts';
import type { RecentDecisions } from '../quality/recent-decisions.ts';
import type { ShadowEvaluator } from '../quality/shadow.ts';
import type { ConversationSessions } from '../routing/sessions.ts';
import type { TargetResolver } from '../routing/resolve-target.ts';
import type { SharedState } from '../state/shared-state.ts';
import type { DeploymentRegistry } from '../upstream/deployments.ts';

/** Everything a request handler needs, built once at start-up. */
export interface RouterContext {
  config: RouterConfig;
  policies: Map<string, Policy>;
  resolver: TargetResolver;
  deployments: DeploymentRegistry;
  /** The registry /metrics serves; written through `events` (events/metrics-sink.ts). */
  metrics: RouterMetrics;
  /** What happens, for metrics, logs and the other replicas (events/). */
  events: RouterEvents;
  log: Logger;
  /** The line per request (log.ts). */
  requestLog: RouterLogs['requests'];
  /** Responses streaming now: a drain that times out ends them with an error event before cutting connections. */
  openStreams: Set<ServerResponse>;
  /** Conversations' pinned models (routing/sessions.ts). */
  sessions: ConversationSessions;
  /** Recent answers' routing decisions, for feedback (quality/recent-decisions.ts). */
  decisions: RecentDecisions;
  /** Shadow evaluation of policies that have `shadow:` (quality/shadow.ts). */
  shadow?: ShadowEvaluator;
  /** Rate-limit windows and cooldowns shared with other replicas (state.backend redis). */
  shared?: SharedState;
}
