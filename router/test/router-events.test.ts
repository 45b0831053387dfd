// Router events: each event reaches every sink that handles it, in order; one no sink handles is a no-op; the
// metrics sink writes the series the dashboards read.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { metricsSink } from '../src/events/metrics-sink.ts';
import { fanOut, NO_EVENTS } from '../src/events/router-events.ts';
import { createRouterMetrics } from '../src/metrics/router-metrics.ts';

test('fan-out: every sink that handles an event gets it, in order; the others are not asked', () => {
  const seen: string[] = [];
  const events = fanOut(
    { retry: (model, reason) => seen.push(`a:${model}:${reason}`), authFailed: (r) => seen.push(`a:${r}`) },
    { retry: (model) => seen.push(`b:${model}`) },
    {},
  );
  events.retry('m', '503');
  events.authFailed('invalid_api_key');
  events.localDecision(); // no sink handles it
  assert.deepEqual(seen, ['a:m:503', 'b:m', 'a:invalid_api_key']);
  for (const [name, fn] of Object.entries(NO_EVENTS)) assert.equal(typeof fn, 'function', name);
  assert.ok(Object.keys(NO_EVENTS).length >= 20, 'every event has a method');
});

test('the metrics sink: fallbacks, abandoned requests, feedback and shadow events land in their series', async () => {
  const metrics = createRouterMetrics();
  const events = fanOut(metricsSink(metrics));
  events.fellBack('big', 'small', 'error');
  events.requestAbandoned('chat');
  events.feedbackScored({ policy: 'p', class: 'c', model: 'small' }, 1);
  events.shadowDropped('p', 'budget');
  const text = await metrics.registry.metrics();
  assert.match(text, /llm_router_fallbacks_total\{from="big",to="small",reason="error"\} 1/);
  assert.match(
    text,
    /llm_router_requests_total\{endpoint="chat",policy="none",class="none",model="none",status="499"\} 1/,
  );
  assert.match(text, /llm_router_feedback_score_count\{policy="p",class="c",model="small"\} 1/);
  assert.match(text, /llm_router_shadow_dropped_total\{policy="p",reason="budget"\} 1/);
});
