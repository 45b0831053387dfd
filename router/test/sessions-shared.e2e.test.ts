// Conversations keep their model across replicas: two routers on one Redis (state.backend redis), a conversation
// whose turns land on different replicas, and a replica that has Redis taken away.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { completion, startFakeUpstream, type FakeUpstream } from '../../test-support/fake-upstream.ts';
import { startRedis, type TestRedis } from '../../test-support/redis.ts';
import { ROUTER_MAIN, startService, tempDir, waitFor, type RunningService } from '../../test-support/services.ts';

const tmp = tempDir();
let redis: TestRedis;
let upstream: FakeUpstream;
let replicas: RunningService[] = [];

before(async () => {
  redis = await startRedis();
  upstream = await startFakeUpstream((req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' }).end(completion(String(req.body.model)));
  });
  const dep = (m: string, price: number) =>
    `[ { id: ${m}-d, api_base: "${upstream.url}/${m}/v1", model: ${m}, price: { input_per_1m: ${price}, output_per_1m: ${price} } } ]`;
  const file = tmp.write(
    'router.yaml',
    `models:
  - { name: small, deployments: ${dep('small', 1)} }
  - { name: big, deployments: ${dep('big', 20)} }
policies:
  - { name: q, classifier: quality, models: [small, big], thresholds: [0.9] }
state: { backend: redis, url: "${redis.url}", key_prefix: "sessions-test:", replicas: 2 }
`,
  );
  replicas = await Promise.all([0, 1].map(() => startService(ROUTER_MAIN, ['--config', file])));
  for (const r of replicas)
    await waitFor('replica on shared state', async () => {
      const ready = (await (await fetch(`${r.url}/ready`)).json()) as { state: string };
      return ready.state === 'shared';
    });
});
after(async () => {
  await Promise.all(replicas.map((s) => s.stop()));
  await upstream.close();
  await redis.stop();
  tmp.remove();
});

const chat = async (r: RunningService, model: string, messages: unknown[]) => {
  const res = await fetch(`${r.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model, messages }),
    signal: AbortSignal.timeout(10_000),
  });
  assert.equal(res.status, 200);
  await res.arrayBuffer();
  return [res.headers.get('x-router-model'), res.headers.get('x-router-session')];
};

test('a conversation started on one replica keeps its model on the other, through Redis', async () => {
  const opening = [{ role: 'user', content: 'Design a consensus protocol for a geo-replicated database.' }];
  assert.deepEqual(await chat(replicas[0]!, 'router/q@0', opening), ['big', null]);
  const client = new Redis(redis.url);
  const keys = await client.keys('sessions-test:session:*').finally(() => client.disconnect());
  assert.equal(keys.length, 1, 'the session is on Redis');
  const followUp = [...opening, { role: 'assistant', content: 'Use Raft...' }, { role: 'user', content: 'ok' }];
  // Replica 1 never saw the first turn: its own memory is empty, Redis has the pin.
  assert.deepEqual(await chat(replicas[1]!, 'router/q', followUp), ['big', 'held']);
});

test('with Redis gone, a replica continues the conversations it served from its own memory', async () => {
  const opening = [{ role: 'user', content: "Prove Fermat's little theorem." }];
  assert.deepEqual(await chat(replicas[0]!, 'router/q@0', opening), ['big', null]);
  await redis.kill();
  await waitFor('replica on local state', async () => {
    const ready = (await (await fetch(`${replicas[0]!.url}/ready`)).json()) as { state: string };
    return ready.state === 'local';
  });
  const followUp = [...opening, { role: 'assistant', content: '...' }, { role: 'user', content: 'thanks' }];
  assert.deepEqual(await chat(replicas[0]!, 'router/q', followUp), ['big', 'held']);
  // The other replica never served it and cannot ask Redis: a new session, decided on its own.
  assert.deepEqual(await chat(replicas[1]!, 'router/q', followUp), ['small', 'new']);
  await redis.start();
});
