import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SseTap } from '../src/upstream/sse-tap.ts';

const ev = (o: unknown) => `data: ${JSON.stringify(o)}\n\n`;
const stream = [
  ev({ choices: [{ delta: { role: 'assistant', content: '' } }] }),
  ev({ choices: [{ delta: { content: 'Hel' } }] }),
  ev({ choices: [{ delta: {}, finish_reason: 'stop' }] }),
  ev({ choices: [], usage: { prompt_tokens: 3, completion_tokens: 1 } }),
  'data: [DONE]\n\n',
].join('');

test('events split at any byte boundary come out whole and in order; usage is read', () => {
  for (let cut = 1; cut < stream.length; cut += 7) {
    let first = 0;
    const tap = new SseTap(false, () => first++);
    const out = tap.push(stream.slice(0, cut)) + tap.push(stream.slice(cut)) + tap.flush();
    assert.equal(out, stream);
    assert.equal(first, 1);
    assert.deepEqual(tap.result.usage, { prompt_tokens: 3, completion_tokens: 1 });
  }
});

test('the usage-only chunk is dropped when the client did not ask for it, nothing else is', () => {
  const tap = new SseTap(true, () => {});
  const out = tap.push(stream) + tap.flush();
  assert.equal(out, stream.replace(ev({ choices: [], usage: { prompt_tokens: 3, completion_tokens: 1 } }), ''));
  assert.equal(tap.result.usage?.completion_tokens, 1);
});
