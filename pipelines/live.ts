/**
 * The realtime pipeline: any number of sources, each analysed on its own (analyseSource: detect →
 * track → crop → classify → smooth, state per source) over shared services — one detector and one
 * BatchingClassifier that merges every source's faces into batches — and emitted as events, in
 * order per source.
 *
 *   source A (frameSource: 'pull' or latest-wins) → analyseSource ─┐
 *   source B …                                   → analyseSource ─┼→ events$
 *   pushed frames (channel, latest-wins)         → analyseSource ─┘
 *
 * Backpressure: each source has `credits` frames in flight at most (frameSource); a frame's credit
 * is returned when its result leaves. A live source (camera, realtime file, client pushes) that
 * outpaces the analysis drops its oldest waiting frame — latest wins — and counts it.
 * Fault isolation: an error in one source (decoder, detector, tracker) ends that source with an
 * `error` and an `end` event; the other sources and events$ carry on.
 */
import { Subject, map, takeUntil, type Observable, type Subscription } from 'rxjs';
import { frameSource, type SourcePolicy } from '../src/stream/frame-source.ts';
import { analyseSource } from '../src/stream/analyse-source.ts';
import {
  BatchingClassifier,
  type BatchOptions,
  type CropClassifier,
  type FrameDetector,
} from '../src/stream/operators.ts';
import { DEFAULT_SMOOTHING, type CausalSmoothing } from '../src/stream/smooth.ts';
import { SourceCounter, type SourceStats } from '../src/stream/stats.ts';
import { channel, type Channel } from '../src/stream/channel.ts';
import type { AnalysedFrame } from '../src/stream/types.ts';
import type { TrackerOptions } from '../src/faces/tracker.ts';
import type { Frame } from '../src/video/decode.ts';
import type { AnalysisEvent } from '../src/server/analysis-service.ts';

export type PipelineEvent = AnalysisEvent;

export interface LivePipelineOptions {
  /** A model (wrapped in a BatchingClassifier with `batch`), or a BatchingClassifier to share. */
  classifier: CropClassifier;
  detector: FrameDetector;
  smoothing?: CausalSmoothing;
  batch?: BatchOptions;
  tracker?: TrackerOptions;
  /** Detect on every k-th frame of each source, carry faces in between (default 1). */
  detectEvery?: number;
  /**
   * Frames in flight per source (default 2 × detectEvery: one detected while the one before it,
   * and the frames carried after it, are analysed).
   */
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
  close: Subject<void>;
  sub?: Subscription;
  reason: 'eof' | 'error' | 'closed';
}

export class LivePipeline {
  private readonly out = new Subject<PipelineEvent>();
  private readonly sources = new Map<string, SourceEntry>();
  private readonly now: () => number;
  private readonly credits: number;
  /** The classifier every source shares. */
  readonly classifier: BatchingClassifier;
  /** Every event: frame results in order per source, `end` after a source's last result. */
  readonly events$: Observable<PipelineEvent> = this.out.asObservable();

  constructor(readonly options: LivePipelineOptions) {
    this.now = options.now ?? Date.now;
    this.credits = options.credits ?? 2 * (options.detectEvery ?? 1);
    this.classifier =
      options.classifier instanceof BatchingClassifier
        ? options.classifier
        : new BatchingClassifier(options.classifier, options.batch);
  }

  get classes(): readonly string[] {
    return this.classifier.classes;
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
      close: new Subject<void>(),
      reason: 'eof',
    };
    this.sources.set(id, entry);
    entry.sub = fs.frames$
      .pipe(
        // Closing stops the input; frames already being analysed still come out.
        takeUntil(entry.close),
        map(({ frame, at }) => {
          entry.counter.framesIn++;
          entry.counter.framesDropped = fs.dropped();
          return { frame, receivedAt: at, dropped: fs.dropped() };
        }),
        analyseSource({
          detector: this.options.detector,
          classifier: this.classifier,
          smoothing: this.options.smoothing ?? DEFAULT_SMOOTHING,
          ...(this.options.tracker && { tracker: this.options.tracker }),
          ...(this.options.detectEvery && { detectEvery: this.options.detectEvery }),
          now,
        }),
      )
      .subscribe({
        next: (result) => this.done(entry, result),
        error: (err: Error) => {
          this.out.next({ type: 'error', source: id, message: err.message });
          entry.reason = 'error';
          this.finish(id);
        },
        complete: () => this.finish(id),
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

  /** Stops reading a source; frames already in analysis still come out, then `end` (closed). */
  closeSource(id: string): void {
    const entry = this.sources.get(id);
    if (!entry || entry.counter.ended || entry.close.closed) return;
    entry.reason = 'closed';
    entry.close.next();
    entry.close.complete();
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
    for (const [id, entry] of this.sources) {
      if (!entry.counter.ended) entry.reason = 'closed';
      entry.sub?.unsubscribe();
      this.finish(id);
    }
    this.out.complete();
  }

  private done(entry: SourceEntry, result: AnalysedFrame): void {
    entry.counter.analysed(
      result.analysedAt,
      result.analysedAt - result.receivedAt,
      result.faces.length,
    );
    entry.ack();
    this.out.next({ type: 'frame', result });
  }

  private finish(id: string): void {
    const entry = this.sources.get(id);
    if (!entry || entry.counter.ended) return;
    entry.counter.ended = true;
    entry.counter.framesDropped = entry.dropped();
    this.out.next({
      type: 'end',
      source: id,
      frames: entry.counter.framesAnalysed,
      dropped: entry.counter.framesDropped,
      reason: entry.reason,
    });
  }

  /** Forgets an ended source (its stats too), so its id can be used again. */
  forget(id: string): void {
    const entry = this.sources.get(id);
    if (entry?.counter.ended) this.sources.delete(id);
  }
}
