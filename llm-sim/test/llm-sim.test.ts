import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { createSimServer, type SimServer } from '../src/server.ts';
import { simConfigSchema } from '../src/config.ts';

const config = simConfigSchema.parse({
  seed: 11,
  time_scale: 0.01,
  models: [
    {
      id: 'fast',
      ttft_ms: { mean: 100 },
      tokens_per_second: { mean: 100 },
      output_tokens: { mean: 30, stddev: 5 },
      context_window: 50,
    },
    { id: 'limited', rpm: 2, output_tokens: { mean: 5 } },
    { id: 'broken', error_rate: 1 },
  ],
});

let sim: SimServer;
let base = '';
before(async () => {
  sim = createSimServer(config);
  base = `http://127.0.0.1:${await sim.listen(0)}`;
});
after(() => sim.close());

const post = (body: unknown, headers: Record<string, string> = {}) =>
  fetch(`${base}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
    signal: AbortSignal.timeout(10_000),
  });
const hello = { role: 'user', content: 'Hello there, how are you?' };

test('non-stream answer carries usage that matches the content', async () => {
  const res = await post({ model: 'fast', messages: [hello] });
  assert.equal(res.status, 200);
  const body = (await res.json()) as {
    model: string;
    choices: Array<{ message: { content: string } }>;
    usage: { prompt_tokens: number; completion_tokens: number; total_tokens: number };
  };
  assert.equal(body.model, 'fast');
  const words = body.choices[0]!.message.content.split(' ').length;
  assert.equal(words, body.usage.completion_tokens);
  assert.equal(body.usage.total_tokens, body.usage.prompt_tokens + body.usage.completion_tokens);
  assert.ok(body.usage.prompt_tokens > 5);
});

test('stream sends role, content chunks, finish reason, usage when asked, then [DONE]', async () => {
  const res = await post({
    model: 'fast',
    messages: [hello],
    stream: true,
    stream_options: { include_usage: true },
    max_tokens: 4,
  });
  assert.equal(res.headers.get('content-type'), 'text/event-stream');
  const events = (await res.text())
    .split('\n\n')
    .filter(Boolean)
    .map((e) => e.replace(/^data: /, ''));
  assert.equal(events.at(-1), '[DONE]');
  const chunks = events.slice(0, -1).map((e) => JSON.parse(e));
  assert.equal(chunks[0].choices[0].delta.role, 'assistant');
  const text = chunks.map((c) => c.choices[0]?.delta?.content ?? '').join('');
  assert.equal(text.split(' ').length, 4, 'max_tokens caps the output');
  assert.equal(chunks.at(-2).choices[0].finish_reason, 'length');
  assert.deepEqual(chunks.at(-1).choices, []);
  assert.equal(chunks.at(-1).usage.completion_tokens, 4);
});

test('rpm limit answers 429 with retry-after in OpenAI error shape', async () => {
  const statuses: number[] = [];
  let last: Response | undefined;
  for (let i = 0; i < 3; i++) {
    last = await post({ model: 'limited', messages: [hello] });
    statuses.push(last.status);
    if (last.status === 200) await last.body?.cancel();
  }
  assert.deepEqual(statuses, [200, 200, 429]);
  assert.ok(Number(last!.headers.get('retry-after')) >= 1);
  const err = (await last!.json()) as { error: { type: string; code: string } };
  assert.equal(err.error.type, 'rate_limit_error');
  assert.equal(err.error.code, 'rate_limit_exceeded');
});

test('error_rate 1 answers 500; x-sim-fault forces faults on any model', async () => {
  assert.equal((await post({ model: 'broken', messages: [hello] })).status, 500);
  assert.equal((await post({ model: 'fast', messages: [hello] }, { 'x-sim-fault': 'error' })).status, 500);
  const hang = post({ model: 'fast', messages: [hello] }, { 'x-sim-fault': 'hang' });
  const timeout = new Promise((r) => setTimeout(() => r('still waiting'), 300));
  assert.equal(await Promise.race([hang.then(() => 'answered'), timeout]), 'still waiting');
  hang.catch(() => {});
});

test('stall: the answer starts, then nothing more comes (stream: half the tokens; non-stream: part of the JSON)', async () => {
  /** What arrived within `ms`, and whether the body had ended by then. */
  const readFor = async (res: Response, ms: number) => {
    const reader = res.body!.getReader();
    let text = '';
    const deadline = Date.now() + ms;
    for (;;) {
      const left = deadline - Date.now();
      const next = await Promise.race([reader.read(), new Promise<null>((r) => setTimeout(() => r(null), left))]);
      if (next === null) break;
      if (next.done) return { text, ended: true };
      text += Buffer.from(next.value).toString();
    }
    void reader.cancel().catch(() => {});
    return { text, ended: false };
  };
  const stream = await post({ model: 'fast', stream: true, messages: [hello] }, { 'x-sim-fault': 'stall' });
  assert.equal(stream.status, 200);
  const s = await readFor(stream, 400);
  assert.equal(s.ended, false);
  assert.ok(s.text.includes('"delta"'), 'some tokens came first');
  assert.ok(!s.text.includes('[DONE]'));
  const plain = await post({ model: 'fast', messages: [hello] }, { 'x-sim-fault': 'stall' });
  assert.equal(plain.status, 200);
  const p = await readFor(plain, 300);
  assert.equal(p.ended, false);
  assert.match(p.text, /^\{"id":"sim-\d+","object":$/);
});

test('context window is enforced with context_length_exceeded', async () => {
  const res = await post({ model: 'fast', messages: [{ role: 'user', content: 'word '.repeat(400) }] });
  assert.equal(res.status, 400);
  assert.equal(((await res.json()) as { error: { code: string } }).error.code, 'context_length_exceeded');
});

test('bad input: invalid JSON, no messages, unknown model', async () => {
  assert.equal((await post('{nope')).status, 400);
  assert.equal((await post({ model: 'fast', messages: [] })).status, 400);
  const unknown = await post({ model: 'gpt-x', messages: [hello] });
  assert.equal(unknown.status, 404);
  assert.equal(((await unknown.json()) as { error: { code: string } }).error.code, 'model_not_found');
});

test('same seed, same requests -> same answers (repeatable)', async () => {
  const answers: string[] = [];
  for (let run = 0; run < 2; run++) {
    const s = createSimServer(config);
    const port = await s.listen(0);
    const res = await fetch(`http://127.0.0.1:${port}/v1/chat/completions`, {
      method: 'POST',
      body: JSON.stringify({ model: 'fast', messages: [hello] }),
      signal: AbortSignal.timeout(5000),
    });
    answers.push(
      ((await res.json()) as { choices: Array<{ message: { content: string } }> }).choices[0]!.message.content,
    );
    await s.close();
  }
  assert.equal(answers[0], answers[1]);
});

test('models list and metrics', async () => {
  const models = (await (await fetch(`${base}/v1/models`)).json()) as { data: Array<{ id: string }> };
  assert.deepEqual(
    models.data.map((m) => m.id),
    ['fast', 'limited', 'broken'],
  );
  const metrics = await (await fetch(`${base}/metrics`)).text();
  assert.match(metrics, /llm_sim_requests_total\{model="fast",outcome="ok"\} \d+/);
  assert.match(metrics, /llm_sim_requests_total\{model="limited",outcome="rate_limited"\} 1/);
});
