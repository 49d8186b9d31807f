/**
 * One classifier shared by every source: concurrent `classify()` calls (one per frame, from any
 * number of sources) are merged into batches — up to `maxFaces` faces, or whatever has waited
 * `maxWaitMs` — and run one inference at a time. Each caller gets back its own faces' predictions;
 * a failed inference rejects only the calls that were in that batch.
 */
import { asyncScheduler, type SchedulerLike } from 'rxjs';
import type { CropBatch, CropPrediction } from '../models/crop-types.ts';
import type { CropMode } from '../models/preprocess.ts';

/** Anything that classifies crop batches (an ExpressionAnalyzer, or a BatchingClassifier over one). */
export interface CropClassifier {
  classify(crops: Partial<Record<CropMode, CropBatch>>): Promise<CropPrediction[]>;
  readonly cropInputs: readonly { mode: CropMode; size: number }[];
  readonly classes: readonly string[];
}

export interface BatchOptions {
  /** Run once this many faces are waiting (default 32). */
  maxFaces?: number;
  /** Or once the first waiting call has waited this long (default 4 ms). */
  maxWaitMs?: number;
  /** For virtual time in tests. */
  scheduler?: SchedulerLike;
}

interface Pending {
  crops: Partial<Record<CropMode, CropBatch>>;
  count: number;
  resolve: (p: CropPrediction[]) => void;
  reject: (e: Error) => void;
}

export class BatchingClassifier implements CropClassifier {
  private queue: Pending[] = [];
  private waiting = 0;
  private running = false;
  private timer: { unsubscribe(): void } | undefined;
  private readonly maxFaces: number;
  private readonly maxWaitMs: number;
  private readonly scheduler: SchedulerLike;
  /** Inferences run and faces classified (for stats and tests). */
  readonly counts = { batches: 0, faces: 0 };

  constructor(
    private readonly inner: CropClassifier,
    options: BatchOptions = {},
  ) {
    this.maxFaces = options.maxFaces ?? 32;
    this.maxWaitMs = options.maxWaitMs ?? 4;
    this.scheduler = options.scheduler ?? asyncScheduler;
    if (!(this.maxFaces >= 1)) throw new RangeError(`maxFaces must be ≥ 1, got ${this.maxFaces}`);
  }

  get cropInputs(): readonly { mode: CropMode; size: number }[] {
    return this.inner.cropInputs;
  }

  get classes(): readonly string[] {
    return this.inner.classes;
  }

  classify(crops: Partial<Record<CropMode, CropBatch>>): Promise<CropPrediction[]> {
    const count = this.countOf(crops);
    if (count === 0) return Promise.resolve([]);
    return new Promise((resolve, reject) => {
      this.queue.push({ crops, count, resolve, reject });
      this.waiting += count;
      if (this.waiting >= this.maxFaces || this.maxWaitMs <= 0) this.flush();
      else this.timer ??= this.scheduler.schedule(() => this.flush(), this.maxWaitMs);
    });
  }

  private countOf(crops: Partial<Record<CropMode, CropBatch>>): number {
    let count: number | undefined;
    for (const { mode } of this.inner.cropInputs) {
      const c = crops[mode];
      if (!c) throw new Error(`no '${mode}' crops given: this model needs them`);
      if (count !== undefined && c.count !== count)
        throw new Error(`crop batches disagree on the face count (${count} vs ${c.count})`);
      count = c.count;
    }
    return count ?? 0;
  }

  private flush(): void {
    this.timer?.unsubscribe();
    this.timer = undefined;
    // One inference at a time: calls that arrive meanwhile form the next batch.
    if (this.running || this.queue.length === 0) return;
    const batch: Pending[] = [];
    let faces = 0;
    while (
      this.queue.length &&
      (faces === 0 || faces + (this.queue[0] as Pending).count <= this.maxFaces)
    ) {
      const p = this.queue.shift() as Pending;
      batch.push(p);
      faces += p.count;
    }
    this.waiting -= faces;
    this.running = true;
    void this.run(batch, faces).finally(() => {
      this.running = false;
      // What queued during the inference has waited long enough already.
      if (this.queue.length) this.flush();
    });
  }

  private async run(batch: Pending[], faces: number): Promise<void> {
    try {
      const merged: Partial<Record<CropMode, CropBatch>> = {};
      for (const { mode } of this.inner.cropInputs) {
        if (batch.length === 1) {
          merged[mode] = (batch[0] as Pending).crops[mode] as CropBatch;
          continue;
        }
        const parts = batch.map((p) => (p.crops[mode] as CropBatch).data);
        const Ctor = parts.every((d) => d instanceof Uint8Array) ? Uint8Array : Float32Array;
        const data = new Ctor(parts.reduce((n, d) => n + d.length, 0));
        let at = 0;
        for (const d of parts) {
          data.set(d, at);
          at += d.length;
        }
        merged[mode] = { data, count: faces };
      }
      const preds = await this.inner.classify(merged);
      if (preds.length !== faces)
        throw new Error(`the classifier returned ${preds.length} predictions for ${faces} faces`);
      this.counts.batches++;
      this.counts.faces += faces;
      let k = 0;
      for (const p of batch) {
        p.resolve(preds.slice(k, k + p.count));
        k += p.count;
      }
    } catch (err) {
      for (const p of batch) p.reject(err as Error);
    }
  }
}
