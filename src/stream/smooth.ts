/**
 * Causal per-track smoothing of class probabilities, for live use: an exponential moving average
 * with a half-life in milliseconds (robust to uneven frame spacing and dropped frames), or the mean
 * over a sliding time window. Raw per-frame probabilities are kept next to the smoothed ones.
 */
import { defer, map, type OperatorFunction } from 'rxjs';
import type { AnalysedFrame } from './types.ts';
import type { CausalSmoothing } from './smoothing-spec.ts';

export { parseCausalSmoothing, type CausalSmoothing } from './smoothing-spec.ts';

export const DEFAULT_SMOOTHING: CausalSmoothing = { method: 'ema', halfLifeMs: 300 };

interface TrackState {
  lastMs: number;
  ema?: number[];
  window?: { ms: number; probs: readonly number[] }[];
}

export class TrackSmoother {
  private readonly tracks = new Map<string, TrackState>();

  constructor(
    readonly options: CausalSmoothing = DEFAULT_SMOOTHING,
    /** Forget a track's state after this long unseen (default 5 s), so memory stays bounded. */
    private readonly forgetMs = 5000,
  ) {
    if (options.method === 'ema' && !(options.halfLifeMs > 0))
      throw new RangeError(`halfLifeMs must be > 0, got ${options.halfLifeMs}`);
    if (options.method === 'window' && !(options.windowMs > 0))
      throw new RangeError(`windowMs must be > 0, got ${options.windowMs}`);
  }

  /** Smoothed probabilities for track `key` at time `ms` (times of one track must not decrease). */
  update(key: string, ms: number, probs: readonly number[]): number[] {
    let state = this.tracks.get(key);
    if (!state || ms - state.lastMs > this.forgetMs || ms < state.lastMs) {
      state = { lastMs: ms };
      this.tracks.set(key, state);
    }
    const dt = ms - state.lastMs;
    state.lastMs = ms;
    const o = this.options;
    if (o.method === 'none') return [...probs];
    if (o.method === 'ema') {
      if (!state.ema) return (state.ema = [...probs]).slice();
      // Weight of the new value after dt ms: the old estimate halves every halfLifeMs.
      const a = 1 - Math.pow(0.5, dt / o.halfLifeMs);
      const ema = state.ema;
      for (let i = 0; i < ema.length; i++)
        ema[i] = (ema[i] as number) + a * ((probs[i] as number) - (ema[i] as number));
      return ema.slice();
    }
    const win = (state.window ??= []);
    win.push({ ms, probs });
    while (win.length > 1 && ms - (win[0] as { ms: number }).ms >= o.windowMs) win.shift();
    const out = new Array<number>(probs.length).fill(0);
    for (const w of win)
      for (let i = 0; i < out.length; i++)
        out[i] = (out[i] as number) + (w.probs[i] as number) / win.length;
    return out;
  }

  /** Drops the state of tracks unseen since before `ms - forgetMs`. */
  prune(ms: number): void {
    for (const [key, s] of this.tracks) if (ms - s.lastMs > this.forgetMs) this.tracks.delete(key);
  }

  get size(): number {
    return this.tracks.size;
  }
}

export function argmax(values: readonly number[]): number {
  let best = 0;
  for (let i = 1; i < values.length; i++)
    if ((values[i] as number) > (values[best] as number)) best = i;
  return best;
}

/** Fills `smoothed` / `smoothedLabel` of every face, per (source, track id); state per subscription. */
export function smoothFaces<T extends AnalysedFrame>(
  classes: readonly string[],
  options: CausalSmoothing = DEFAULT_SMOOTHING,
): OperatorFunction<T, T> {
  return (source) =>
    defer(() => {
      const smoother = new TrackSmoother(options);
      let seen = 0;
      return source.pipe(
        map((job) => {
          const ms = job.frame.pts * 1000;
          const faces = job.faces.map((f) => {
            const smoothed = smoother.update(`${job.frame.sourceId}\u0000${f.id}`, ms, f.probs);
            return { ...f, smoothed, smoothedLabel: classes[argmax(smoothed)] as string };
          });
          if (++seen % 256 === 0) smoother.prune(ms);
          return { ...job, faces };
        }),
      );
    });
}
