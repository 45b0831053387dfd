// Feedback memory, the judge's verdicts and the shadow evaluator's caps, in process (injected clock, randomness
// and model calls).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseRouterConfig } from '../src/config/load.ts';
import { metricsSink } from '../src/events/metrics-sink.ts';
import { fanOut } from '../src/events/router-events.ts';
import { createRouterMetrics } from '../src/metrics/router-metrics.ts';
import { combine, readJudgement } from '../src/quality/judge.ts';
import { RecentDecisions, type DecisionStore } from '../src/quality/recent-decisions.ts';
import { ShadowEvaluator, type CallModel } from '../src/quality/shadow.ts';

const answer = { policy: 'p', class: 'weak', model: 'cheap', cost_usd: 0.001 };

test('recent decisions: one feedback per answer, forgotten after the ttl, bounded in count', async () => {
  let now = 0;
  const d = new RecentDecisions(
    1000,
    2,
    () => undefined,
    () => now,
  );
  d.remember('a', answer);
  assert.deepEqual(await d.claim('a'), { kind: 'ok', answer });
  assert.deepEqual(await d.claim('a'), { kind: 'already' });
  assert.deepEqual(await d.claim('nope'), { kind: 'unknown' });
  d.remember('b', answer);
  now = 1001;
  assert.deepEqual(await d.claim('b'), { kind: 'unknown' }, 'expired');
  d.remember('c', answer);
  d.remember('d', answer);
  d.remember('e', answer);
  assert.equal(d.size, 2, 'least recent go first');
  assert.deepEqual(await d.claim('c'), { kind: 'unknown' });
  assert.equal((await d.claim('e')).kind, 'ok');
});

test('recent decisions: a shared store answers for other replicas and refuses a second score across them', async () => {
  const kv = new Map<string, string>();
  const claimed = new Set<string>();
  const store: DecisionStore = {
    putDecision: (id, json) => void kv.set(id, json),
    getDecision: async (id) => kv.get(id),
    claimFeedback: async (id) => (claimed.has(id) ? false : (claimed.add(id), true)),
  };
  const replicaA = new RecentDecisions(60_000, 10, () => store);
  const replicaB = new RecentDecisions(60_000, 10, () => store);
  replicaA.remember('x', answer);
  assert.deepEqual(await replicaB.claim('x'), { kind: 'ok', answer }, 'B knows what A answered');
  assert.deepEqual(await replicaA.claim('x'), { kind: 'already' }, 'and A refuses a second score');
});

test("the judge's reply and the two orders make one verdict", () => {
  assert.equal(readJudgement(' b\n'), 'B');
  assert.equal(readJudgement('SAME.'), 'SAME');
  assert.equal(readJudgement('I cannot tell'), undefined);
  // Reference first (A = reference): B wins = the routed answer wins.
  assert.equal(combine('B', 'A'), 'better');
  assert.equal(combine('A', 'B'), 'worse');
  assert.equal(combine('B', 'B'), 'same', 'position bias (B both times) cancels');
  assert.equal(combine('SAME', 'A'), 'better');
  assert.equal(combine('SAME', 'SAME'), 'same');
});

const config = (shadow: string) =>
  parseRouterConfig(`models:
  - { name: cheap, deployments: [ { id: c, model: c, api_base: "http://127.0.0.1:9/v1", price: { input_per_1m: 1, output_per_1m: 1 } } ] }
  - { name: strong, deployments: [ { id: s, model: s, api_base: "http://127.0.0.1:9/v1", price: { input_per_1m: 10, output_per_1m: 10 } } ] }
policies:
  - { name: p, classifier: quality, models: [cheap, strong], thresholds: [0.5], shadow: ${shadow} }
`);
const prices: Record<string, number> = { cheap: 1, strong: 10 };
const job = {
  policy: 'p',
  class: 'weak',
  model: 'cheap',
  body: { messages: [{ role: 'user', content: 'q' }] },
  answer: 'x',
};
const series = async (metrics: ReturnType<typeof createRouterMetrics>, name: string) =>
  (await metrics.registry.getSingleMetric(name)!.get()).values;
const settle = () => new Promise((r) => setTimeout(r, 20));

