// The upstream body text with its model replaced (upstream/body-text.ts), checked against JSON.parse on generated
// bodies: whatever it returns parses to the client's body with the new model, and it declines only where it must.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mulberry32 } from '@llm-router/common/prng';
import { withModel } from '../src/upstream/body-text.ts';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** Values with what trips a scanner: quotes, backslashes, "model" inside strings and nested objects, unicode. */
function generator(seed: number) {
  const rand = mulberry32(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  const strings = [
    'hi',
    '',
    'say "model": "x"',
    '{"model":"y"}',
    'back\\slash\\',
    'trailing backslash \\',
    '\\"',
    'héllo 😀 \u2028',
    'model',
    ',"model":',
  ];
  const keys = ['messages', 'content', 'model', 'role', 'temperature', 'seed', 'x', 'Model', 'models', 'tools'];
  const value = (depth: number): Json => {
    const r = rand();
    if (depth > 3 || r < 0.3) return pick(strings);
    if (r < 0.45) return pick([0, -1.5, 1e21, 2 ** 60, true, false, null]);
    if (r < 0.7) return Array.from({ length: Math.floor(rand() * 4) }, () => value(depth + 1));
    const o: Record<string, Json> = {};
    for (let n = Math.floor(rand() * 4); n > 0; n--) o[pick(keys)] = value(depth + 1);
    return o;
  };
  /** JSON text with random spacing and, now and then, \u escapes in strings. */
  const write = (v: Json): string => {
    const sp = () => pick(['', '', ' ', '\n  ', '\t']);
    if (typeof v === 'string') {
      const s = JSON.stringify(v);
      return rand() < 0.2 ? s.replace(/[a-z]/, (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`) : s;
    }
    if (Array.isArray(v)) return `[${sp()}${v.map(write).join(`${sp()},${sp()}`)}${sp()}]`;
    if (v && typeof v === 'object')
      return `{${sp()}${Object.entries(v)
        .map(([k, x]) => `${JSON.stringify(k)}${sp()}:${sp()}${write(x)}`)
        .join(`${sp()},${sp()}`)}${sp()}}`;
    return JSON.stringify(v);
  };
  return { rand, pick, value, write };
}

test('withModel: the text it returns parses to the same body with the new model (3,000 generated bodies)', () => {
  const { rand, pick, value, write } = generator(7);
  let replaced = 0;
  for (let n = 0; n < 3000; n++) {
    const body: Record<string, Json> = {};
    for (let k = Math.floor(rand() * 4); k > 0; k--) body[pick(['messages', 'tools', 'seed', 'user'])] = value(1);
    const placed = rand();
    // The model first, last or in the middle; or a non-string model; or none.
    const entries = Object.entries(body);
    const at = Math.floor(rand() * (entries.length + 1));
    if (placed < 0.8)
      entries.splice(at, 0, ['model', pick(['gpt-4o', 'router/task_router', 'a "quoted" \\ name', ''])]);
    else if (placed < 0.9) entries.splice(at, 0, ['model', pick([null, 3, ['x'], { model: 'y' }])]);
    const text = `${pick(['', ' ', '\n'])}${write(Object.fromEntries(entries))}${pick(['', '\n'])}`;
    const parsed = JSON.parse(text) as Record<string, Json>;
    const target = pick(['small', 'name with "quotes" and \\', 'ünï']);
    const out = withModel(text, target);
    const stringModel = typeof parsed.model === 'string';
    if (out === undefined) {
      // Declined only where no string model sits at the top level.
      assert.equal(stringModel, false, `declined: ${text}`);
      continue;
    }
    replaced++;
    assert.equal(stringModel, true, `replaced a model that is not a string: ${text}`);
    assert.deepEqual(JSON.parse(out), { ...parsed, model: target }, text);
    // Only the model's value differs: what the two texts share at both ends leaves no more than the new value.
    let head = 0;
    while (head < out.length && out[head] === text[head]) head++;
    let tail = 0;
    while (tail < out.length - head && tail < text.length - head && out.at(-1 - tail) === text.at(-1 - tail)) tail++;
    assert.ok(out.length - head - tail <= JSON.stringify(target).length, `more than the model changed: ${text}`);
  }
  assert.ok(replaced > 2000, `most bodies have a string model: ${replaced}`);
});

test('withModel declines what it cannot tell safely: the key twice, an escaped top-level key, no model', () => {
  assert.equal(withModel('{"model":"a","x":1,"model":"b"}', 'm'), undefined, 'twice: JSON.parse keeps the last');
  assert.equal(withModel('{"mod\\u0065l":"a"}', 'm'), undefined, 'an escaped key could spell model');
  assert.equal(withModel('{"a\\"b":1,"model":"a"}', 'm'), undefined);
  assert.equal(withModel('{"messages":[{"model":"a"}]}', 'm'), undefined, 'nested models are not the body model');
  assert.equal(withModel('{}', 'm'), undefined);
  assert.equal(withModel('[{"model":"a"}]', 'm'), undefined);
  assert.equal(withModel('{"model":null}', 'm'), undefined);
  assert.equal(
    withModel('{ "model" : "a" , "seed": 12345678901234567890 }', 'b'),
    '{ "model" : "b" , "seed": 12345678901234567890 }',
  );
  assert.equal(withModel('{"x":{"model":"in"},"model":"out"}', 'new'), '{"x":{"model":"in"},"model":"new"}');
});
