// Anthropic's Messages API in front, in process: a Messages request as the chat body the router serves, and a chat
// answer and chat stream (with tool calls) as a Message and Anthropic's events.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ChatToMessagesStream, parseMessagesRequest, toChatBody, toMessage } from '../src/http/anthropic-messages.ts';

test('a Messages request becomes a chat body: system, images, tool use and tool results, tools and choice', () => {
  const body = toChatBody(
    parseMessagesRequest({
      model: 'auto',
      max_tokens: 100,
      system: [{ type: 'text', text: 'Be brief.' }],
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'Weather in Paris? And this picture:' },
            { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'AAAA' } },
          ],
        },
        {
          role: 'assistant',
          content: [{ type: 'tool_use', id: 'toolu_1', name: 'weather', input: { city: 'Paris' } }],
        },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: 'sunny' }] },
      ],
      tools: [{ name: 'weather', description: 'Weather now', input_schema: { type: 'object' } }],
      tool_choice: { type: 'tool', name: 'weather' },
      stop_sequences: ['END'],
      stream: true,
      metadata: { user_id: 'u1' },
    }),
  );
  assert.deepEqual(body, {
    model: 'auto',
    messages: [
      { role: 'system', content: 'Be brief.' },
      {
        role: 'user',
        content: [
          { type: 'text', text: 'Weather in Paris? And this picture:' },
          { type: 'image_url', image_url: { url: 'data:image/png;base64,AAAA' } },
        ],
      },
      {
        role: 'assistant',
        content: null,
        tool_calls: [{ id: 'toolu_1', type: 'function', function: { name: 'weather', arguments: '{"city":"Paris"}' } }],
      },
      { role: 'tool', tool_call_id: 'toolu_1', content: 'sunny' },
    ],
    max_tokens: 100,
    stream: true,
    stream_options: { include_usage: true },
    stop: ['END'],
    user: 'u1',
    tools: [
      { type: 'function', function: { name: 'weather', description: 'Weather now', parameters: { type: 'object' } } },
    ],
    tool_choice: { type: 'function', function: { name: 'weather' } },
  });
  assert.throws(() => parseMessagesRequest({ model: 'x', messages: [] }), /max_tokens/);
});

test('a chat answer with a tool call becomes a Message with a tool_use block', () => {
  const m = toMessage({
    id: 'chatcmpl-1',
    model: 'm',
    choices: [
      {
        message: {
          content: 'Checking.',
          tool_calls: [
            { id: 'call_1', type: 'function', function: { name: 'weather', arguments: '{"city":"Paris"}' } },
          ],
        },
        finish_reason: 'tool_calls',
      },
    ],
    usage: { prompt_tokens: 9, completion_tokens: 4 },
  });
  assert.deepEqual(m.content, [
    { type: 'text', text: 'Checking.' },
    { type: 'tool_use', id: 'call_1', name: 'weather', input: { city: 'Paris' } },
  ]);
  assert.equal(m.stop_reason, 'tool_use');
  assert.deepEqual(m.usage, { input_tokens: 9, output_tokens: 4 });
});

test("a chat stream becomes Anthropic's events: text block, then a tool_use block with its input JSON, usage at the end", () => {
  const c = (o: object) => `data: ${JSON.stringify({ id: 'chatcmpl-2', model: 'm', ...o })}\n\n`;
  const chat =
    c({ choices: [{ index: 0, delta: { role: 'assistant', content: '' } }] }) +
    c({ choices: [{ index: 0, delta: { content: 'Let me ' } }] }) +
    c({ choices: [{ index: 0, delta: { content: 'check.' } }] }) +
    c({
      choices: [
        { index: 0, delta: { tool_calls: [{ index: 0, id: 'call_9', function: { name: 'f', arguments: '' } }] } },
      ],
    }) +
    c({ choices: [{ index: 0, delta: { tool_calls: [{ index: 0, function: { arguments: '{"a":1}' } }] } }] }) +
    c({ choices: [{ index: 0, delta: {}, finish_reason: 'tool_calls' }] }) +
    c({ choices: [], usage: { prompt_tokens: 5, completion_tokens: 6 } }) +
    'data: [DONE]\n\n';
  const t = new ChatToMessagesStream();
  const out = (chat.match(/[\s\S]{1,11}/g) ?? []).map((p) => t.push(p)).join('') + t.flush();
  const events = [...out.matchAll(/^event: (\w+)\ndata: (.*)$/gm)].map((m) => JSON.parse(m[2]!));
  assert.deepEqual(
    events.map((e) => e.type),
    [
      'message_start',
      'content_block_start',
      'content_block_delta',
      'content_block_delta',
      'content_block_stop',
      'content_block_start',
      'content_block_delta',
      'content_block_stop',
      'message_delta',
      'message_stop',
    ],
  );
  assert.deepEqual(events[5].content_block, { type: 'tool_use', id: 'call_9', name: 'f', input: {} });
  assert.deepEqual(events[6].delta, { type: 'input_json_delta', partial_json: '{"a":1}' });
  assert.deepEqual(events[8].delta, { stop_reason: 'tool_use', stop_sequence: null });
  assert.deepEqual(events[8].usage, { input_tokens: 5, output_tokens: 6 });
});
