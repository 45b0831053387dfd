// AttemptSignal (upstream/attempt-signal.ts) on a fake clock: which limit ends an attempt and when, checked
// against the moment each limit passes (never late by more than the fake timer's 1 ms step).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AbortEmitter } from '../src/upstream/abort-emitter.ts';
import { type AttemptClock, AttemptSignal } from '../src/upstream/attempt-signal.ts';

/** Timers that fire only when the test moves the clock, in time order. */
function fakeClock() {
  let now = 0;
  let next = 0;
  const timers = new Map<number, { at: number; fn: (a: AttemptSignal) => void; a: AttemptSignal }>();
  const clock: AttemptClock = {
    now: () => now,
    setTimeout: (fn, ms, a) => {
      timers.set(++next, { at: now + ms, fn, a });
      return next;
    },
    clearTimeout: (id) => timers.delete(id as number),
  };
  /** Moves to `to` in 1 ms steps, firing what is due on the way. */
  const advance = (to: number) => {
    while (now < to) {
      now++;
      for (const [id, t] of [...timers].sort((x, y) => x[1].at - y[1].at))
        if (t.at <= now) {
          timers.delete(id);
          t.fn(t.a);
        }
    }
  };
  return { clock, advance, pending: () => timers.size, now: () => now };
}

const LIMITS = { totalMs: 120_000, firstByteMs: 60_000, idleMs: 30_000 };

/** The time the signal aborted at (advancing 1 ms at a time up to `until`), or null. */
function abortTime(f: ReturnType<typeof fakeClock>, a: AttemptSignal, until: number, step?: (t: number) => void) {
  let at: number | null = null;
  a.on('abort', () => (at = f.now()));
  while (at === null && f.now() < until) {
    f.advance(f.now() + 1);
    step?.(f.now());
  }
  return at;
}

test('no headers within first_byte_timeout_ms: first_byte_timeout, at that moment', () => {
  const f = fakeClock();
  const a = new AttemptSignal(new AbortEmitter(), LIMITS, f.clock);
  assert.equal(abortTime(f, a, 200_000), 60_000);
  assert.equal(a.timedOut, 'first_byte_timeout');
  assert.equal(f.pending(), 0);
});

test('headers, then silence: stream_idle_timeout idleMs after the headers, even when they come late', () => {
  for (const headersAt of [1, 29_999, 30_001, 59_000]) {
    const f = fakeClock();
    const a = new AttemptSignal(new AbortEmitter(), LIMITS, f.clock);
    f.advance(headersAt);
    a.received();
    assert.equal(abortTime(f, a, 200_000), headersAt + 30_000, `headers at ${headersAt}`);
    assert.equal(a.timedOut, 'stream_idle_timeout');
  }
});

test('chunks within the idle limit keep it alive until the total timeout; the last silence counts from the last chunk', () => {
  const f = fakeClock();
  const a = new AttemptSignal(new AbortEmitter(), LIMITS, f.clock);
  f.advance(100);
  a.received();
  assert.equal(
    abortTime(f, a, 200_000, (t) => t % 29_000 === 0 && a.received()),
    120_000,
  );
  assert.equal(a.timedOut, 'timeout');

  const g = fakeClock();
  const b = new AttemptSignal(new AbortEmitter(), LIMITS, g.clock);
  b.received();
  assert.equal(
    abortTime(g, b, 200_000, (t) => t <= 50_000 && t % 10_000 === 0 && b.received()),
    80_000,
  );
  assert.equal(b.timedOut, 'stream_idle_timeout');
});

test('silence while the reader waits for the client is not the upstream idle; it counts again from the wait end', () => {
  const f = fakeClock();
  const a = new AttemptSignal(new AbortEmitter(), { ...LIMITS, totalMs: 1_000_000 }, f.clock);
  a.received();
  f.advance(1_000);
  a.waitForClient(true);
  f.advance(100_000);
  assert.equal(a.aborted, false, 'a slow client is not a silent upstream');
  a.waitForClient(false);
  assert.equal(abortTime(f, a, 500_000), 130_000);
  assert.equal(a.timedOut, 'stream_idle_timeout');
});

test('the client leaving aborts it with no time limit named; done() clears the timer', () => {
  const f = fakeClock();
  const client = new AbortEmitter();
  const a = new AttemptSignal(client, LIMITS, f.clock);
  client.abort();
  assert.equal(a.aborted, true);
  assert.equal(a.timedOut, undefined);
  a.done();
  assert.equal(f.pending(), 0);
  assert.equal(client.listenerCount('abort'), 0);

  const g = fakeClock();
  const b = new AttemptSignal(new AbortEmitter(), LIMITS, g.clock);
  b.received();
  b.done();
  assert.equal(g.pending(), 0);
  g.advance(200_000);
  assert.equal(b.aborted, false);
});

test('a short total timeout wins over the others', () => {
  const f = fakeClock();
  const a = new AttemptSignal(new AbortEmitter(), { totalMs: 500, firstByteMs: 60_000, idleMs: 30_000 }, f.clock);
  assert.equal(abortTime(f, a, 10_000), 500);
  assert.equal(a.timedOut, 'timeout');
});
