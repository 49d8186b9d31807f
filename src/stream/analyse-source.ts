/**
 * One source, analysed on its own: decode'd frames → detect → track → crop → classify → smooth.
 * Everything stateful (tracker, smoother) is created per subscription, so each source is
 * self-contained and an error ends only the subscription it happened in. Sources share the
 * detector and the (batching) classifier, which are services, not stages.
 */
import type { OperatorFunction } from 'rxjs';
import {
  classifyFaces,
  cropFaces,
  detectFaces,
  trackFaces,
  type CropClassifier,
  type FrameDetector,
} from './operators.ts';
import { smoothFaces, DEFAULT_SMOOTHING, type CausalSmoothing } from './smooth.ts';
import type { TrackerOptions } from '../faces/tracker.ts';
import type { AnalysedFrame, FrameJob } from './types.ts';

export interface SourceAnalysis {
  detector: FrameDetector;
  /** Usually one BatchingClassifier shared by every source. */
  classifier: CropClassifier;
  smoothing?: CausalSmoothing;
  tracker?: TrackerOptions;
  /** Detect on every k-th frame, carry faces in between (default 1). */
  detectEvery?: number;
  now?: () => number;
}

export function analyseSource(o: SourceAnalysis): OperatorFunction<FrameJob, AnalysedFrame> {
  return (jobs) =>
    jobs.pipe(
      detectFaces(o.detector, { every: o.detectEvery ?? 1 }),
      trackFaces(o.tracker),
      cropFaces(o.classifier.cropInputs),
      classifyFaces(o.classifier, o.now),
      smoothFaces(o.classifier.classes, o.smoothing ?? DEFAULT_SMOOTHING),
    );
}
