/** A token bucket: `perSecond` messages on average, bursts of up to `burst`. */
export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    readonly perSecond: number,
    readonly burst: number,
    private readonly now: () => number = Date.now,
  ) {
    if (!(perSecond > 0) || !(burst >= 1))
      throw new RangeError(
        `rate limit needs perSecond > 0 and burst ≥ 1, got ${perSecond}/${burst}`,
      );
    this.tokens = burst;
    this.last = now();
  }

  /** Takes one token; false when the bucket is empty (the message should be refused). */
  take(): boolean {
    const t = this.now();
    this.tokens = Math.min(this.burst, this.tokens + ((t - this.last) / 1000) * this.perSecond);
    this.last = t;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}