test('shadow: samples only answers cheaper than the reference, at the sample rate', () => {
  const metrics = createRouterMetrics();
  const rolls = [0.1, 0.9];
  const shadow = new ShadowEvaluator(
    config('{ sample_rate: 0.5, reference_model: strong, judge_model: strong }'),
    fanOut(metricsSink(metrics)),
    async () => ({ text: 'A', costUsd: 0 }),
    (m) => prices[m]!,
    () => rolls.shift()!,
  );
  assert.equal(shadow.sample('p', 'strong'), false, 'the reference itself is never judged');
  assert.equal(shadow.sample('p', 'cheap'), true);
  assert.equal(shadow.sample('p', 'cheap'), false);
  assert.equal(shadow.sample('other', 'cheap'), false);
});

// The reference answers "ref"; the judge prefers the reference in both orders (the routed answer is worse).
const preferReference =
  (calls: string[]): CallModel =>
  async (model, body) => {
    calls.push(model);
    const text = JSON.stringify(body);
    if (!text.includes('[Answer A]')) return { text: 'ref', costUsd: 0.2 };
    return { text: /\[Answer A\]\\n(\w+)/.exec(text)![1] === 'ref' ? 'A' : 'B', costUsd: 0.1 };
  };
const dropsOf = async (metrics: ReturnType<typeof createRouterMetrics>) =>
  Object.fromEntries((await series(metrics, 'llm_router_shadow_dropped_total')).map((v) => [v.labels.reason, v.value]));

test('shadow: verdicts by policy, class and model; cost counted apart; the hourly budget stops the calls', async () => {
  const metrics = createRouterMetrics();
  let now = 0;
  const calls: string[] = [];
  const shadow = new ShadowEvaluator(
    config(
      '{ sample_rate: 1, reference_model: strong, judge_model: strong, max_usd_per_hour: 0.3, queue: 10, concurrency: 1 }',
    ),
    fanOut(metricsSink(metrics)),
    preferReference(calls),
    (m) => prices[m]!,
    () => 0,
    () => now,
  );
  for (let i = 0; i < 3; i++) shadow.offer(job);
  await settle();
  const verdicts = await series(metrics, 'llm_router_shadow_verdicts_total');
  assert.deepEqual(
    verdicts.map((v) => [v.labels, v.value]),
    [[{ policy: 'p', class: 'weak', model: 'cheap', verdict: 'worse' }, 1]],
  );
  // One evaluation spends 0.2 + 2 x 0.1, past the 0.3 USD/hour budget: the next two are dropped without a call.
  assert.equal((await dropsOf(metrics)).budget, 2);
  assert.deepEqual(calls, ['strong', 'strong', 'strong']);
  const cost = (await series(metrics, 'llm_router_shadow_cost_usd_total'))[0]!;
  assert.ok(Math.abs(cost.value - 0.4) < 1e-9);
  // An hour later the budget is back.
  now += 3_600_001;
  shadow.offer(job);
  await settle();
  assert.equal((await series(metrics, 'llm_router_shadow_verdicts_total'))[0]!.value, 2);
  shadow.close();
});

test('shadow: at most max_per_minute evaluations a minute', async () => {
  const metrics = createRouterMetrics();
  const shadow = new ShadowEvaluator(
    config('{ sample_rate: 1, reference_model: strong, judge_model: strong, max_per_minute: 2, queue: 10 }'),
    fanOut(metricsSink(metrics)),
    preferReference([]),
    (m) => prices[m]!,
    () => 0,
    () => 0,
  );
  for (let i = 0; i < 3; i++) shadow.offer(job);
  await settle();
  assert.equal((await series(metrics, 'llm_router_shadow_verdicts_total'))[0]!.value, 2);
  assert.equal((await dropsOf(metrics)).rate_limit, 1);
  shadow.close();
});

test('shadow: a full queue drops (counted) and never blocks the caller', async () => {
  const metrics = createRouterMetrics();
  let release!: () => void;
  const blocked = new Promise<void>((r) => (release = r));
  const shadow = new ShadowEvaluator(
    config('{ sample_rate: 1, reference_model: strong, judge_model: strong, queue: 2 }'),
    fanOut(metricsSink(metrics)),
    async () => (await blocked, { text: 'SAME', costUsd: 0 }),
    (m) => prices[m]!,
    () => 0,
  );
  for (let i = 0; i < 5; i++) shadow.offer(job); // synchronous: returns at once whatever the queue holds
  const dropped = (await series(metrics, 'llm_router_shadow_dropped_total')).find(
    (v) => v.labels.reason === 'queue_full',
  );
  assert.equal(dropped?.value, 3);
  release();
  await settle();
  const same = (await series(metrics, 'llm_router_shadow_verdicts_total')).find((v) => v.labels.verdict === 'same');
  assert.equal(same?.value, 2);
  shadow.close();
});
