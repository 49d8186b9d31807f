/**
 * What flows between the pipeline's stages. Each stage adds to the frame it was given, so a sink
 * sees everything (the frame itself, detections, ids, crops, predictions) and the stages stay
 * independent of one another.
 */
import type { CropPrediction } from '../models/crop-types.ts';
import type { CropMode } from '../models/crop-modes.ts';
import type { FaceDetection } from '../faces/detector.ts';
import type { TrackedFace } from '../faces/tracker.ts';
import type { Frame } from '../video/decode.ts';

export interface FrameJob {
  frame: Frame;
  /** Wall-clock time (ms since the epoch) the frame entered the pipeline: latency starts here. */
  receivedAt: number;
  /** Frames of this source dropped so far (live sources only). */
  dropped: number;
}

export interface DetectedFrame extends FrameJob {
  detections: FaceDetection[];
}

export interface TrackedFrame extends FrameJob {
  faces: TrackedFace[];
}

export interface CroppedFrame extends TrackedFrame {
  /** One crop batch per crop mode the model needs: faces.length × size × size × 3, RGB in [0,1]. */
  crops: Partial<Record<CropMode, Float32Array>>;
}

export interface AnalysedFace extends TrackedFace, CropPrediction {
  /** Temporally smoothed probabilities (equal to `probs` until the smoother has run). */
  smoothed: number[];
  /** Label of the smoothed probabilities. */
  smoothedLabel: string;
}

export interface AnalysedFrame extends FrameJob {
  faces: AnalysedFace[];
  /** Wall-clock time the predictions were ready. */
  analysedAt: number;
}
