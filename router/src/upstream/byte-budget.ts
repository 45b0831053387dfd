// Bytes held at once across all requests, against one limit: request bodies as they arrive (server-limits.ts) and
// upstream answers read whole (read-answer.ts). A holder reserves as bytes arrive and releases when done.
export class ByteBudget {
  private used = 0;
  constructor(readonly limit: number) {}

  /** Reserve `n` bytes; false (and nothing reserved) when that would pass the limit. */
  reserve(n: number): boolean {
    if (this.used + n > this.limit) return false;
    this.used += n;
    return true;
  }

  release(n: number): void {
    this.used = Math.max(0, this.used - n);
  }

  get inUse(): number {
    return this.used;
  }
}
