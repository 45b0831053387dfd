// The load generator's client against a scripted server: streams read by the event-stream rules, so usage with
// nested details (what real servers send) is read, not taken for a connection error, and the first token is
// found whatever it is (text with or without a space after the colon, a tool call, reasoning) and however split.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { LoadClient } from '../src/client.ts';

const chunk = (delta: Record<string, unknown>) =>
  `data: ${JSON.stringify({ id: 'c', object: 'chat.completion.chunk', choices: [{ index: 0, delta }] })}`;
const usage = `data: {"id":"c","choices":[],"usage":{"prompt_tokens":12,"completion_tokens":7,"total_tokens":19,"prompt_tokens_details":{"cached_tokens":0,"audio_tokens":0},"completion_tokens_details":{"reasoning_tokens":0}}}`;
/** Each path: the events of one stream, and how they are split and ended. */
const streams: Record<string, { events: string[]; eol: string; split?: number }> = {
  '/text': { events: [chunk({ role: 'assistant' }), chunk({ content: 'Hello' }), usage, 'data: [DONE]'], eol: '\n' },
  // Python servers write ": " (json.dumps' default), and CRLF line endings, split every 7 bytes.
  '/spaced': {
    events: ['data: {"choices": [{"index": 0, "delta": {"content": "Hi"}}]}', usage, 'data: [DONE]'],
    eol: '\r\n',
    split: 7,
  },
  '/tool': {
    events: [
      chunk({ tool_calls: [{ index: 0, id: 't', type: 'function', function: { name: 'f', arguments: '' } }] }),
      usage,
    ],
    eol: '\n',
  },
  '/reasoning': { events: [chunk({ reasoning_content: 'Let me think' }), usage, 'data: [DONE]'], eol: '\n' },
};

const server = createServer((req, res) => {
  req.resume();
  const s = streams[req.url!.replace('/v1/chat/completions', '')]!;
  res.writeHead(200, { 'content-type': 'text/event-stream', 'x-router-model': 'm' });
  const text = s.events.map((e) => `${e}${s.eol}${s.eol}`).join('');
  const step = s.split ?? text.length;
  for (let i = 0; i < text.length; i += step) res.write(text.slice(i, i + step));
  res.end();
});
await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
const port = (server.address() as AddressInfo).port;
after(() => server.close());

test('streams: usage with nested details, and the first token of every kind, however the bytes are split', async () => {
  for (const path of Object.keys(streams)) {
    const client = new LoadClient(`http://127.0.0.1:${port}${path}/v1`, 2, undefined, 5_000);
    const r = await client.send(
      { target: 'm', stream: true, body: '{"model":"m","stream":true,"messages":[]}' },
      performance.now(),
      new AbortController().signal,
    );
    assert.equal(r.status, '200', `${path}: ${r.error}`);
    assert.equal(r.ok, true, path);
    assert.deepEqual(r.usage, { prompt_tokens: 12, completion_tokens: 7 }, path);
    assert.ok(r.ttftSeconds !== undefined && r.ttftSeconds <= r.latencySeconds, `${path}: first token seen`);
  }
});
