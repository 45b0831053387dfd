// The chat body check without zod (isCommonChatBody) against the schema it shortcuts: on thousands of generated
// bodies, valid and nearly valid, it never accepts what the schema refuses, and what it accepts is what the
// schema outputs. It must also take the common bodies, or the shortcut is dead code.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mulberry32 } from '@llm-router/common/prng';
import { chatRequestSchema, isCommonChatBody, parseChatRequest } from '../src/http/chat-request.ts';
import { ApiError } from '../src/http/errors.ts';

const random = mulberry32(18);
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;

// Values each field may take: the valid ones and the near misses a client sends by mistake.
const ANY = [undefined, null, 0, -1, 1, 1.5, 2, 2.5, 129, 2 ** 53, '', '1', true, false, [], {}, [1], { a: 1 }];
const ROLES = ['system', 'developer', 'user', 'assistant', 'tool', 'function', 'User', 'bot', '', 1, null];
const part = () =>
  pick<unknown>([{ type: 'text', text: 'hi' }, { type: 'image_url' }, { type: 1 }, {}, 'text', null, []]);
const content = () =>
  pick<() => unknown>([
    () => 'hello',
    () => '',
    () => null,
    () => undefined,
    () => Array.from({ length: Math.floor(random() * 3) }, part),
    () => 7,
    () => ({ type: 'text' }),
  ])();
const message = () => {
  if (random() < 0.05) return pick<unknown>([null, 'hi', [], 3]);
  const m: Record<string, unknown> = { role: pick(ROLES) };
  const c = content();
  if (c !== undefined || random() < 0.5) m.content = c;
  if (random() < 0.2) m.name = 'x';
  return m;
};
const field = (valid: unknown[]) => (random() < 0.6 ? pick(valid) : pick(ANY));
function body(): unknown {
  if (random() < 0.03) return pick<unknown>([null, [], 'x', 1]);
  const b: Record<string, unknown> = {};
  if (random() < 0.9) b.model = field(['gpt-4o', 'router/p']);
  if (random() < 0.97)
    b.messages =
      random() < 0.05 ? pick<unknown>([[], {}, 'hi']) : Array.from({ length: 1 + Math.floor(random() * 3) }, message);
  const optional: Array<[string, unknown[]]> = [
    ['stream', [true, false]],
    ['stream_options', [null, {}, { include_usage: true }, { include_usage: false }, { include_usage: 'yes' }]],
    ['max_tokens', [1, 256, 4096, null]],
    ['max_completion_tokens', [1, 100, null]],
    ['temperature', [0, 0.7, 1, 2, null]],
    ['n', [1, 2, 128, null]],
    ['tools', [[{ type: 'function', function: { name: 'f' } }]]],
    ['user', ['u1']],
  ];
  for (const [k, valid] of optional) if (random() < 0.3) b[k] = field(valid);
  return b;
}

test('isCommonChatBody never accepts a body the schema refuses, and what it accepts is what the schema outputs', () => {
  let accepted = 0;
  let valid = 0;
  for (let i = 0; i < 20_000; i++) {
    const b = body();
    const parsed = chatRequestSchema.safeParse(b);
    if (parsed.success) valid++;
    if (!isCommonChatBody(b)) continue;
    accepted++;
    assert.ok(parsed.success, `accepted a body the schema refuses: ${JSON.stringify(b)}`);
    assert.deepEqual(b, parsed.data);
  }
  // It must take most valid bodies, or the shortcut does nothing.
  assert.ok(accepted > 0.9 * valid, `took ${accepted} of ${valid} valid bodies`);
});

test('parseChatRequest: the common body as it is; errors still come from the schema, with its messages', () => {
  const common = { model: 'm', messages: [{ role: 'user', content: 'hi' }], stream: true, max_tokens: 10 };
  assert.equal(parseChatRequest(common), common);
  const errorOf = (b: unknown) => {
    try {
      parseChatRequest(b);
    } catch (err) {
      assert.ok(err instanceof ApiError);
      return { status: err.status, message: err.message, param: err.param };
    }
    assert.fail('no error');
  };
  assert.deepEqual(errorOf({ model: 'm' }), {
    status: 400,
    message: "Missing required parameter: 'messages'",
    param: 'messages',
  });
  assert.equal(errorOf({ messages: [{ role: 'user', content: 'x' }], temperature: 3 }).param, 'temperature');
  assert.equal(errorOf({ messages: [{ role: 'robot', content: 'x' }] }).param, 'messages[0].role');
  // Deeper than the limit is refused even when the shape is common (tools are passed through untouched).
  let deep: unknown = {};
  for (let i = 0; i < 200; i++) deep = { a: deep };
  const deepBody = { messages: [{ role: 'user', content: 'x' }], tools: [deep] };
  assert.ok(isCommonChatBody(deepBody));
  assert.match(errorOf(deepBody).message, /nested more than/);
});
