// /v1/responses served by models that speak chat only — an OpenAI-compatible model that lists only chat, and an
// Anthropic deployment — by translation: the openai SDK's responses API and the Vercel AI SDK (whose default is
// Responses) read plain and streamed answers, with usage, as from a Responses upstream.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { createOpenAI } from '@ai-sdk/openai';
import { generateText, streamText } from 'ai';
import { metricValue } from '../../test-support/services.ts';
import { simAndRouter } from '../../test-support/sim-and-router.ts';
import { ChatToResponsesStream, chatToResponse, responsesToChat } from '../src/http/responses-via-chat.ts';

const fast = { ttft_ms: { mean: 1 }, tokens_per_second: { mean: 5000 }, output_tokens: { mean: 10, stddev: 0 } };
const stack = simAndRouter({
  simModels: [
    { id: 'chat-only', ...fast },
    { id: 'claude-sim', ...fast },
  ],
  timeScale: 1,
  routerYaml: (simUrl) => `models:
  - name: chatty
    endpoints: [chat]
    deployments: [ { id: chatty-1, api_base: "${simUrl}/v1", model: chat-only, price: { input_per_1m: 1, output_per_1m: 2 } } ]
  - name: claude
    deployments: [ { id: claude-1, provider: anthropic, api_base: "${simUrl}/v1", model: claude-sim, price: { input_per_1m: 3, output_per_1m: 15 } } ]
policies:
  - { name: p, classifier: task, routes: {}, default: claude }
`,
});

test('the openai SDK: responses.create plain and streamed from chat-only models, with usage and costs', async () => {
  const client = new OpenAI({ baseURL: `${stack.router.url}/v1`, apiKey: 'unused' });
  for (const model of ['chatty', 'claude', 'router/p']) {
    const r = await client.responses.create({
      model,
      instructions: 'Be brief.',
      input: 'Say hello.',
      max_output_tokens: 50,
    });
    assert.equal(r.object, 'response');
    assert.equal(r.status, 'completed');
    assert.ok(r.output_text.length > 0, `${model}: output_text`);
    assert.equal(r.usage?.output_tokens, 10, model);
    assert.ok((r.usage?.input_tokens ?? 0) > 0);
  }
  const stream = await client.responses.create({ model: 'claude', input: 'Count to three.', stream: true });
  let text = '';
  let completed: OpenAI.Responses.Response | undefined;
  const types = new Set<string>();
  for await (const e of stream) {
    types.add(e.type);
    if (e.type === 'response.output_text.delta') text += e.delta;
    if (e.type === 'response.completed') completed = e.response;
  }
  assert.ok(text.length > 0);
  for (const t of [
    'response.created',
    'response.output_item.added',
    'response.content_part.added',
    'response.output_text.done',
    'response.output_item.done',
  ])
    assert.ok(types.has(t), t);
  assert.equal(completed?.usage?.output_tokens, 10);
  const m = await (await fetch(`${stack.router.url}/metrics`)).text();
  assert.equal(metricValue(m, 'llm_router_requests_total', { endpoint: 'responses', status: '200' }), 4);
  assert.equal(metricValue(m, 'llm_router_tokens_total', { model: 'claude', type: 'completion' }), 30);
  assert.ok(metricValue(m, 'llm_router_cost_usd_total', { model: 'chatty' }) > 0);
});

test('the Vercel AI SDK over Responses (its default) against an Anthropic deployment: generateText and streamText', async () => {
  const openai = createOpenAI({ baseURL: `${stack.router.url}/v1`, apiKey: 'unused' });
  const r = await generateText({ model: openai('claude'), prompt: 'Say hi' });
  assert.ok(r.text.length > 0);
  assert.equal(r.usage.outputTokens, 10);
  let streamed = '';
  for await (const delta of streamText({ model: openai('router/p'), prompt: 'Write a haiku' }).textStream)
    streamed += delta;
  assert.ok(streamed.length > 0);
});

test('translations: function calls and outputs to chat, tool calls back as function_call items, also streamed', () => {
  const chat = responsesToChat({
    model: 'm',
    instructions: 'sys',
    input: [
      { role: 'user', content: [{ type: 'input_text', text: 'Weather?' }] },
      { type: 'function_call', call_id: 'c1', name: 'weather', arguments: '{"city":"Paris"}' },
      { type: 'function_call_output', call_id: 'c1', output: 'sunny' },
    ],
    tools: [{ type: 'function', name: 'weather', parameters: { type: 'object' } }],
    text: { format: { type: 'json_schema', name: 'w', schema: { type: 'object' }, strict: true } },
    max_output_tokens: 9,
  });
  assert.deepEqual(chat.messages, [
    { role: 'system', content: 'sys' },
    { role: 'user', content: 'Weather?' },
    {
      role: 'assistant',
      content: null,
      tool_calls: [{ id: 'c1', type: 'function', function: { name: 'weather', arguments: '{"city":"Paris"}' } }],
    },
    { role: 'tool', tool_call_id: 'c1', content: 'sunny' },
  ]);
  assert.equal(chat.max_tokens, 9);
  assert.deepEqual(chat.response_format, {
    type: 'json_schema',
    json_schema: { name: 'w', schema: { type: 'object' }, strict: true },
  });
  const resp = chatToResponse({
    id: 'x',
    model: 'm',
    choices: [
      {
        message: {
          content: null,
          tool_calls: [{ id: 'c2', type: 'function', function: { name: 'f', arguments: '{}' } }],
        },
      },
    ],
    usage: { prompt_tokens: 3, completion_tokens: 2 },
  });
  assert.deepEqual(resp.output, [
    { type: 'function_call', id: 'fc_c2', call_id: 'c2', name: 'f', arguments: '{}', status: 'completed' },
  ]);
  const t = new ChatToResponsesStream();
  const c = (o: object) => `data: ${JSON.stringify({ id: 'x', model: 'm', ...o })}\n\n`;
  const out =
    t.push(
      c({
        choices: [
          { index: 0, delta: { tool_calls: [{ index: 0, id: 'c3', function: { name: 'f', arguments: '{"a"' } }] } },
        ],
      }) +
        c({ choices: [{ index: 0, delta: { tool_calls: [{ index: 0, function: { arguments: ':1}' } }] } }] }) +
        c({ choices: [], usage: { prompt_tokens: 4, completion_tokens: 5 } }) +
        'data: [DONE]\n\n',
    ) + t.flush();
  const events = [...out.matchAll(/^data: (.*)$/gm)].map((m) => JSON.parse(m[1]!));
  const done = events.find((e) => e.type === 'response.completed').response;
  assert.deepEqual(done.output, [
    { type: 'function_call', id: 'fc_c3', call_id: 'c3', name: 'f', arguments: '{"a":1}', status: 'completed' },
  ]);
  assert.equal(done.usage.output_tokens, 5);
  assert.deepEqual(
    events.map((e) => e.sequence_number),
    events.map((_, i) => i),
  );
});
