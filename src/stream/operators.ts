/**
 * The pipeline's stages as RxJS operators, each with one job. Composed in pipelines/live.ts:
 *   frames → detectFaces → trackFaces → cropFaces → batchFrames → classifyBatches → smoothFaces
 * Order is kept at every stage (concatMap), so results leave in the order frames came in.
 */
import {
  Observable,
  concatMap,
  from,
  map,
  type OperatorFunction,
  type SchedulerLike,
  asyncScheduler,
} from 'rxjs';
import { FaceTracker, type TrackerOptions } from '../faces/tracker.ts';
import { faceCrops } from '../faces/crops.ts';
import type { FaceDetection } from '../faces/detector.ts';
import type { CropBatch, CropPrediction } from '../models/analyzer.ts';
import type { CropMode } from '../models/preprocess.ts';
import type {
  AnalysedFace,
  AnalysedFrame,
  CroppedFrame,
  DetectedFrame,
  FrameJob,
  TrackedFrame,
} from './types.ts';
import type { Frame } from '../video/decode.ts';

/** Anything that finds faces in a frame: the detection worker, or a detector used in-thread. */
export interface FrameDetector {
  detect(frame: Frame): Promise<FaceDetection[]> | FaceDetection[];
}

export function detectFaces<T extends FrameJob>(
  detector: FrameDetector,
): OperatorFunction<T, T & DetectedFrame> {
  return concatMap(async (job) => ({ ...job, detections: await detector.detect(job.frame) }));
}

/** Stable face ids, one tracker per source. */
export function trackFaces<T extends DetectedFrame>(
  options: TrackerOptions = {},
): OperatorFunction<T, Omit<T, 'detections'> & TrackedFrame> {
  return (source) =>
    new Observable((subscriber) => {
      const trackers = new Map<string, FaceTracker>();
      return source
        .pipe(
          map((job) => {
            const id = job.frame.sourceId;
            let tracker = trackers.get(id);
            if (!tracker) trackers.set(id, (tracker = new FaceTracker(options)));
            const { detections, ...rest } = job;
            return { ...rest, faces: tracker.update(detections, job.frame.pts * 1000) };
          }),
        )
        .subscribe(subscriber);
    });
}

/** Crops every face as each of the model's crop inputs needs ('aligned' or 'box', at its size). */
export function cropFaces<T extends TrackedFrame>(
  inputs: readonly { mode: CropMode; size: number }[],
): OperatorFunction<T, T & CroppedFrame> {
  return map((job) => ({ ...job, crops: faceCrops(job.frame, job.faces, inputs) }));
}

export interface BatchOptions {
  /** Emit once this many faces are waiting (default 32). */
  maxFaces?: number;
  /** Or once the first waiting frame has waited this long (default 4 ms). */
  maxWaitMs?: number;
  scheduler?: SchedulerLike;
}

/**
 * Groups frames (of any sources) into batches by face count and by a maximum wait. A frame with no
 * faces that arrives to an empty batch passes at once: it needs no inference, so no reason to wait.
 */
export function batchFrames<T extends { faces: readonly unknown[] }>(
  options: BatchOptions = {},
): OperatorFunction<T, T[]> {
  const maxFaces = options.maxFaces ?? 32;
  const maxWaitMs = options.maxWaitMs ?? 4;
  const scheduler = options.scheduler ?? asyncScheduler;
  return (source) =>
    new Observable<T[]>((subscriber) => {
      let batch: T[] = [];
      let faces = 0;
      let timer: { unsubscribe(): void } | undefined;
      const flush = () => {
        timer?.unsubscribe();
        timer = undefined;
        if (batch.length === 0) return;
        const out = batch;
        batch = [];
        faces = 0;
        subscriber.next(out);
      };
      const sub = source.subscribe({
        next(job) {
          batch.push(job);
          faces += job.faces.length;
          if (faces >= maxFaces || faces === 0 || maxWaitMs <= 0) flush();
          else timer ??= scheduler.schedule(flush, maxWaitMs);
        },
        error(err) {
          timer?.unsubscribe();
          subscriber.error(err);
        },
        complete() {
          flush();
          subscriber.complete();
        },
      });
      return () => {
        timer?.unsubscribe();
        sub.unsubscribe();
      };
    });
}

/** Anything that classifies crop batches: an ExpressionAnalyzer (its `classify`). */
export interface CropClassifier {
  classify(crops: Partial<Record<CropMode, CropBatch>>): Promise<CropPrediction[]>;
  readonly cropInputs: readonly { mode: CropMode; size: number }[];
}

/** Runs one inference per batch (all faces of all its frames), then splits the results per frame. */
export function classifyBatches<T extends CroppedFrame>(
  classifier: CropClassifier,
  now: () => number = Date.now,
): OperatorFunction<T[], Omit<T, 'crops' | 'faces'> & AnalysedFrame> {
  return (source) =>
    source.pipe(
      concatMap(async (batch) => {
        const total = batch.reduce((n, j) => n + j.faces.length, 0);
        let preds: CropPrediction[] = [];
        if (total > 0) {
          const crops: Partial<Record<CropMode, CropBatch>> = {};
          for (const { mode, size } of classifier.cropInputs) {
            const data = new Float32Array(total * size * size * 3);
            let at = 0;
            for (const job of batch) {
              // A faceless frame that joined a waiting batch has no crops to add.
              if (job.faces.length === 0) continue;
              const c = job.crops[mode];
              if (!c) throw new Error(`no '${mode}' crops for frame ${job.frame.index}`);
              data.set(c, at);
              at += c.length;
            }
            crops[mode] = { data, count: total };
          }
          preds = await classifier.classify(crops);
        }
        const analysedAt = now();
        let k = 0;
        return batch.map((job) => {
          const { crops: _crops, faces, ...rest } = job;
          void _crops;
          return {
            ...rest,
            analysedAt,
            faces: faces.map((face) => {
              const p = preds[k++] as CropPrediction;
              return { ...face, ...p, smoothed: p.probs, smoothedLabel: p.label };
            }),
          };
        });
      }),
      concatMap((frames) => from(frames)),
    );
}

export type { AnalysedFace };
