// The Anthropic provider's translations, in process: an OpenAI chat body to a Messages body, a Messages answer to a
// chat completion, and a Messages event stream to OpenAI chunks (text, tool input, usage, errors), fed in pieces.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AnthropicStream, toChatCompletion, toMessagesBody } from '../src/providers/anthropic.ts';

test('an OpenAI chat body becomes a Messages body', () => {
  const body = toMessagesBody(
    {
      model: 'router/x',
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'developer', content: [{ type: 'text', text: 'Use tools.' }] },
        {
          role: 'user',
          content: [
            { type: 'text', text: 'What is in this picture, and the weather?' },
            { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } },
            { type: 'image_url', image_url: { url: 'https://example.com/cat.jpg' } },
          ],
        },
        {
          role: 'assistant',
          content: null,
          tool_calls: [
            { id: 'call_1', type: 'function', function: { name: 'weather', arguments: '{"city":"Paris"}' } },
          ],
        },
        { role: 'tool', tool_call_id: 'call_1', content: 'sunny' },
        { role: 'user', content: 'Thanks' },
      ],
      tools: [
        { type: 'function', function: { name: 'weather', description: 'Weather now', parameters: { type: 'object' } } },
      ],
      tool_choice: 'required',
      temperature: 1.5,
      top_p: 0.9,
      stop: 'END',
      max_tokens: 100,
      user: 'u-7',
    },
    'claude-x',
    true,
  );
  assert.deepEqual(body, {
    model: 'claude-x',
    system: 'Be brief.\n\nUse tools.',
    messages: [
      {
        role: 'user',
        content: [
          { type: 'text', text: 'What is in this picture, and the weather?' },
          { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'iVBORw0KGgo=' } },
          { type: 'image', source: { type: 'url', url: 'https://example.com/cat.jpg' } },
        ],
      },
      { role: 'assistant', content: [{ type: 'tool_use', id: 'call_1', name: 'weather', input: { city: 'Paris' } }] },
      {
        role: 'user',
        content: [
          { type: 'tool_result', tool_use_id: 'call_1', content: 'sunny' },
          { type: 'text', text: 'Thanks' },
        ],
      },
    ],
    max_tokens: 100,
    temperature: 1,
    top_p: 0.9,
    stop_sequences: ['END'],
    tools: [{ name: 'weather', description: 'Weather now', input_schema: { type: 'object' } }],
    tool_choice: { type: 'any' },
    metadata: { user_id: 'u-7' },
    stream: true,
  });
  assert.equal(
    toMessagesBody({ messages: [{ role: 'user', content: 'hi' }] }, 'm', false).max_tokens,
    4096,
    'required there',
  );
});

test('a Messages answer becomes a chat completion: text, tool calls, finish reason, usage with cache tokens', () => {
  const c = toChatCompletion(
    {
      id: 'msg_1',
      type: 'message',
      content: [
        { type: 'text', text: 'Let me check.' },
        { type: 'tool_use', id: 'toolu_1', name: 'weather', input: { city: 'Paris' } },
      ],
      stop_reason: 'tool_use',
      usage: { input_tokens: 10, output_tokens: 5, cache_read_input_tokens: 100, cache_creation_input_tokens: 20 },
    },
    'claude-x',
  ) as { choices: Array<{ message: unknown; finish_reason: string }>; usage: unknown; model: string };
  assert.equal(c.model, 'claude-x');
  assert.deepEqual(c.choices[0]!.message, {
    role: 'assistant',
    content: 'Let me check.',
    tool_calls: [{ id: 'toolu_1', type: 'function', function: { name: 'weather', arguments: '{"city":"Paris"}' } }],
  });
  assert.equal(c.choices[0]!.finish_reason, 'tool_calls');
  assert.deepEqual(c.usage, {
    prompt_tokens: 130,
    completion_tokens: 5,
    total_tokens: 135,
    prompt_tokens_details: { cached_tokens: 100, cache_write_tokens: 20 },
  });
});

