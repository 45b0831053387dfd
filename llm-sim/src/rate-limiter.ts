/**
 * Sliding 60-second window of requests and tokens for one model. Entries are kept in arrival order,
 * so expiring them is a cheap shift from the front.
 */
export class MinuteWindow {
  private times: number[] = [];
  private tokens: number[] = [];
  private tokenSum = 0;

  constructor(
    private readonly rpm: number,
    private readonly tpm: number,
  ) {}

  private expire(now: number): void {
    while (this.times.length > 0 && this.times[0]! <= now - 60_000) {
      this.times.shift();
      this.tokenSum -= this.tokens.shift()!;
    }
  }

  /** Admit the request, or return how many seconds until it would fit. */
  tryAdmit(
    tokens: number,
    now = Date.now(),
  ): { ok: true } | { ok: false; retryAfterSeconds: number; limit: 'rpm' | 'tpm' } {
    this.expire(now);
    const overRpm = this.rpm > 0 && this.times.length >= this.rpm;
    const overTpm = this.tpm > 0 && this.tokenSum + tokens > this.tpm && this.times.length > 0;
    if (overRpm || overTpm) {
      const retryAfterMs = this.times[0]! + 60_000 - now;
      return {
        ok: false,
        retryAfterSeconds: Math.max(1, Math.ceil(retryAfterMs / 1000)),
        limit: overRpm ? 'rpm' : 'tpm',
      };
    }
    this.times.push(now);
    this.tokens.push(tokens);
    this.tokenSum += tokens;
    return { ok: true };
  }
}
