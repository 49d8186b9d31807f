/**
 * The realtime pipeline: decoded or pushed frames from any number of sources, analysed by one
 * shared chain of stages and emitted as events, in order per source.
 *
 *   sources (frameSource: 'pull' or latest-wins) ─┐
 *                                                 ├→ detectFaces → trackFaces → cropFaces
 *   pushed frames (channel, latest-wins) ─────────┘   → batchFrames → classifyBatches → smoothFaces
 *
 * Backpressure: each source has `credits` frames in flight at most (frameSource); a frame's credit
 * is returned when its result leaves the chain. A live source (camera, realtime file, client
 * pushes) that outpaces the chain drops its oldest waiting frame — latest wins — and counts it.
 */
import { Subject, type Observable, type Subscription } from 'rxjs';
import { frameSource, type SourcePolicy } from '../src/stream/frame-source.ts';
import {
  batchFrames,
  classifyBatches,
  cropFaces,
  detectFaces,
  trackFaces,
  type BatchOptions,
  type CropClassifier,
  type FrameDetector,
} from '../src/stream/operators.ts';
import { smoothFaces, DEFAULT_SMOOTHING, type CausalSmoothing } from '../src/stream/smooth.ts';
import { SourceCounter, type SourceStats } from '../src/stream/stats.ts';
import { channel, type Channel } from '../src/stream/channel.ts';
import type { AnalysedFrame, FrameJob } from '../src/stream/types.ts';
import type { TrackerOptions } from '../src/faces/tracker.ts';
import type { Frame } from '../src/video/decode.ts';

export type PipelineEvent =
  | { type: 'frame'; result: AnalysedFrame }
  | {
      type: 'end';
      source: string;
      frames: number;
      dropped: number;
      reason: 'eof' | 'error' | 'closed';
    }
  | { type: 'error'; source: string; message: string };

export interface LivePipelineOptions {
  classifier: CropClassifier & { readonly classes: readonly string[] };
  detector: FrameDetector;
  smoothing?: CausalSmoothing;
  batch?: BatchOptions;
  tracker?: TrackerOptions;
  /** Frames in flight per source (default 2: one analysed while the next is detected). */
  credits?: number;
  now?: () => number;
}

export interface AddSourceOptions {
  /** 'pull' for files analysed as fast as possible, 'drop-oldest' for live ones (default). */
  policy?: SourcePolicy;
}

interface SourceEntry {
  counter: SourceCounter;
  ack: () => void;
  dropped: () => number;
  sub?: Subscription;
  inputDone: boolean;
  reason: 'eof' | 'error' | 'closed';
}

export class LivePipeline {
  private readonly input = new Subject<FrameJob>();
  private readonly out = new Subject<PipelineEvent>();
  private readonly sources = new Map<string, SourceEntry>();
  private readonly chain: Subscription;
  private readonly now: () => number;
  private readonly credits: number;
  /** Every event: frame results in order per source, `end` after a source's last result. */
  readonly events$: Observable<PipelineEvent> = this.out.asObservable();

  constructor(readonly options: LivePipelineOptions) {
    this.now = options.now ?? Date.now;
    this.credits = options.credits ?? 2;
    const { classifier } = options;
    this.chain = this.input
      .pipe(
        detectFaces(options.detector),
        trackFaces(options.tracker),
        cropFaces(classifier.cropInputs),
        batchFrames(options.batch),
        classifyBatches(classifier, this.now),
        smoothFaces(classifier.classes, options.smoothing ?? DEFAULT_SMOOTHING),
      )
      .subscribe({
        next: (result) => this.done(result),
        error: (err: Error) => {
          // A stage failed (e.g. the detection worker died): every source ends with that error.
          for (const [id, s] of this.sources) {
            s.sub?.unsubscribe();
            this.out.next({ type: 'error', source: id, message: err.message });
            this.finish(id, 'error');
          }
          this.out.error(err);
        },
      });
  }

  get classes(): readonly string[] {
    return this.options.classifier.classes;
  }

