// Conversations keep their model. The router classifies the latest user message, so a follow-up ("make it
// shorter") would often drop a conversation to a cheaper model mid-task; a session remembers the model its
// policy chose and, by default, lets later turns move only to a stronger (pricier) model, never a cheaper one.
// A session is named by the x-session-id header, else the body's `user`, else a hash of the conversation's
// opening (system prompt and first user message), which every later turn repeats. Remembered per policy for
// ttl_s after the last turn, at most max_sessions in this process (least recently used go first), and on
// Redis too when state is shared, so any replica continues a conversation.
import { createHash } from 'node:crypto';
import type { ChatMessageLike } from '../classify/prompt-text.ts';
import { classificationWindow, messageTexts } from '../classify/prompt-text.ts';

import type { SessionMode } from '../config/vocabulary.ts';

export { SESSION_MODES, type SessionMode } from '../config/vocabulary.ts';

/** What a turn's routing did to its session's model (the x-router-session header and metrics label). */
export type SessionOutcome = 'new' | 'kept' | 'up' | 'held';

export interface SessionPin {
  model: string;
  class: string;
}

/** Longest x-session-id or `user` taken as a key (longer ones are hashed). */
const MAX_KEY_CHARS = 128;

/**
 * The session a request belongs to, or undefined when it names none and has no earlier turn to continue
 * (a first turn is still remembered, under `key`, so its follow-ups find it).
 */
export function sessionKey(
  header: string | undefined,
  user: unknown,
  messages: ReadonlyArray<ChatMessageLike>,
  texts: readonly string[] = messageTexts(messages),
): { key: string; continues: boolean } | undefined {
  const named = (prefix: string, v: string) =>
    `${prefix}${v.length <= MAX_KEY_CHARS ? v : createHash('sha256').update(v).digest('base64url')}`;
  if (header) return { key: named('h:', header), continues: true };
  if (typeof user === 'string' && user) return { key: named('u:', user), continues: true };
  let system = '';
  let first: string | undefined;
  let laterTurn = false;
  for (let i = 0; i < messages.length; i++) {
    const m = messages[i]!;
    if (m.role === 'system' || m.role === 'developer') {
      if (first === undefined) system += texts[i]!;
    } else if (m.role === 'user' && first === undefined) first = texts[i]!;
    else if (first !== undefined) laterTurn = true;
  }
  if (first === undefined) return undefined;
  const opening = classificationWindow(`${system}\u0000${first}`);
  return { key: `c:${createHash('sha256').update(opening).digest('base64url')}`, continues: laterTurn };
}

/**
 * The model a turn is served by, given its session's pin: `up` keeps the pinned model unless the new decision is
 * pricier, `pin` always keeps it. Returns the pin to remember.
 */
export function applySession(
  mode: SessionMode,
  decided: SessionPin,
  pinned: SessionPin | undefined,
  price: (model: string) => number,
): { pin: SessionPin; outcome: SessionOutcome } {
  if (!pinned || mode === 'off') return { pin: decided, outcome: 'new' };
  if (pinned.model === decided.model) return { pin: pinned, outcome: 'kept' };
  if (mode === 'up' && price(decided.model) > price(pinned.model)) return { pin: decided, outcome: 'up' };
  return { pin: pinned, outcome: 'held' };
}

/** This process's sessions: a Map in least-recently-used order, each entry expiring ttlMs after its last use. */
export class SessionStore {
  private readonly entries = new Map<string, { pin: SessionPin; until: number }>();

