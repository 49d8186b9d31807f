/**
 * Per-source pipeline figures: frames in, analysed, dropped, analysed fps over the last few seconds,
 * and frame-to-result latency quantiles over the last 1024 frames.
 */
export interface SourceStats {
  source: string;
  framesIn: number;
  framesAnalysed: number;
  framesDropped: number;
  faces: number;
  /** Analysed frames per second over the last `fpsWindowMs`. */
  fps: number;
  latencyMs: { p50: number; p95: number; max: number };
  ended: boolean;
}

export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return 0;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i] as number;
}

export class SourceCounter {
  framesIn = 0;
  framesAnalysed = 0;
  framesDropped = 0;
  faces = 0;
  ended = false;
  private readonly latencies: number[] = [];
  private readonly times: number[] = [];

  constructor(
    readonly source: string,
    private readonly fpsWindowMs = 2000,
    private readonly keep = 1024,
  ) {}

  analysed(at: number, latencyMs: number, faces: number): void {
    this.framesAnalysed++;
    this.faces += faces;
    this.latencies.push(latencyMs);
    if (this.latencies.length > this.keep) this.latencies.shift();
    this.times.push(at);
    while (this.times.length > 0 && at - (this.times[0] as number) > this.fpsWindowMs)
      this.times.shift();
  }

  snapshot(now: number): SourceStats {
    while (this.times.length > 0 && now - (this.times[0] as number) > this.fpsWindowMs)
      this.times.shift();
    const sorted = [...this.latencies].sort((a, b) => a - b);
    const span =
      this.times.length > 1 ? (this.times.at(-1) as number) - (this.times[0] as number) : 0;
    return {
      source: this.source,
      framesIn: this.framesIn,
      framesAnalysed: this.framesAnalysed,
      framesDropped: this.framesDropped,
      faces: this.faces,
      fps: span > 0 ? ((this.times.length - 1) * 1000) / span : 0,
      latencyMs: {
        p50: quantile(sorted, 0.5),
        p95: quantile(sorted, 0.95),
        max: sorted.at(-1) ?? 0,
      },
      ended: this.ended,
    };
  }
}
