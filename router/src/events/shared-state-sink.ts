// Events the other replicas must hear (state.backend redis): a cooldown started here, and completion tokens that
// count against a shared tpm window.
import type { SharedState } from '../state/shared-state.ts';
import type { RouterEvents } from './router-events.ts';

/** `shared`: read at each event (the store is created after the deployments it watches). */
export function sharedStateSink(shared: () => SharedState | undefined): Partial<RouterEvents> {
  return {
    cooldownStarted: (dep, seconds, reason) => shared()?.publishCooldown(dep, seconds, reason),
    completionTokensRead: (dep, tokens) => shared()?.addTokens(dep, tokens),
  };
}
