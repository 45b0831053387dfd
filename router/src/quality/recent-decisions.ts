// What the router decided for recent answers (request id -> policy, class, model, cost), so feedback that arrives
// later lands on the right series. Bounded in time (ttl) and count (least recent first) in each process; with shared
// state also in Redis, so any replica accepts feedback on any replica's answer, and a second score for the same
// answer is refused once across the fleet.

export interface RoutedAnswer {
  policy: string;
  class: string;
  model: string;
  cost_usd: number;
}

/** The shared store's side (state/redis-state.ts): undefined answers mean "unreachable now, decide locally". */
export interface DecisionStore {
  putDecision(id: string, json: string, ttlMs: number): void;
  getDecision(id: string): Promise<string | undefined>;
  /** true: this call is the first to claim the id's feedback; false: already claimed; undefined: store down. */
  claimFeedback(id: string, ttlMs: number): Promise<boolean | undefined>;
}

export type FeedbackClaim = { kind: 'ok'; answer: RoutedAnswer } | { kind: 'unknown' } | { kind: 'already' };

interface Entry {
  answer: RoutedAnswer;
  expires: number;
  scored: boolean;
}

export class RecentDecisions {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly ttlMs: number,
    private readonly max: number,
    private readonly store: () => DecisionStore | undefined = () => undefined,
    private readonly now: () => number = Date.now,
  ) {}

  remember(id: string, answer: RoutedAnswer): void {
    this.entries.delete(id); // re-inserted last: the map's order is least recent first
    this.entries.set(id, { answer, expires: this.now() + this.ttlMs, scored: false });
    if (this.entries.size > this.max) this.entries.delete(this.entries.keys().next().value!);
    this.store()?.putDecision(id, JSON.stringify(answer), this.ttlMs);
  }

  /** Claims the one feedback an answer may get. */
  async claim(id: string): Promise<FeedbackClaim> {
    let entry = this.entries.get(id);
    if (entry && entry.expires <= this.now()) {
      this.entries.delete(id);
      entry = undefined;
    }
    if (entry?.scored) return { kind: 'already' };
    const store = this.store();
    let answer = entry?.answer;
    if (!answer && store) {
      const json = await store.getDecision(id);
      if (json) answer = JSON.parse(json) as RoutedAnswer;
    }
    if (!answer) return { kind: 'unknown' };
    const first = store ? await store.claimFeedback(id, this.ttlMs) : undefined;
    if (first === false) {
      if (entry) entry.scored = true;
      return { kind: 'already' };
    }
    if (entry) entry.scored = true;
    else this.entries.set(id, { answer, expires: this.now() + this.ttlMs, scored: true });
    return { kind: 'ok', answer };
  }

  get size(): number {
    return this.entries.size;
  }
}