  constructor(
    private readonly maxEntries: number,
    private readonly ttlMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  get(key: string): SessionPin | undefined {
    const e = this.entries.get(key);
    if (!e) return undefined;
    if (e.until <= this.now()) {
      this.entries.delete(key);
      return undefined;
    }
    return e.pin;
  }

  set(key: string, pin: SessionPin): void {
    this.entries.delete(key);
    this.entries.set(key, { pin, until: this.now() + this.ttlMs });
    // Oldest first: drop what expired and what is over the bound.
    const now = this.now();
    for (const [k, e] of this.entries) {
      if (this.entries.size <= this.maxEntries && e.until > now) break;
      this.entries.delete(k);
    }
  }

  get size(): number {
    return this.entries.size;
  }
}

export const encodePin = (pin: SessionPin) => JSON.stringify([pin.model, pin.class]);
export function decodePin(text: string | null | undefined): SessionPin | undefined {
  if (!text) return undefined;
  try {
    const [model, cls] = JSON.parse(text) as unknown[];
    return typeof model === 'string' && typeof cls === 'string' ? { model, class: cls } : undefined;
  } catch {
    return undefined;
  }
}

/** Sessions as the request path uses them: this process's store, and the shared one when there is one. */
export class ConversationSessions {
  readonly local: SessionStore;
  private readonly ttlMs: number;

  constructor(
    private readonly config: { mode: SessionMode; ttl_s: number; max_sessions: number },
    private readonly price: (model: string) => number,
    /** The shared store, when there is one (a getter: the router builds it after its context). */
    private readonly sharedStore: () =>
      | {
          readonly connected: boolean;
          getSession(key: string): Promise<string | undefined>;
          setSession(key: string, value: string, ttlMs: number): void;
        }
      | undefined = () => undefined,
    now?: () => number,
  ) {
    this.ttlMs = config.ttl_s * 1000;
    this.local = new SessionStore(config.max_sessions, this.ttlMs, now);
  }

  get enabled(): boolean {
    return this.config.mode !== 'off';
  }

  /** The session of a request (sessionKey), when sessions are on and a policy routes it (not a model by name). */
  keyOf(
    byPolicy: boolean,
    header: string | undefined,
    user: unknown,
    prompt: { messages: ReadonlyArray<ChatMessageLike>; texts: readonly string[] },
  ): { key: string; continues: boolean } | undefined {
    return this.enabled && byPolicy ? sessionKey(header, user, prompt.messages, prompt.texts) : undefined;
  }

  /**
   * A decision as its conversation serves it: a later turn gets the session's model (and class) and its outcome; a
   * first turn is remembered (when `write`) and served as decided. `write` false: only tell (POST /v1/route).
   */
  serve<D extends { policy: string; model: string; class: string }>(
    d: D,
    session: { key: string; continues: boolean },
    write: boolean,
  ): (D & { session?: SessionOutcome }) | Promise<D & { session?: SessionOutcome }> {
    if (!session.continues && !write) return d;
    const routed = this.route(d.policy, session, { model: d.model, class: d.class }, write);
    const apply = ({ pin, outcome }: { pin: SessionPin; outcome: SessionOutcome }) =>
      session.continues ? { ...d, model: pin.model, class: pin.class, session: outcome } : d;
    return routed instanceof Promise ? routed.then(apply) : apply(routed);
  }

  /**
   * The model this turn is served by. Synchronous unless the session is looked up on the shared store. `write`:
   * remember the outcome (false for POST /v1/route, which only tells).
   */
  route(
    policy: string,
    session: { key: string; continues: boolean },
    decided: SessionPin,
    write = true,
  ): { pin: SessionPin; outcome: SessionOutcome } | Promise<{ pin: SessionPin; outcome: SessionOutcome }> {
    const key = `${policy}\u0000${session.key}`;
    const shared = this.sharedStore();
    const local = session.continues ? this.local.get(key) : undefined;
    const finish = (pinned: SessionPin | undefined) => {
      const result = applySession(this.config.mode, decided, pinned, this.price);
      if (write) {
        this.local.set(key, result.pin);
        shared?.setSession(key, encodePin(result.pin), this.ttlMs);
      }
      return result;
    };
    if (!session.continues || !shared?.connected) return finish(local);
    // Another replica may have served the last turn: the shared store has the latest pin.
    return shared.getSession(key).then((text) => finish(decodePin(text) ?? local));
  }
}
