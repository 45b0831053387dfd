// Shadow evaluation: is the cheaper answer as good as the reference model's? For a sample of a policy's answers from
// a model cheaper than its reference, after the client has its answer, the reference model gets the same request
// and a judge model compares the two answers in both orders (position bias cancels): better, same or worse. The
// client's request is never delayed, changed or failed by it: jobs wait in a bounded queue (drops counted), run at
// most `concurrency` at a time per policy, and stop at max_per_minute evaluations and max_usd_per_hour spend.
import { contentText, type ChatMessageLike } from '../classify/prompt-text.ts';
import type { RouterConfig } from '../config/schema.ts';
import type { RouterEvents } from '../events/router-events.ts';
import { AbortEmitter } from '../upstream/abort-emitter.ts';
import type { ModelReply } from './call-model.ts';
import { combine, judgeMessages, readJudgement } from './judge.ts';

type ShadowConfig = NonNullable<RouterConfig['policies'][number]['shadow']>;

export interface ShadowJob {
  policy: string;
  class: string;
  /** The model that answered the client. */
  model: string;
  /** The chat request as the client sent it. */
  body: Record<string, unknown>;
  /** The client's answer (assembled from the stream when it was streamed). */
  answer: string;
}

export type CallModel = (model: string, body: Record<string, unknown>, cancel: AbortEmitter) => Promise<ModelReply>;

const HOUR_MS = 3_600_000;
const MINUTE_MS = 60_000;

/** One policy's shadow: its queue, its caps, its workers. */
class PolicyShadow {
  private readonly queue: ShadowJob[] = [];
  private workers = 0;
  /** Start times of evaluations in the last minute, and spend in the last hour. */
  private readonly starts: number[] = [];
  private readonly spend: Array<{ at: number; usd: number }> = [];

  constructor(
    readonly name: string,
    readonly config: ShadowConfig,
    private readonly env: ShadowEnv,
  ) {}

  offer(job: ShadowJob): void {
    if (this.queue.length >= this.config.queue) {
      this.env.events.shadowDropped(this.name, 'queue_full');
      return;
    }
    this.queue.push(job);
    if (this.workers < this.config.concurrency) {
      this.workers++;
      // After the current turn of the event loop: the client's request finishes first.
      setImmediate(() => void this.drain());
    }
  }

  spentLastHour(now = this.env.now()): number {
    while (this.spend.length && this.spend[0]!.at <= now - HOUR_MS) this.spend.shift();
    return this.spend.reduce((s, x) => s + x.usd, 0);
  }

  private async drain(): Promise<void> {
    try {
      for (let job = this.queue.shift(); job && !this.env.cancel.aborted; job = this.queue.shift()) {
        const now = this.env.now();
        while (this.starts.length && this.starts[0]! <= now - MINUTE_MS) this.starts.shift();
        if (this.starts.length >= this.config.max_per_minute) {
          this.env.events.shadowDropped(this.name, 'rate_limit');
          continue;
        }
        if (this.spentLastHour(now) >= this.config.max_usd_per_hour) {
          this.env.events.shadowDropped(this.name, 'budget');
          continue;
        }
        this.starts.push(now);
        await this.evaluate(job).catch((err: unknown) => {
          this.env.events.shadowDropped(this.name, 'failed');
          this.env.events.shadowFailed(this.name, err);
        });
      }
    } finally {
      this.workers--;
    }
  }

  private async evaluate(job: ShadowJob): Promise<void> {
    const pay = (usd: number) => {
      this.spend.push({ at: this.env.now(), usd });
      this.env.events.shadowSpent(this.name, usd);
    };
    const reference = await this.env.call(this.config.reference_model, job.body, this.env.cancel);
    pay(reference.costUsd);
    const request = lastUserText(job.body);
    const ask = async (a: string, b: string) => {
      const reply = await this.env.call(
        this.config.judge_model,
        { messages: judgeMessages(request, a, b), temperature: 0, max_tokens: 5 },
        this.env.cancel,
      );
      pay(reply.costUsd);
      const judgement = readJudgement(reply.text);
      if (!judgement) throw new Error(`the judge answered neither A, B nor SAME: ${reply.text.slice(0, 80)}`);
      return judgement;
    };
    const verdict = combine(await ask(reference.text, job.answer), await ask(job.answer, reference.text));
    this.env.events.shadowJudged(this.name, job.class, job.model, verdict);
  }
}

function lastUserText(body: Record<string, unknown>): string {
  const messages = (Array.isArray(body.messages) ? body.messages : []) as ChatMessageLike[];
  for (let i = messages.length - 1; i >= 0; i--)
    if (messages[i]!.role === 'user') return contentText(messages[i]!.content);
  return '';
}

/** What shadow evaluation reports: verdicts, spend, drops and failures (router events). */
export type ShadowEvents = Pick<RouterEvents, 'shadowJudged' | 'shadowSpent' | 'shadowDropped' | 'shadowFailed'>;

interface ShadowEnv {
  events: ShadowEvents;
  call: CallModel;
  cancel: AbortEmitter;
  now: () => number;
}

export class ShadowEvaluator {
  private readonly policies = new Map<string, PolicyShadow>();
  private readonly cancel = new AbortEmitter();

  constructor(
    config: RouterConfig,
    events: ShadowEvents,
    call: CallModel,
    /** A model's blended price: only answers from a model cheaper than the reference are evaluated. */
    private readonly priceOf: (model: string) => number,
    private readonly random: () => number = Math.random,
    now: () => number = Date.now,
  ) {
    const env: ShadowEnv = { events, call, cancel: this.cancel, now };
    for (const p of config.policies) if (p.shadow) this.policies.set(p.name, new PolicyShadow(p.name, p.shadow, env));
  }

  /** Whether this answer is sampled (decided before it is written, so a stream's text can be kept for it). */
  sample(policy: string, model: string): boolean {
    const p = this.policies.get(policy);
    if (!p || p.config.sample_rate === 0) return false;
    if (this.priceOf(model) >= this.priceOf(p.config.reference_model)) return false;
    return this.random() < p.config.sample_rate;
  }

  offer(job: ShadowJob): void {
    this.policies.get(job.policy)?.offer(job);
  }

  /** Stops evaluating: queued jobs are dropped, calls in flight abandoned (at shutdown). */
  close(): void {
    this.cancel.abort();
  }
}
