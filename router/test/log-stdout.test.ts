// StdoutLines (router/src/log.ts) in process, with the write to stdout replaced by one that holds its callback
// until the test completes it: what goes out in which write, in what order, and what a failed write does.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StdoutLines } from '../src/log.ts';

type Done = (err: NodeJS.ErrnoException | null, written: number) => void;

/** A write to stdout the test completes by hand: each call's bytes, and its callback. */
function fakeStdout() {
  const calls: Array<{ text: string; done: Done }> = [];
  const write = (_fd: number, buffer: Buffer, offset: number, length: number, _pos: null, done: Done) => {
    calls.push({ text: buffer.subarray(offset, offset + length).toString(), done });
  };
  return { calls, write };
}

const line = (i: number) => `{"n":${i}}\n`;

test('lines wait until a batch is gathered, then go out in one write', () => {
  const fake = fakeStdout();
  const out = new StdoutLines(1, 40, fake.write);
  for (let i = 0; i < 4; i++) out.write(line(i));
  assert.equal(fake.calls.length, 0, '32 characters: under the batch');
  out.write(line(4));
  assert.deepEqual(
    fake.calls.map((c) => c.text),
    [[0, 1, 2, 3, 4].map(line).join('')],
  );
});

test('everything gathered during a write goes out in the next write, however many batches it is', () => {
  const fake = fakeStdout();
  const out = new StdoutLines(1, 16, fake.write);
  out.write(line(0).repeat(2));
  assert.equal(fake.calls.length, 1);
  for (let i = 1; i <= 100; i++) out.write(line(i));
  assert.equal(fake.calls.length, 1, 'nothing else starts while a write is in flight');
  fake.calls[0]!.done(null, 16);
  assert.equal(fake.calls.length, 2);
  assert.equal(fake.calls[1]!.text, Array.from({ length: 100 }, (_, i) => line(i + 1)).join(''));
});

test('a flush asked for during a write writes what is gathered when that write ends, even under a batch', () => {
  const fake = fakeStdout();
  const out = new StdoutLines(1, 1000, fake.write);
  out.write(line(0));
  out.flush();
  out.write(line(1));
  out.flush();
  assert.equal(fake.calls.length, 1);
  fake.calls[0]!.done(null, line(0).length);
  assert.deepEqual(
    fake.calls.map((c) => c.text),
    [line(0), line(1)],
  );
  fake.calls[1]!.done(null, line(1).length);
  out.flush();
  assert.equal(fake.calls.length, 2, 'nothing gathered, nothing written');
});

test('a partial write goes on with the rest before anything newer', () => {
  const fake = fakeStdout();
  const out = new StdoutLines(1, 1, fake.write);
  out.write('abcdef');
  out.write('ghi');
  fake.calls[0]!.done(null, 4);
  fake.calls[1]!.done(null, 2);
  assert.deepEqual(
    fake.calls.map((c) => c.text),
    ['abcdef', 'ef', 'ghi'],
  );
});

test('a full non-blocking pipe (EAGAIN) is tried again; a closed one (EPIPE) drops lines without throwing', async () => {
  const fake = fakeStdout();
  const out = new StdoutLines(1, 1, fake.write);
  out.write('a');
  fake.calls[0]!.done(Object.assign(new Error('full'), { code: 'EAGAIN' }), 0);
  await new Promise((resolve) => setTimeout(resolve, 50));
  assert.deepEqual(
    fake.calls.map((c) => c.text),
    ['a', 'a'],
  );
  out.write('b');
  fake.calls[1]!.done(Object.assign(new Error('closed'), { code: 'EPIPE' }), 0);
  assert.equal(fake.calls.length, 2, 'b is dropped with the failed write');
  out.write('c');
  out.flush();
  out.flushSync();
  assert.equal(fake.calls.length, 2, 'nothing more is written once stdout is gone');
});

test("flush(done) calls done once everything gathered before it is written (pino's logger.flush at shutdown)", () => {
  const fake = fakeStdout();
  const out = new StdoutLines(1, 1000, fake.write);
  const order: string[] = [];
  out.flush(() => order.push('nothing gathered'));
  assert.deepEqual(order, ['nothing gathered'], 'at once when nothing is gathered or in flight');
  out.write(line(0));
  out.flush(() => order.push('first'));
  out.write(line(1));
  out.flush(() => order.push('second'));
  assert.deepEqual(order, ['nothing gathered']);
  fake.calls[0]!.done(null, line(0).length);
  assert.deepEqual(order, ['nothing gathered'], 'line 1 is still to write');
  assert.equal(fake.calls[1]!.text, line(1));
  fake.calls[1]!.done(null, line(1).length);
  assert.deepEqual(order, ['nothing gathered', 'first', 'second']);
});

test('lines in any script go out byte for byte; a backlog past the buffer comes out whole and in order', () => {
  const fake = fakeStdout();
  const out = new StdoutLines(1, 64, fake.write);
  const words = ['plain', 'naïve café', 'Ελληνικά', '日本語のテキスト', 'emoji 🚀🧪 pairs', 'mixed ß∑😀'];
  out.write(`${words.join(' ')}\n`);
  assert.equal(fake.calls.length, 1);
  // While that write is in flight, far more than a buffer's worth (64 KiB) is gathered.
  const backlog = Array.from({ length: 6000 }, (_, i) => `{"n":${i},"w":"${words[i % words.length]}"}\n`);
  for (const l of backlog) out.write(l);
  fake.calls[0]!.done(null, Buffer.byteLength(fake.calls[0]!.text));
  assert.equal(fake.calls.length, 2);
  assert.equal(fake.calls[0]!.text, `${words.join(' ')}\n`);
  assert.equal(fake.calls[1]!.text, backlog.join(''));
});

test('lines gathered during a write never touch the bytes being written', () => {
  const held: Array<{ bytes: Buffer; copy: string; done: Done }> = [];
  const write = (_fd: number, buffer: Buffer, offset: number, length: number, _pos: null, done: Done) => {
    const bytes = buffer.subarray(offset, offset + length);
    held.push({ bytes, copy: bytes.toString(), done });
  };
  const out = new StdoutLines(1, 8, write);
  const expected: string[] = [];
  for (let round = 0; round < 5; round++) {
    expected.push(`round ${round} ${'x'.repeat(round * 10)}\n`);
    out.write(expected.at(-1)!);
    const current = held.at(-1)!;
    for (let i = 0; i < 50; i++) {
      expected.push(`during ${round}.${i}\n`);
      out.write(expected.at(-1)!);
    }
    assert.equal(current.bytes.toString(), current.copy, `round ${round}: the write in flight is unchanged`);
    current.done(null, current.bytes.length);
  }
  assert.equal(held.length, 6, 'the buffers took turns: one write per round, and the last round in flight');
  assert.equal(held.map((h) => h.copy).join(''), expected.join(''));
});
