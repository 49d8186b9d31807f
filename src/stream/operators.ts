/**
 * The analysis stages as RxJS operators, each with one job, composed per source in
 * analyse-source.ts:  frames → detectFaces → trackFaces → cropFaces → classifyFaces → smoothFaces
 * Order is kept at every stage (concatMap), so results leave in the order frames came in. State
 * (the tracker) lives per subscription: two subscribers never share a track.
 */
import { concatMap, defer, map, type OperatorFunction } from 'rxjs';
import { FaceTracker, type TrackerOptions } from '../faces/tracker.ts';
import { faceCrops } from '../faces/crops.ts';
import type { FaceDetection } from '../faces/detector.ts';
import { carryDetections, type TimedDetections } from '../faces/carry-detections.ts';
import type { CropBatch } from '../models/crop-types.ts';
import type { CropMode } from '../models/crop-modes.ts';
import type { CropClassifier } from './batching-classifier.ts';
import type {
  AnalysedFace,
  AnalysedFrame,
  CroppedFrame,
  DetectedFrame,
  FrameJob,
  TrackedFrame,
} from './types.ts';
import type { Frame } from '../video/decode.ts';

export {
  BatchingClassifier,
  type BatchOptions,
  type CropClassifier,
} from './batching-classifier.ts';

/** Anything that finds faces in a frame: the detection worker, or a detector used in-thread. */
export interface FrameDetector {
  detect(frame: Frame): Promise<FaceDetection[]> | FaceDetection[];
}

export interface DetectOptions {
  /**
   * Run the detector on every k-th frame of the source (default 1: every frame); the frames in
   * between get the last detected faces moved on with their measured velocity (carryDetections).
   */
  every?: number;
}

export function detectFaces<T extends FrameJob>(
  detector: FrameDetector,
  options: DetectOptions = {},
): OperatorFunction<T, T & DetectedFrame> {
  const every = options.every ?? 1;
  if (!Number.isInteger(every) || every < 1)
    throw new RangeError(`detect every: expected a whole number ≥ 1, got ${every}`);
  if (every === 1)
    return concatMap(async (job) => ({ ...job, detections: await detector.detect(job.frame) }));
  return (source) =>
    defer(() => {
      // Per subscription: which frame of this source we are at and its last two detections.
      let n = 0;
      let prev: TimedDetections | undefined;
      let last: TimedDetections | undefined;
      return source.pipe(
        concatMap(async (job) => {
          const t = job.frame.pts * 1000;
          if (n++ % every !== 0 && last)
            return { ...job, detections: carryDetections(prev, last, t) };
          const detections = await detector.detect(job.frame);
          prev = last;
          last = { t, detections };
          return { ...job, detections };
        }),
      );
    });
}

/** Stable face ids: one tracker per subscription (one source). */
export function trackFaces<T extends DetectedFrame>(
  options: TrackerOptions = {},
): OperatorFunction<T, Omit<T, 'detections'> & TrackedFrame> {
  return (source) =>
    defer(() => {
      const tracker = new FaceTracker(options);
      return source.pipe(
        map((job) => {
          const { detections, ...rest } = job;
          return { ...rest, faces: tracker.update(detections, job.frame.pts * 1000) };
        }),
      );
    });
}

/** Crops every face as each of the model's crop inputs needs ('aligned' or 'box', at its size). */
export function cropFaces<T extends TrackedFrame>(
  inputs: readonly { mode: CropMode; size: number }[],
): OperatorFunction<T, T & CroppedFrame> {
  return map((job) => ({ ...job, crops: faceCrops(job.frame, job.faces, inputs) }));
}

/**
 * Classifies each frame's faces (a BatchingClassifier merges the calls of all sources into
 * batches). Fills `smoothed` with the raw probabilities until smoothFaces runs.
 * A frame's classification starts as soon as it arrives, not when the previous frame's is done:
 * frames that wait during an inference then share the next batch. Results still leave in order.
 */
export function classifyFaces<T extends CroppedFrame>(
  classifier: CropClassifier,
  now: () => number = Date.now,
): OperatorFunction<T, Omit<T, 'crops' | 'faces'> & AnalysedFrame> {
  const classify = async (job: T) => {
    const { crops, faces, ...rest } = job;
    let preds: Awaited<ReturnType<CropClassifier['classify']>> = [];
    if (faces.length > 0) {
      const batches: Partial<Record<CropMode, CropBatch>> = {};
      for (const { mode } of classifier.cropInputs) {
        const data = crops[mode];
        if (!data) throw new Error(`no '${mode}' crops for frame ${job.frame.index}`);
        batches[mode] = { data, count: faces.length };
      }
      preds = await classifier.classify(batches);
    }
    return {
      ...rest,
      analysedAt: now(),
      faces: faces.map((face, i): AnalysedFace => {
        const p = preds[i] as (typeof preds)[number];
        return { ...face, ...p, smoothed: p.probs, smoothedLabel: p.label };
      }),
    };
  };
  return (source) =>
    source.pipe(
      map((job) => {
        const started = classify(job);
        // Its error surfaces in order below; marked handled now so that a later frame failing
        // while an earlier one is still in inference is not an unhandled rejection.
        started.catch(() => {});
        return started;
      }),
      concatMap((started) => started),
    );
}

export type { AnalysedFace };
