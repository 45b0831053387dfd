/**
 * Requests and tokens in the last 60 seconds, in one-second buckets: constant memory at any request
 * rate (a per-request log would grow with traffic), accurate to a second, which is what rpm/tpm need.
 */
export class MinuteWindow {
  private readonly requests = new Float64Array(60);
  private readonly tokens = new Float64Array(60);
  private readonly stamp = new Float64Array(60).fill(-1);

  private slot(nowMs: number): number {
    const second = Math.floor(nowMs / 1000);
    const i = second % 60;
    if (this.stamp[i] !== second) {
      this.stamp[i] = second;
      this.requests[i] = 0;
      this.tokens[i] = 0;
    }
    return i;
  }

  add(requests: number, tokens: number, nowMs = Date.now()): void {
    const i = this.slot(nowMs);
    this.requests[i]! += requests;
    this.tokens[i]! += tokens;
  }

  usage(nowMs = Date.now()): { requests: number; tokens: number } {
    const second = Math.floor(nowMs / 1000);
    let requests = 0;
    let tokens = 0;
    for (let i = 0; i < 60; i++) {
      if (this.stamp[i]! > second - 60) {
        requests += this.requests[i]!;
        tokens += this.tokens[i]!;
      }
    }
    return { requests, tokens };
  }

  /** The seconds of the window that hold something, as [second, requests, tokens]. */
  buckets(nowMs = Date.now()): Array<[number, number, number]> {
    const second = Math.floor(nowMs / 1000);
    const out: Array<[number, number, number]> = [];
    for (let i = 0; i < 60; i++)
      if (this.stamp[i]! > second - 60 && (this.requests[i]! > 0 || this.tokens[i]! > 0))
        out.push([this.stamp[i]!, this.requests[i]!, this.tokens[i]!]);
    return out.sort((a, b) => a[0] - b[0]);
  }

  /** Forget everything counted. */
  clear(): void {
    this.stamp.fill(-1);
  }

  /** Milliseconds until the oldest counted second leaves the window. */
  msUntilOldestExpires(nowMs = Date.now()): number {
    const second = Math.floor(nowMs / 1000);
    let oldest = second;
    for (let i = 0; i < 60; i++)
      if (this.stamp[i]! > second - 60 && this.requests[i]! > 0) oldest = Math.min(oldest, this.stamp[i]!);
    return Math.max(0, (oldest + 60) * 1000 - nowMs);
  }
}
