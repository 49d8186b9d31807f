/**
 * Which face tracks a per-video picture keeps, in bounded memory however long the video: at most
 * 2 × `keep` tracks are held; beyond that, the shortest tracks not seen for `idleSeconds` are
 * forgotten (a looped or crowded video makes new tracks for ever). At the end the `keep` longest
 * are drawn. Tracks still on screen are never forgotten.
 */
export class TrackKeeper {
  private readonly info = new Map<number, { seen: number; last: number }>();
  /** Every track id met, forgotten ones included. */
  total = 0;

  constructor(
    readonly keep = 12,
    readonly idleSeconds = 10,
  ) {}

  /** Counts one frame of track `id` at time `pts`; returns the ids forgotten now. */
  see(id: number, pts: number): number[] {
    let t = this.info.get(id);
    if (!t) {
      this.info.set(id, (t = { seen: 0, last: pts }));
      this.total++;
    }
    t.seen++;
    t.last = pts;
    if (this.info.size <= 2 * this.keep) return [];
    const idle = [...this.info]
      .filter(([, v]) => v.last < pts - this.idleSeconds)
      .sort(([, a], [, b]) => a.seen - b.seen);
    const forgotten: number[] = [];
    for (const [victim] of idle) {
      if (this.info.size <= 2 * this.keep) break;
      this.info.delete(victim);
      forgotten.push(victim);
    }
    return forgotten;
  }

  /** The `keep` longest tracks held, in id order. */
  longest(): number[] {
    return [...this.info]
      .sort(([, a], [, b]) => b.seen - a.seen)
      .slice(0, this.keep)
      .map(([id]) => id)
      .sort((a, b) => a - b);
  }
}
