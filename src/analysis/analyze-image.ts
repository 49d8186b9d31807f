/**
 * One still image, analysed: detect → (refine) → crop → classify. One layer above the model (which
 * only classifies crops) and the face stages (which only find and cut faces).
 */
import { faceCrops } from '../faces/crops.ts';
import type { FaceDetection, FaceDetector, RgbaImage } from '../faces/detector.ts';
import type { LandmarkRefiner } from '../faces/landmarks.ts';
import type { CropClassifier } from '../stream/batching-classifier.ts';
import type { CropBatch, CropPrediction } from '../models/crop-types.ts';
import type { CropMode } from '../models/crop-modes.ts';

export interface ImageFace extends CropPrediction {
  box: FaceDetection['box'];
  /** Detector score. */
  score: number;
  keypoints: FaceDetection['keypoints'];
}

/**
 * Detects, crops (aligned and/or box, as the members need) and classifies every face in an RGBA
 * image. The detector is the caller's (one per thread: MediaPipe's wasm is synchronous).
 */
export async function analyzeImage(
  classifier: CropClassifier,
  image: RgbaImage,
  detector: Pick<FaceDetector, 'detect'>,
  refiner?: Pick<LandmarkRefiner, 'refine'>,
): Promise<ImageFace[]> {
  const detected = detector.detect(image);
  // Aligned crops use refined keypoints when a refiner is given (BlazeFace's are coarse).
  const needsAlign = classifier.cropInputs.some((c) => c.mode === 'aligned');
  const faces = refiner && needsAlign ? refiner.refine(image, detected) : detected;
  if (faces.length === 0) return [];
  const crops: Partial<Record<CropMode, CropBatch>> = {};
  for (const [mode, data] of Object.entries(faceCrops(image, faces, classifier.cropInputs)))
    crops[mode as CropMode] = { data, count: faces.length };
  const preds = await classifier.classify(crops);
  return preds.map((p, i) => ({
    ...p,
    box: faces[i]!.box,
    score: faces[i]!.score,
    keypoints: faces[i]!.keypoints,
  }));
}
