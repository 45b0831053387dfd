import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SseTap } from '@llm-router/common/sse-tap';

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

/** The same stream written with each valid line ending and field form. */
const FORMS: Record<string, (o: unknown) => string> = {
  'LF, "data: "': (o) => `data: ${JSON.stringify(o)}\n\n`,
  CRLF: (o) => `data: ${JSON.stringify(o)}\r\n\r\n`,
  'lone CR': (o) => `data: ${JSON.stringify(o)}\r\r`,
  '"data:" with no space': (o) => `data:${JSON.stringify(o)}\n\n`,
  'multi-line data': (o) => `data: ${JSON.stringify(o, null, 1).split('\n').join('\ndata: ')}\n\n`,
  'comments, id, event and retry fields': (o) =>
    `: keep-alive\nid: 7\nevent: message\nretry: 1000\ndata: ${JSON.stringify(o)}\n\n`,
  'Python separators (": ")': (o) => `data: ${JSON.stringify(o).replace(/":/g, '": ').replace(/,"/g, ', "')}\r\n\r\n`,
};
const CHUNKS = [
  { choices: [{ delta: { role: 'assistant', content: '' } }] },
  { choices: [{ delta: { content: 'Hel' } }] },
  { choices: [{ delta: {}, finish_reason: 'stop' }] },
  { choices: [], usage: { prompt_tokens: 3, completion_tokens: 1 } },
];

for (const [name, form] of Object.entries(FORMS)) {
  test(`event-stream form: ${name} — each event forwarded when complete, first token and usage read, usage chunk dropped`, () => {
    const events = CHUNKS.map(form);
    const done = form === FORMS['lone CR'] ? 'data: [DONE]\r\r' : 'data: [DONE]\n\n';
    let first = 0;
    const tap = new SseTap(true, () => first++);
    // Fed one event at a time: each must come out at once, not wait for the next one.
    const outs = [...events, done].map((e) => tap.push(e));
    assert.equal(outs[0], events[0]);
    assert.equal(outs[1], events[1], 'the first content chunk is forwarded as soon as it is complete');
    assert.equal(outs[3], '', 'the usage-only chunk the router asked for is dropped');
    assert.equal(outs[4] + tap.flush(), done);
    assert.equal(first, 1);
    assert.deepEqual(tap.result.usage, { prompt_tokens: 3, completion_tokens: 1 });
  });
}

test('a CRLF split between two pushes (CR at the end of one, LF at the start of the next) ends the event once', () => {
  const text = 'data: {"choices":[{"delta":{"content":"a"}}]}\r\n\r\ndata: [DONE]\r\n\r\n';
  for (let cut = 1; cut < text.length; cut++) {
    const tap = new SseTap(false, () => {});
    const out = tap.push(text.slice(0, cut)) + tap.push(text.slice(cut)) + tap.flush();
    assert.equal(out.replace(/\r?\n/g, '\n').replace(/\r/g, '\n'), text.replace(/\r\n/g, '\n'), `cut at ${cut}`);
    assert.equal(tap.result.sawFirstToken, true);
  }
});

test('time to first token counts tool-call and reasoning streams too', () => {
  for (const delta of [
    { tool_calls: [{ index: 0, function: { name: 'f', arguments: '' } }] },
    { reasoning_content: 'Let me think' },
  ]) {
    let first = 0;
    const tap = new SseTap(false, () => first++);
    tap.push(ev({ choices: [{ delta: { role: 'assistant' } }] }));
    assert.equal(first, 0);
    tap.push(ev({ choices: [{ delta }] }));
    assert.equal(first, 1, JSON.stringify(delta));
  }
});

test('reading is linear: 16 MB without a blank line is scanned once, then refused past the cap', () => {
  const tap = new SseTap(false, () => {}, 4 * 1024 * 1024);
  const piece = 'x'.repeat(64 * 1024);
  let pushes = 0;
  assert.throws(() => {
    for (let i = 0; i < 256; i++, pushes++) tap.push(i === 0 ? `data: ${piece}` : piece);
  }, /larger than 4194304 bytes/);
  assert.equal(pushes, 63, 'refused at the push that took the unfinished event past the cap');
  // Many small events: output equals input.
  const small = new SseTap(false, () => {});
  const text = ev({ choices: [{ delta: { content: 'y' } }] }).repeat(20_000);
  let out = '';
  for (let i = 0; i < text.length; i += 1000) out += small.push(text.slice(i, i + 1000));
  assert.equal(out + small.flush(), text);
});

test('the event cap counts UTF-8 bytes, as max_event_bytes says, not UTF-16 characters', () => {
  const text = `data: ${'é'.repeat(8)}`; // 14 characters, 22 bytes
  assert.throws(() => new SseTap(false, () => {}, 20).push(text), /larger than 20 bytes/);
  assert.equal(new SseTap(false, () => {}, 22).push(text), '', 'within the cap: held until its blank line');
});
