// Usage read from upstream answers: the counts must be numbers, or the request is not costed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validUsage } from '@llm-router/common/usage';
import { CHAT } from '../src/http/endpoints.ts';

/** As the router reads a non-stream answer: call-deployment parses the body (not JSON: a failed attempt, no usage),
 * then the endpoint reads its usage. */
const readUsage = (text: string) => {
  let json: { usage?: unknown };
  try {
    json = JSON.parse(text) as { usage?: unknown };
  } catch {
    return undefined;
  }
  return CHAT.usage(json);
};

const completion = (content: string, usage: unknown, usageFirst = false) => {
  const rest = {
    id: 'c1',
    object: 'chat.completion',
    model: 'm',
    choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }],
  };
  return JSON.stringify(usageFirst ? { usage, ...rest } : { ...rest, usage });
};

test('reads usage at the end, at the start, and with nested details objects', () => {
  assert.deepEqual(readUsage(completion('hi', { prompt_tokens: 12, completion_tokens: 3, total_tokens: 15 })), {
    prompt_tokens: 12,
    completion_tokens: 3,
  });
  assert.deepEqual(readUsage(completion('hi', { prompt_tokens: 7, completion_tokens: 1 }, true)), {
    prompt_tokens: 7,
    completion_tokens: 1,
  });
  const nested = {
    prompt_tokens: 40,
    completion_tokens: 9,
    prompt_tokens_details: { cached_tokens: 32 },
    completion_tokens_details: { reasoning_tokens: 4, audio_tokens: 0 },
  };
  // The prompt's cache reads are kept (priced at cache_read_per_1m); other details are not needed.
  assert.deepEqual(readUsage(completion('hi', nested)), { prompt_tokens: 40, completion_tokens: 9, cached_tokens: 32 });
  assert.deepEqual(
    readUsage(JSON.stringify(completion('x', { prompt_tokens: 1, completion_tokens: 2 }), null, 2)),
    undefined,
    'a JSON string, not an object',
  );
  assert.deepEqual(
    readUsage(JSON.stringify(JSON.parse(completion('x', { prompt_tokens: 1, completion_tokens: 2 })), null, 2)),
    { prompt_tokens: 1, completion_tokens: 2 },
    'pretty-printed',
  );
});

test('content that talks about usage does not fool it', () => {
  const tricky = 'Here is JSON: {"usage": {"prompt_tokens": 999, "completion_tokens": 999}} and a brace } and "quotes"';
  assert.deepEqual(readUsage(completion(tricky, { prompt_tokens: 5, completion_tokens: 6 })), {
    prompt_tokens: 5,
    completion_tokens: 6,
  });
  assert.deepEqual(readUsage(completion(tricky, { prompt_tokens: 5, completion_tokens: 6 }, true)), {
    prompt_tokens: 5,
    completion_tokens: 6,
  });
});

test('no usage, malformed counts or a body that is not JSON give undefined', () => {
  assert.equal(readUsage(completion('hi', undefined)), undefined);
  assert.equal(readUsage(completion('hi', { prompt_tokens: '12', completion_tokens: 3 })), undefined);
  assert.equal(readUsage(completion('hi', { prompt_tokens: -1, completion_tokens: 3 })), undefined);
  assert.equal(readUsage(completion('hi', null)), undefined);
  assert.equal(readUsage('<html>upstream proxy error</html>'), undefined);
  assert.equal(readUsage('{"usage": {"prompt_tokens": 1, "completion_tokens": '), undefined);
  assert.equal(validUsage({ prompt_tokens: Infinity, completion_tokens: 1 }), undefined);
});
