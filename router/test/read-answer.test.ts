// readAnswer (upstream/read-answer.ts) against a real HTTP server on loopback: the whole answer, the byte
// limit (declared or counted), aborts before and after the headers, a body that fails after the headers.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Pool } from 'undici';
import { AbortEmitter } from '../src/upstream/abort-emitter.ts';
import { readAnswer } from '../src/upstream/read-answer.ts';
import { ByteBudget } from '../src/upstream/byte-budget.ts';

/** The router-wide answer budget, large enough for every test but the one that spends it. */
const budget = new ByteBudget(1 << 30);

/** Each path is one behaviour of the upstream; `closed` counts connections the client dropped. */
let closed = 0;
const behaviours: Record<string, (res: ServerResponse) => void> = {
  '/ok': (res) => res.writeHead(200, { 'content-type': 'application/json', 'x-n': '1' }).end('{"a":"é"}'),
  '/chunked': (res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.write('{"a":"');
    setTimeout(() => res.end('xyz"}'), 5);
  },
  // 64 KiB sent in chunks, no declared length: over a 1 KiB limit once counted.
  '/big-chunked': (res) => {
    res.writeHead(200);
    for (let i = 0; i < 64; i++) res.write('x'.repeat(1024));
    res.end();
  },
  '/big-declared': (res) => res.writeHead(200, { 'content-length': 100_000 }).end('x'.repeat(100_000)),
  '/error': (res) => res.writeHead(429, { 'retry-after': '3' }).end('{"error":"slow down"}'),
  // Headers, half a body, then the connection is cut.
  '/cut': (res) => {
    res.writeHead(200, { 'content-length': 100 });
    res.write('{"partial":');
    setTimeout(() => res.socket?.destroy(), 10);
  },
  '/hang': () => {},
};
const server = createServer((req, res) => {
  req.socket.once('close', () => closed++);
  req.resume().once('end', () => behaviours[req.url ?? '']!(res));
});
await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
const pool = new Pool(`http://127.0.0.1:${(server.address() as AddressInfo).port}`, { connections: 4 });
after(async () => {
  await pool.destroy();
  server.closeAllConnections();
  server.close();
});

const read = (path: string, limit = 1024, signal = new AbortEmitter()) =>
  readAnswer(pool, { method: 'POST', path, body: '{}', headers: {} }, signal, { ok: limit, other: limit, budget });

test('the whole answer: status, headers, UTF-8 text, when the headers came', async () => {
  const before = process.hrtime.bigint();
  const signal = new AbortEmitter();
  const a = await read('/ok', 1024, signal);
  assert.equal(signal.listenerCount('abort'), 0, 'its abort listener is removed once answered');
  assert.equal(a.status, 200);
  assert.equal(a.headers['x-n'], '1');
  assert.equal(a.text, '{"a":"é"}');
  assert.equal(a.bodyError, undefined);
  assert.ok(a.headersAt >= before && a.headersAt <= process.hrtime.bigint());
  assert.equal((await read('/chunked')).text, '{"a":"xyz"}');
});

test('an error status is answered with its body and headers (the caller decides what it means)', async () => {
  const a = await read('/error');
  assert.equal(a.status, 429);
  assert.equal(a.headers['retry-after'], '3');
  assert.equal(a.text, '{"error":"slow down"}');
  // Its own limit: an error body is kept up to `other`, whatever the limit for a 2xx.
  const small = await readAnswer(
    pool,
    { method: 'POST', path: '/error', body: '{}', headers: {} },
    new AbortEmitter(),
    {
      ok: 1_000_000,
      other: 5,
      budget,
    },
  );
  assert.equal(small.text, null);
});

test('over the limit: text is null and the connection is dropped, declared or counted', async () => {
  for (const path of ['/big-declared', '/big-chunked']) {
    const closedBefore = closed;
    const a = await read(path, 1024);
    assert.equal(a.status, 200, path);
    assert.equal(a.text, null, path);
    assert.equal(a.bodyError, undefined, path);
    // The rest is not read: undici drops that connection (the server sees it close).
    const deadline = Date.now() + 5000;
    while (closed === closedBefore && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    assert.ok(closed > closedBefore, `${path}: connection dropped`);
  }
  // Within the limit, the same answer is read whole.
  assert.equal((await read('/big-declared', 200_000)).text?.length, 100_000);
});

test('a body cut after the headers is a bodyError, not a short text', async () => {
  const a = await read('/cut');
  assert.equal(a.status, 200);
  assert.equal(a.text, null);
  assert.ok(a.bodyError instanceof Error);
});

test('an abort rejects: before the request is sent, and while waiting for the headers', async () => {
  const early = new AbortEmitter();
  early.abort();
  await assert.rejects(read('/ok', 1024, early), { name: 'AbortError' });
  const late = new AbortEmitter();
  const pending = read('/hang', 1024, late);
  setTimeout(() => late.abort(), 20);
  await assert.rejects(pending, { name: 'AbortError' });
});

test('the router-wide answer budget: bytes held until release(), an answer past it is dropped as overBudget', async () => {
  const small = new ByteBudget(80_000);
  const readWith = (path: string) =>
    readAnswer(pool, { method: 'POST', path, body: '{}', headers: {} }, new AbortEmitter(), {
      ok: 1_000_000,
      other: 1_000,
      budget: small,
    });
  const first = await readWith('/big-chunked');
  assert.equal(first.text?.length, 64 * 1024);
  assert.equal(small.inUse, 64 * 1024, 'held while the router holds the text');
  const second = await readWith('/big-chunked');
  assert.deepEqual([second.text, second.overBudget], [null, true]);
  assert.equal(small.inUse, 64 * 1024, 'the refused answer gave back what it had reserved');
  first.release();
  first.release();
  assert.equal(small.inUse, 0, 'released once, whatever the calls');
  const third = await readWith('/big-chunked');
  assert.equal(third.text?.length, 64 * 1024, 'room again');
  third.release();
  const cut = await readWith('/cut');
  cut.release();
  assert.equal(small.inUse, 0, 'a cut body gives its bytes back too');
});
