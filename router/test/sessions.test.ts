// Conversations keep their model, in process: the session key (header, user, the conversation's opening), what
// a turn's decision does to the pin (up: never down; pin: never moves), the bounded store with its TTL, and the
// shared store consulted for later turns.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  applySession,
  ConversationSessions,
  decodePin,
  encodePin,
  sessionKey,
  SessionStore,
} from '../src/routing/sessions.ts';

const price = (m: string) => ({ small: 1, mid: 5, big: 20 })[m] ?? 0;
const pin = (model: string) => ({ model, class: `c-${model}` });

test("the session key: x-session-id, else user, else the conversation's opening, which later turns repeat", () => {
  const first = [
    { role: 'system', content: 'You are terse.' },
    { role: 'user', content: 'Write a sorting function in Rust.' },
  ];
  const later = [...first, { role: 'assistant', content: 'fn sort() {}' }, { role: 'user', content: 'shorter' }];
  const a = sessionKey(undefined, undefined, first);
  const b = sessionKey(undefined, undefined, later);
  assert.ok(a && b);
  assert.equal(a.key, b.key, 'the same conversation');
  assert.deepEqual([a.continues, b.continues], [false, true], 'only a later turn looks its session up');
  const other = sessionKey(undefined, undefined, [{ role: 'user', content: 'Write a sorting function in Go.' }]);
  assert.notEqual(other?.key, a.key);
  const sys2 = sessionKey(undefined, undefined, [{ role: 'system', content: 'Be verbose.' }, first[1]!]);
  assert.notEqual(sys2?.key, a.key, 'another system prompt is another conversation');
  assert.deepEqual(sessionKey('abc', 'u1', later), { key: 'h:abc', continues: true });
  assert.deepEqual(sessionKey(undefined, 'u1', first), { key: 'u:u1', continues: true });
  assert.equal(sessionKey('x'.repeat(500), undefined, first)!.key.length < 64, true, 'long ids are hashed');
  assert.equal(sessionKey(undefined, undefined, [{ role: 'system', content: 's' }]), undefined, 'no user turn');
});

test('mode up moves a conversation to a pricier model and never to a cheaper one; pin never moves', () => {
  assert.deepEqual(applySession('up', pin('mid'), undefined, price), { pin: pin('mid'), outcome: 'new' });
  assert.deepEqual(applySession('up', pin('mid'), pin('mid'), price), { pin: pin('mid'), outcome: 'kept' });
  assert.deepEqual(applySession('up', pin('big'), pin('mid'), price), { pin: pin('big'), outcome: 'up' });
  assert.deepEqual(applySession('up', pin('small'), pin('mid'), price), { pin: pin('mid'), outcome: 'held' });
  assert.deepEqual(applySession('pin', pin('big'), pin('mid'), price), { pin: pin('mid'), outcome: 'held' });
  assert.deepEqual(applySession('off', pin('small'), pin('mid'), price), { pin: pin('small'), outcome: 'new' });
});

test('a multi-turn conversation whose decisions go down and up is served with no downward switch', () => {
  const sessions = new ConversationSessions({ mode: 'up', ttl_s: 60, max_sessions: 10 }, price);
  const decided = ['mid', 'small', 'small', 'big', 'mid', 'small'];
  const served: string[] = [];
  decided.forEach((model, turn) => {
    const r = sessions.route('p', { key: 'k', continues: turn > 0 }, pin(model));
    assert.ok(!(r instanceof Promise), 'no shared store: synchronous');
    served.push(r.pin.model);
  });
  assert.deepEqual(served, ['mid', 'mid', 'mid', 'big', 'big', 'big']);
  for (let i = 1; i < served.length; i++) assert.ok(price(served[i]!) >= price(served[i - 1]!), 'never down');
  // The same key under another policy is another session.
  const other = sessions.route('q', { key: 'k', continues: true }, pin('small'));
  assert.ok(!(other instanceof Promise) && other.outcome === 'new');
  // POST /v1/route asks without moving the session.
  const peek = sessions.route('p', { key: 'k2', continues: false }, pin('big'), false);
  assert.ok(!(peek instanceof Promise));
  assert.equal(sessions.local.get('p\u0000k2'), undefined);
});

test('the store forgets a session ttl after its last turn and keeps at most max_sessions, least recently used first', () => {
  let now = 0;
  const store = new SessionStore(2, 1000, () => now);
  store.set('a', pin('small'));
  now = 500;
  store.set('b', pin('mid'));
  assert.deepEqual(store.get('a'), pin('small'));
  now = 1200;
  assert.equal(store.get('a'), undefined, 'expired');
  assert.deepEqual(store.get('b'), pin('mid'));
  store.set('c', pin('big'));
  store.set('d', pin('big'));
  assert.equal(store.size, 2);
  assert.equal(store.get('b'), undefined, 'the least recently set went first');
});

test('with a shared store, a later turn takes the pin another replica wrote; an unreachable store falls back to memory', async () => {
  const remote = new Map<string, string>();
  let connected = true;
  const shared = {
    get connected() {
      return connected;
    },
    getSession: async (k: string) => remote.get(k),
    setSession: (k: string, v: string) => void remote.set(k, v),
  };
  const replicaA = new ConversationSessions({ mode: 'up', ttl_s: 60, max_sessions: 10 }, price, () => shared);
  const replicaB = new ConversationSessions({ mode: 'up', ttl_s: 60, max_sessions: 10 }, price, () => shared);
  await replicaA.route('p', { key: 'k', continues: false }, pin('big'));
  const onB = await replicaB.route('p', { key: 'k', continues: true }, pin('small'));
  assert.deepEqual(onB, { pin: pin('big'), outcome: 'held' }, 'B continues what A served');
  connected = false;
  const offline = replicaB.route('p', { key: 'k', continues: true }, pin('small'));
  assert.ok(!(offline instanceof Promise), 'store away: decided at once from memory');
  assert.deepEqual(offline.pin, pin('big'), 'B remembers what it served');
  assert.deepEqual(decodePin(encodePin(pin('mid'))), pin('mid'));
  assert.equal(decodePin('{bad'), undefined);
  assert.equal(decodePin('[1,2]'), undefined);
});
