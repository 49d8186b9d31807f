/**
 * Offline (centred) smoothing over a stream of frame records, with bounded memory: a frame is
 * final once a frame r indices later has arrived (r: the window's radius), so only the last 2r+1
 * frames are held however long the video. It gives the numbers `smoothOffline` gives over the
 * whole video: the same window, cut at track ends and gaps, summed in the same order.
 */
import { argmax } from '../stream/smooth.ts';
import { kernel, type CentredSmoothing } from '../stream/smooth-offline.ts';
import type { FaceRecord, FrameRecord } from './records.ts';

export class CentredSmoothingStream {
  private readonly k: number[];
  private readonly r: number;
  /** Frames received, oldest first, back to (oldest pending frame − r). */
  private readonly held: FrameRecord[] = [];
  /** How many of `held` (from the end) are not yet emitted. */
  private pending = 0;

  constructor(
    o: CentredSmoothing,
    private readonly classes: readonly string[],
  ) {
    this.k = kernel(o);
    this.r = (this.k.length - 1) / 2;
  }

  /** Takes the next frame (increasing index); returns the frames that are now final, in order. */
  push(frame: FrameRecord): FrameRecord[] {
    this.held.push(frame);
    this.pending++;
    const out: FrameRecord[] = [];
    // Frame t is final when every frame up to t + r has arrived.
    while (this.pending > 0 && this.oldestPending().index <= frame.index - this.r)
      out.push(this.emitOldest());
    return out;
  }

  /** The end of the video: every frame still held, final. */
  flush(): FrameRecord[] {
    const out: FrameRecord[] = [];
    while (this.pending > 0) out.push(this.emitOldest());
    return out;
  }

  private oldestPending(): FrameRecord {
    return this.held[this.held.length - this.pending] as FrameRecord;
  }

  private emitOldest(): FrameRecord {
    const at = this.held.length - this.pending;
    const f = this.held[at] as FrameRecord;
    this.pending--;
    const done: FrameRecord = { ...f, faces: f.faces.map((face) => this.smooth(f.index, face)) };
    // Frames older than the next pending frame's window are no longer needed.
    const next = this.pending > 0 ? this.oldestPending().index : Infinity;
    while (this.held.length > 0 && (this.held[0] as FrameRecord).index < next - this.r)
      this.held.shift();
    return done;
  }

  private smooth(t: number, face: FaceRecord): FaceRecord {
    const out = new Array<number>(face.probs.length).fill(0);
    let wsum = 0;
    for (const q of this.held) {
      if (q.index < t - this.r) continue;
      if (q.index > t + this.r) break;
      const same = q.faces.find((g) => g.id === face.id);
      if (!same) continue;
      const w = this.k[q.index - t + this.r] as number;
      wsum += w;
      for (let c = 0; c < out.length; c++)
        out[c] = (out[c] as number) + w * (same.probs[c] as number);
    }
    const smoothed = out.map((v) => v / wsum);
    return { ...face, smoothed, smoothedLabel: this.classes[argmax(smoothed)] as string };
  }
}
