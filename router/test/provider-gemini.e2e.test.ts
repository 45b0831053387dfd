// A Google Gemini deployment behind the OpenAI chat endpoint, end to end: llm-sim speaks Gemini's generateContent
// (x-goog-api-key, :streamGenerateContent?alt=sse, usageMetadata, Google's error shape); the router translates both
// ways and the openai SDK reads answers and streams with usage.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { metricValue } from '../../test-support/services.ts';
import { streamChat } from '../../test-support/chat-stream.ts';
import { simAndRouter } from '../../test-support/sim-and-router.ts';
import { GeminiStream, toChatCompletion, toGeminiBody } from '../src/providers/gemini.ts';

const fast = { ttft_ms: { mean: 1 }, tokens_per_second: { mean: 5000 }, output_tokens: { mean: 9, stddev: 0 } };
const stack = simAndRouter({
  simModels: [{ id: 'gemini-sim', ...fast }],
  timeScale: 1,
  routerYaml: (simUrl) => `models:
  - name: gemini
    deployments:
      - { id: g-1, provider: gemini, api_base: "${simUrl}/v1beta", api_key: g-key, model: gemini-sim,
          price: { input_per_1m: 0.3, output_per_1m: 2.5 } }
`,
});

test('plain and streamed chat from a Gemini deployment, with usage, cost and time to first token', async () => {
  const client = new OpenAI({ baseURL: `${stack.router.url}/v1`, apiKey: 'unused' });
  const r = await client.chat.completions.create({
    model: 'gemini',
    max_tokens: 40,
    messages: [
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'Say hello.' },
    ],
  });
  assert.equal(r.object, 'chat.completion');
  assert.ok((r.choices[0]!.message.content ?? '').length > 0);
  assert.equal(r.choices[0]!.finish_reason, 'stop');
  assert.equal(r.usage!.completion_tokens, 9);
  const { text, finish, usage } = await streamChat(client, 'gemini', 'Count to three.');
  assert.ok(text.length > 0);
  assert.equal(finish, 'stop');
  assert.equal(usage?.completion_tokens, 9);
  const m = await (await fetch(`${stack.router.url}/metrics`)).text();
  assert.equal(metricValue(m, 'llm_router_tokens_total', { model: 'gemini', type: 'completion' }), 18);
  assert.ok(metricValue(m, 'llm_router_cost_usd_total', { model: 'gemini' }) > 0);
  assert.equal(metricValue(m, 'llm_router_time_to_first_token_seconds_count', { model: 'gemini' }), 1);
});

test("llm-sim answers Gemini's way: no key is a 403, streaming needs alt=sse, errors in Google's shape", async () => {
  const post = (path: string, headers: Record<string, string>) =>
    fetch(`${stack.sim.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify({ contents: [{ role: 'user', parts: [{ text: 'hi' }] }] }),
    });
  const noKey = await post('/v1beta/models/gemini-sim:generateContent', {});
  assert.equal(noKey.status, 403);
  assert.equal(((await noKey.json()) as { error: { status: string } }).error.status, 'PERMISSION_DENIED');
  assert.equal((await post('/v1beta/models/gemini-sim:streamGenerateContent', { 'x-goog-api-key': 'k' })).status, 400);
  const ok = await post('/v1beta/models/gemini-sim:generateContent', { 'x-goog-api-key': 'k' });
  const body = (await ok.json()) as { candidates: Array<{ finishReason: string }>; usageMetadata: object };
  assert.equal(body.candidates[0]!.finishReason, 'STOP');
  assert.ok(body.usageMetadata);
});

test('translations: tools and tool results to Gemini; function calls back as tool calls, also when streamed', () => {
  const g = toGeminiBody({
    messages: [
      { role: 'user', content: 'Weather in Paris?' },
      {
        role: 'assistant',
        content: null,
        tool_calls: [{ id: 'c1', type: 'function', function: { name: 'weather', arguments: '{"city":"Paris"}' } }],
      },
      { role: 'tool', tool_call_id: 'c1', content: 'sunny' },
    ],
    tools: [{ type: 'function', function: { name: 'weather', parameters: { type: 'object' } } }],
    tool_choice: 'required',
    max_tokens: 10,
    response_format: { type: 'json_object' },
  });
  assert.deepEqual(g, {
    contents: [
      { role: 'user', parts: [{ text: 'Weather in Paris?' }] },
      { role: 'model', parts: [{ functionCall: { name: 'weather', args: { city: 'Paris' } } }] },
      { role: 'user', parts: [{ functionResponse: { name: 'weather', response: { content: 'sunny' } } }] },
    ],
    generationConfig: { maxOutputTokens: 10, responseMimeType: 'application/json' },
    tools: [{ functionDeclarations: [{ name: 'weather', parameters: { type: 'object' } }] }],
    toolConfig: { functionCallingConfig: { mode: 'ANY' } },
  });
  const answer = {
    candidates: [
      {
        content: { role: 'model', parts: [{ functionCall: { name: 'weather', args: { city: 'Rome' } } }] },
        finishReason: 'STOP',
      },
    ],
    usageMetadata: { promptTokenCount: 7, candidatesTokenCount: 3, cachedContentTokenCount: 2 },
  };
  const c = toChatCompletion(answer, 'gemini-x') as {
    choices: Array<{ message: { tool_calls: unknown }; finish_reason: string }>;
    usage: unknown;
  };
  assert.equal(c.choices[0]!.finish_reason, 'tool_calls');
  assert.deepEqual(c.choices[0]!.message.tool_calls, [
    { id: 'call_0', type: 'function', function: { name: 'weather', arguments: '{"city":"Rome"}' } },
  ]);
  assert.deepEqual(c.usage, {
    prompt_tokens: 7,
    completion_tokens: 3,
    total_tokens: 10,
    prompt_tokens_details: { cached_tokens: 2 },
  });
  const t = new GeminiStream('gemini-x');
  const out = t.push(`data: ${JSON.stringify(answer)}\r\n\r\n`) + t.flush();
  const chunks = out
    .split('\n\n')
    .filter(Boolean)
    .map((e) => e.slice(6));
  assert.equal(chunks.at(-1), '[DONE]');
  const parsed = chunks.slice(0, -1).map((x) => JSON.parse(x));
  assert.deepEqual(parsed[1].choices[0].delta.tool_calls[0].function, {
    name: 'weather',
    arguments: '{"city":"Rome"}',
  });
  assert.equal(parsed[2].choices[0].finish_reason, 'tool_calls');
  assert.deepEqual(parsed[3].choices, []);
  assert.equal(parsed[3].usage.prompt_tokens, 7);
});