  /** Adds a source of decoded frames (decodeFrames). Its id is `frames[i].sourceId`. */
  addSource(id: string, frames: AsyncIterable<Frame>, options: AddSourceOptions = {}): void {
    if (this.sources.has(id)) throw new Error(`a source named '${id}' is already running`);
    const now = this.now;
    // Stamp each frame when it is read from the decoder: latency counts time spent waiting too.
    async function* stamped() {
      for await (const frame of frames) yield { frame, at: now() };
    }
    const fs = frameSource(stamped(), {
      policy: options.policy ?? 'drop-oldest',
      credits: this.credits,
    });
    const entry: SourceEntry = {
      counter: new SourceCounter(id),
      ack: fs.ack,
      dropped: fs.dropped,
      inputDone: false,
      reason: 'eof',
    };
    this.sources.set(id, entry);
    entry.sub = fs.frames$.subscribe({
      next: ({ frame, at }) => {
        entry.counter.framesIn++;
        entry.counter.framesDropped = fs.dropped();
        this.input.next({ frame, receivedAt: at, dropped: fs.dropped() });
      },
      error: (err: Error) => {
        this.out.next({ type: 'error', source: id, message: err.message });
        entry.reason = 'error';
        this.inputEnded(id);
      },
      complete: () => this.inputEnded(id),
    });
  }

  /**
   * Adds a source whose frames are pushed (a WebSocket client's camera). Latest wins: a frame
   * pushed while the previous one still waits replaces it.
   */
  addPushSource(id: string): Channel<Frame> {
    const ch = channel<Frame>(1);
    this.addSource(id, ch, { policy: 'drop-oldest' });
    const entry = this.sources.get(id) as SourceEntry;
    const dropped = entry.dropped;
    entry.dropped = () => dropped() + ch.dropped();
    return ch;
  }

  /** Stops reading a source; frames already in the chain still come out, then `end` (closed). */
  closeSource(id: string): void {
    const entry = this.sources.get(id);
    if (!entry || entry.inputDone) return;
    entry.reason = 'closed';
    entry.sub?.unsubscribe();
    this.inputEnded(id);
  }

  stats(): SourceStats[] {
    const now = this.now();
    return [...this.sources.values()].map((s) => {
      s.counter.framesDropped = s.dropped();
      return s.counter.snapshot(now);
    });
  }

  get sourceIds(): string[] {
    return [...this.sources.keys()];
  }

  async stop(): Promise<void> {
    for (const id of this.sources.keys()) this.closeSource(id);
    this.chain.unsubscribe();
    this.out.complete();
  }

  private done(result: AnalysedFrame): void {
    const entry = this.sources.get(result.frame.sourceId);
    if (entry) {
      entry.counter.analysed(
        result.analysedAt,
        result.analysedAt - result.receivedAt,
        result.faces.length,
      );
      entry.ack();
    }
    this.out.next({ type: 'frame', result });
    if (entry?.inputDone && entry.counter.framesAnalysed >= entry.counter.framesIn)
      this.finish(result.frame.sourceId, entry.reason);
  }

  private inputEnded(id: string): void {
    const entry = this.sources.get(id);
    if (!entry) return;
    entry.inputDone = true;
    if (entry.counter.framesAnalysed >= entry.counter.framesIn) this.finish(id, entry.reason);
  }

  private finish(id: string, reason: SourceEntry['reason']): void {
    const entry = this.sources.get(id);
    if (!entry || entry.counter.ended) return;
    entry.counter.ended = true;
    entry.counter.framesDropped = entry.dropped();
    this.out.next({
      type: 'end',
      source: id,
      frames: entry.counter.framesAnalysed,
      dropped: entry.counter.framesDropped,
      reason,
    });
  }

  /** Forgets an ended source (its stats too), so its id can be used again. */
  forget(id: string): void {
    const entry = this.sources.get(id);
    if (entry?.counter.ended) this.sources.delete(id);
  }
}