const ev = (type: string, data: object) => `event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`;
const STREAM =
  ev('message_start', { message: { id: 'msg_2', usage: { input_tokens: 12, output_tokens: 1 } } }) +
  ev('content_block_start', { index: 0, content_block: { type: 'text', text: '' } }) +
  ev('ping', {}) +
  ev('content_block_delta', { index: 0, delta: { type: 'text_delta', text: 'Hello' } }) +
  ev('content_block_delta', { index: 0, delta: { type: 'text_delta', text: ' there' } }) +
  ev('content_block_stop', { index: 0 }) +
  ev('content_block_start', { index: 1, content_block: { type: 'tool_use', id: 'toolu_9', name: 'f', input: {} } }) +
  ev('content_block_delta', { index: 1, delta: { type: 'input_json_delta', partial_json: '{"a":' } }) +
  ev('content_block_delta', { index: 1, delta: { type: 'input_json_delta', partial_json: '1}' } }) +
  ev('content_block_stop', { index: 1 }) +
  ev('message_delta', { delta: { stop_reason: 'tool_use' }, usage: { output_tokens: 7 } }) +
  ev('message_stop', {});

function translate(pieces: string[]) {
  const t = new AnthropicStream('claude-x');
  const out = pieces.map((p) => t.push(p)).join('') + t.flush();
  const events = out.split('\n\n').filter(Boolean);
  return events.map((e) => e.replace(/^data: /, '')).map((d) => (d === '[DONE]' ? d : JSON.parse(d)));
}

test('a Messages stream becomes OpenAI chunks, whatever the pieces it arrives in (CRLF too)', () => {
  const whole = translate([STREAM]);
  const cut = translate(STREAM.replace(/\n/g, '\r\n').match(/[\s\S]{1,7}/g)!);
  assert.deepEqual(cut, whole);
  const deltas = whole.filter((c) => c !== '[DONE]' && c.choices.length).map((c) => c.choices[0].delta);
  assert.deepEqual(deltas, [
    { role: 'assistant', content: '' },
    { content: 'Hello' },
    { content: ' there' },
    { tool_calls: [{ index: 0, id: 'toolu_9', type: 'function', function: { name: 'f', arguments: '' } }] },
    { tool_calls: [{ index: 0, function: { arguments: '{"a":' } }] },
    { tool_calls: [{ index: 0, function: { arguments: '1}' } }] },
    {},
  ]);
  const finish = whole
    .filter((c) => c !== '[DONE]' && c.choices[0]?.finish_reason)
    .map((c) => c.choices[0].finish_reason);
  assert.deepEqual(finish, ['tool_calls']);
  const usage = whole.find((c) => c !== '[DONE]' && c.usage);
  assert.deepEqual(usage.choices, [], 'a usage chunk, as OpenAI sends it with include_usage');
  assert.deepEqual(usage.usage, {
    prompt_tokens: 12,
    completion_tokens: 7,
    total_tokens: 19,
    prompt_tokens_details: { cached_tokens: 0, cache_write_tokens: 0 },
  });
  assert.equal(whole.at(-1), '[DONE]');
  assert.ok(whole.every((c) => c === '[DONE]' || (c.id === 'msg_2' && c.object === 'chat.completion.chunk')));
});

test('an error event mid-stream becomes an OpenAI error event', () => {
  const out = translate([ev('error', { error: { type: 'overloaded_error', message: 'Overloaded' } })]);
  assert.deepEqual(out, [
    { error: { message: 'Overloaded', type: 'overloaded_error', param: null, code: 'overloaded_error' } },
  ]);
});

test("cost from Anthropic's usage: cache reads and writes at their own prices (input price when none is set)", async () => {
  const { costUsd } = await import('@llm-router/common/pricing');
  const { validUsage } = await import('@llm-router/common/usage');
  const { toUsage } = await import('../src/providers/anthropic.ts');
  const usage = validUsage(
    toUsage({
      input_tokens: 1_000,
      output_tokens: 100,
      cache_read_input_tokens: 10_000,
      cache_creation_input_tokens: 2_000,
    }),
  )!;
  assert.deepEqual(usage, {
    prompt_tokens: 13_000,
    completion_tokens: 100,
    cached_tokens: 10_000,
    cache_write_tokens: 2_000,
  });
  const price = { input_per_1m: 3, output_per_1m: 15, cache_read_per_1m: 0.3, cache_write_per_1m: 3.75 };
  // 1,000 fresh x $3 + 10,000 read x $0.30 + 2,000 written x $3.75 + 100 out x $15, per million.
  assert.ok(Math.abs(costUsd(usage, price) - (3_000 + 3_000 + 7_500 + 1_500) / 1e6) < 1e-12);
  assert.ok(Math.abs(costUsd(usage, { input_per_1m: 3, output_per_1m: 15 }) - (13_000 * 3 + 1_500) / 1e6) < 1e-12);
});
