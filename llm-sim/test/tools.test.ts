// llm-sim's tool calls: the tools each API offers are read from its own fields, the call is deterministic, a tool
// result is answered in text, and the arguments fit the tool's schema.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Endpoint, RequestBody } from '../src/endpoints.ts';
import { argumentPieces, sampleValue, toolCallFor } from '../src/tools.ts';

const schema = {
  type: 'object',
  properties: { city: { type: 'string' }, days: { type: 'integer', minimum: 1 }, unit: { enum: ['c', 'f'] } },
  required: ['city', 'unit'],
};
const ARGS = { city: 'sim', unit: 'c' };
const call = (endpoint: Endpoint, body: Record<string, unknown>) =>
  toolCallFor(endpoint, { model: 'm', ...body } as RequestBody);
const args = (endpoint: Endpoint, body: Record<string, unknown>) => {
  const c = call(endpoint, body);
  return c && { name: c.name, args: JSON.parse(c.arguments) };
};

test("each API's tools are read from its own fields, and the first tool is called", () => {
  const user = { role: 'user', content: 'hi' };
  const chat = { messages: [user], tools: [{ type: 'function', function: { name: 'weather', parameters: schema } }] };
  assert.deepEqual(args('chat', chat), { name: 'weather', args: ARGS });
  const responses = { input: 'hi', tools: [{ type: 'function', name: 'weather', parameters: schema }] };
  assert.deepEqual(args('responses', responses), { name: 'weather', args: ARGS });
  const messages = { messages: [user], max_tokens: 9, tools: [{ name: 'weather', input_schema: schema }] };
  assert.deepEqual(args('messages', messages), { name: 'weather', args: ARGS });
  const gemini = {
    contents: [{ role: 'user', parts: [{ text: 'hi' }] }],
    tools: [{ functionDeclarations: [{ name: 'weather', parameters: schema }] }],
  };
  assert.deepEqual(args('gemini', gemini), { name: 'weather', args: ARGS });
  const converse = {
    messages: [{ role: 'user', content: [{ text: 'hi' }] }],
    toolConfig: { tools: [{ toolSpec: { name: 'weather', inputSchema: { json: schema } } }] },
  };
  assert.deepEqual(args('converse', converse), { name: 'weather', args: ARGS });
  assert.equal(call('chat', { messages: [user] }), undefined, 'no tools, no call');
  assert.equal(call('completions', { prompt: 'hi', tools: chat.tools }), undefined, 'completions have no tools');
});

test('tool choice: none never calls, a named tool is the one called', () => {
  const tools = [
    { type: 'function', function: { name: 'a', parameters: {} } },
    { type: 'function', function: { name: 'b', parameters: {} } },
  ];
  const messages = [{ role: 'user', content: 'hi' }];
  assert.equal(call('chat', { messages, tools, tool_choice: 'none' }), undefined);
  assert.equal(
    call('chat', { messages, tools, tool_choice: { type: 'function', function: { name: 'b' } } })?.name,
    'b',
  );
  const anthropicTools = [
    { name: 'a', input_schema: {} },
    { name: 'b', input_schema: {} },
    { type: 'web_search_20250305', name: 'web_search' },
  ];
  assert.equal(
    call('messages', { messages, tools: anthropicTools, tool_choice: { type: 'tool', name: 'b' } })?.name,
    'b',
  );
  assert.equal(call('messages', { messages, tools: anthropicTools, tool_choice: { type: 'none' } }), undefined);
  const gemini = {
    contents: [{ parts: [{ text: 'hi' }] }],
    tools: [{ functionDeclarations: [{ name: 'a' }, { name: 'b' }] }],
  };
  assert.equal(call('gemini', { ...gemini, toolConfig: { functionCallingConfig: { mode: 'NONE' } } }), undefined);
  assert.equal(
    call('gemini', { ...gemini, toolConfig: { functionCallingConfig: { mode: 'ANY', allowedFunctionNames: ['b'] } } })
      ?.name,
    'b',
  );
  const converse = {
    messages,
    toolConfig: {
      tools: [{ toolSpec: { name: 'a' } }, { toolSpec: { name: 'b' } }],
      toolChoice: { tool: { name: 'b' } },
    },
  };
  assert.equal(call('converse', converse)?.name, 'b');
});

test("a tool's result is answered in text, in each API's shape of a result", () => {
  const fn = { name: 'weather', parameters: schema };
  assert.equal(
    call('chat', {
      messages: [
        { role: 'user', content: 'hi' },
        { role: 'assistant', tool_calls: [] },
        { role: 'tool', content: 'ok' },
      ],
      tools: [{ type: 'function', function: fn }],
    }),
    undefined,
  );
  assert.equal(
    call('responses', {
      input: [
        { role: 'user', content: 'hi' },
        { type: 'function_call_output', call_id: 'c', output: 'ok' },
      ],
      tools: [{ type: 'function', ...fn }],
    }),
    undefined,
  );
  assert.equal(
    call('messages', {
      messages: [{ role: 'user', content: [{ type: 'tool_result', tool_use_id: 't', content: 'ok' }] }],
      tools: [{ name: 'weather', input_schema: schema }],
    }),
    undefined,
  );
  assert.equal(
    call('gemini', {
      contents: [{ role: 'user', parts: [{ functionResponse: { name: 'weather', response: {} } }] }],
      tools: [{ functionDeclarations: [fn] }],
    }),
    undefined,
  );
  assert.equal(
    call('converse', {
      messages: [{ role: 'user', content: [{ toolResult: { toolUseId: 't', content: [{ text: 'ok' }] } }] }],
      toolConfig: { tools: [{ toolSpec: { name: 'weather', inputSchema: { json: schema } } }] },
    }),
    undefined,
  );
  // Told it must call, it calls again.
  assert.ok(
    call('chat', {
      messages: [{ role: 'tool', content: 'ok' }],
      tools: [{ type: 'function', function: fn }],
      tool_choice: 'required',
    }),
  );
});

test('sample values fit their schema: types, enums, nullable unions, nested objects and arrays', () => {
  assert.equal(sampleValue({ type: 'string' }), 'sim');
  assert.equal(sampleValue({ type: 'number', minimum: 3 }), 3);
  assert.equal(sampleValue({ type: ['null', 'boolean'] }), true);
  assert.equal(sampleValue({ anyOf: [{ type: 'null' }, { type: 'integer' }] }), 1);
  assert.deepEqual(sampleValue({ type: 'array', items: { type: 'string' } }), ['sim']);
  assert.deepEqual(
    sampleValue({ type: 'object', properties: { a: { type: 'object', properties: { b: { const: 'x' } } } } }),
    { a: { b: 'x' } },
    'no required list: every property',
  );
  const pieces = argumentPieces({ name: 'x', arguments: '{"city":"sim"}' });
  assert.equal(pieces.join(''), '{"city":"sim"}');
  assert.ok(pieces.length > 1, 'streamed in pieces');
});
