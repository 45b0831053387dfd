// An AWS Bedrock (Converse) deployment behind the OpenAI chat endpoint, end to end: requests signed with SigV4 (AWS's
// signer) or sent with a Bedrock API key; llm-sim speaks Converse (its paths, signature checked for form, answers,
// the binary event-stream framing of converse-stream, its error shape); the openai SDK reads answers and streams.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventStreamCodec } from '@smithy/core/event-streams';
import { fromUtf8, toUtf8 } from '@smithy/util-utf8';
import OpenAI from 'openai';
import { metricValue } from '../../test-support/services.ts';
import { streamChat } from '../../test-support/chat-stream.ts';
import { simAndRouter } from '../../test-support/sim-and-router.ts';
import { ConverseStream, toConverseBody } from '../src/providers/bedrock.ts';

const fast = { ttft_ms: { mean: 1 }, tokens_per_second: { mean: 5000 }, output_tokens: { mean: 7, stddev: 0 } };
const stack = simAndRouter({
  simModels: [{ id: 'anthropic.claude-sim-v1:0', ...fast }],
  timeScale: 1,
  routerYaml: (simUrl) => `models:
  - name: bedrock-claude
    deployments:
      - { id: br-1, provider: bedrock, api_base: "${simUrl}", model: "anthropic.claude-sim-v1:0", aws_region: eu-west-1,
          aws_access_key_id: AKIDEXAMPLE, aws_secret_access_key: wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY,
          price: { input_per_1m: 3, output_per_1m: 15 } }
  - name: bedrock-key
    deployments:
      - { id: br-2, provider: bedrock, api_base: "${simUrl}", model: "anthropic.claude-sim-v1:0", api_key: bedrock-api-key,
          price: { input_per_1m: 3, output_per_1m: 15 } }
`,
});

test('signed (SigV4) and API-key Bedrock deployments: plain and streamed chat with usage', async () => {
  const client = new OpenAI({ baseURL: `${stack.router.url}/v1`, apiKey: 'unused' });
  for (const model of ['bedrock-claude', 'bedrock-key']) {
    const r = await client.chat.completions.create({
      model,
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'Say hello.' },
      ],
    });
    assert.ok((r.choices[0]!.message.content ?? '').length > 0, model);
    assert.equal(r.usage!.completion_tokens, 7);
  }
  const { text, finish, usage } = await streamChat(client, 'bedrock-claude', 'Count to three.');
  assert.ok(text.length > 0);
  assert.equal(finish, 'stop');
  assert.equal(usage?.completion_tokens, 7);
  const m = await (await fetch(`${stack.router.url}/metrics`)).text();
  assert.equal(metricValue(m, 'llm_router_tokens_total', { model: 'bedrock-claude', type: 'completion' }), 14);
  assert.equal(metricValue(m, 'llm_router_time_to_first_token_seconds_count', { model: 'bedrock-claude' }), 1);
});

test("llm-sim refuses an unsigned Converse request, in Bedrock's error shape", async () => {
  const res = await fetch(`${stack.sim.url}/model/anthropic.claude-sim-v1:0/converse`, {
    method: 'POST',
    body: JSON.stringify({ messages: [{ role: 'user', content: [{ text: 'hi' }] }] }),
  });
  assert.equal(res.status, 403);
  assert.equal(res.headers.get('x-amzn-errortype'), 'AccessDeniedException');
  assert.deepEqual(await res.json(), { message: 'Missing Authentication Token' });
});

test('translations: tools to a toolConfig; a binary event stream cut anywhere reads the same, tool input included', () => {
  const body = toConverseBody({
    messages: [
      { role: 'user', content: 'Weather?' },
      {
        role: 'assistant',
        content: null,
        tool_calls: [{ id: 't1', type: 'function', function: { name: 'w', arguments: '{"c":1}' } }],
      },
      { role: 'tool', tool_call_id: 't1', content: 'sunny' },
    ],
    tools: [{ type: 'function', function: { name: 'w', parameters: { type: 'object' } } }],
    tool_choice: 'required',
    max_tokens: 5,
  });
  assert.deepEqual(body, {
    messages: [
      { role: 'user', content: [{ text: 'Weather?' }] },
      { role: 'assistant', content: [{ toolUse: { toolUseId: 't1', name: 'w', input: { c: 1 } } }] },
      { role: 'user', content: [{ toolResult: { toolUseId: 't1', content: [{ text: 'sunny' }] } }] },
    ],
    inferenceConfig: { maxTokens: 5 },
    toolConfig: {
      tools: [{ toolSpec: { name: 'w', inputSchema: { json: { type: 'object' } } } }],
      toolChoice: { any: {} },
    },
  });
  const codec = new EventStreamCodec(toUtf8, fromUtf8);
  const ev = (type: string, payload: object) =>
    codec.encode({
      headers: {
        ':event-type': { type: 'string', value: type },
        ':message-type': { type: 'string', value: 'event' },
        ':content-type': { type: 'string', value: 'application/json' },
      },
      body: fromUtf8(JSON.stringify(payload)),
    });
  const bytes = Buffer.concat([
    ev('messageStart', { role: 'assistant' }),
    ev('contentBlockDelta', { contentBlockIndex: 0, delta: { text: 'Hi' } }),
    ev('contentBlockStart', { contentBlockIndex: 1, start: { toolUse: { toolUseId: 'tu', name: 'w' } } }),
    ev('contentBlockDelta', { contentBlockIndex: 1, delta: { toolUse: { input: '{"c":' } } }),
    ev('contentBlockDelta', { contentBlockIndex: 1, delta: { toolUse: { input: '2}' } } }),
    ev('messageStop', { stopReason: 'tool_use' }),
    ev('metadata', { usage: { inputTokens: 3, outputTokens: 4, totalTokens: 7 } }),
  ]);
  const read = (size: number) => {
    const t = new ConverseStream('m');
    let out = '';
    for (let i = 0; i < bytes.length; i += size) out += t.pushBytes(bytes.subarray(i, i + size));
    return out + t.flush();
  };
  const whole = read(bytes.length);
  assert.equal(read(5), whole, 'frames split across reads');
  const chunks = whole
    .split('\n\n')
    .filter((e) => e && e !== 'data: [DONE]')
    .map((e) => JSON.parse(e.slice(6)));
  assert.deepEqual(
    chunks.filter((c) => c.choices.length).map((c) => c.choices[0].delta),
    [
      { role: 'assistant', content: '' },
      { content: 'Hi' },
      { tool_calls: [{ index: 0, id: 'tu', type: 'function', function: { name: 'w', arguments: '' } }] },
      { tool_calls: [{ index: 0, function: { arguments: '{"c":' } }] },
      { tool_calls: [{ index: 0, function: { arguments: '2}' } }] },
      {},
    ],
  );
  assert.equal(chunks.find((c) => c.choices[0]?.finish_reason)?.choices[0].finish_reason, 'tool_calls');
  assert.equal(chunks.at(-1).usage.completion_tokens, 4);
  assert.match(whole, /data: \[DONE\]\n\n$/);
});
