/**
 * The one-call entry point (MediaPipe Tasks style: a factory with options, then `analyze`, then
 * `close`):
 *
 *   const analyzer = await createAnalyzer();               // the packaged default model
 *   const faces = await analyzer.analyze('photo.jpg');     // or a JPEG/PNG Buffer, or RGBA
 *   await analyzer.close();
 */
import { readFile } from 'node:fs/promises';
import { FaceDetector, type DetectorModel, type RgbaImage } from '../faces/detector.ts';
import { ExpressionAnalyzer, type InferenceEngine } from '../models/analyzer.ts';
import { DEFAULT_BUNDLE } from '../package-paths.ts';
import { decodeImage } from '../video/image-decode.ts';
import { analyzeImage, type ImageFace } from './analyze-image.ts';
import type { LandmarkRefiner } from '../faces/landmarks.ts';

export interface CreateAnalyzerOptions {
  /** Model bundle directory. Default: the bundle packaged with cctfer (`models/default`). */
  bundle?: string;
  /** Face detector: 'full-range' (default; faces near and far) or 'short-range' (near, faster). */
  detector?: DetectorModel;
  /** Inference engine: 'onnx' (default) or 'tfjs' (the training engine; slower). */
  engine?: InferenceEngine;
  /** ONNX Runtime threads (default 1). */
  threads?: number;
}

/** A JPEG/PNG file path, JPEG/PNG bytes, or decoded RGBA pixels. */
export type AnalyzerInput = string | Uint8Array | RgbaImage;

export interface Analyzer {
  /** Class names, in the order of every face's `probs`. */
  readonly classes: readonly string[];
  /** Every face in the image: box, score, keypoints, label, probs, consensus, memberProbs. */
  analyze(input: AnalyzerInput): Promise<ImageFace[]>;
  /** Releases the model and the detector. Idempotent. */
  close(): Promise<void>;
}

async function toRgba(input: AnalyzerInput): Promise<RgbaImage> {
  if (typeof input === 'string') return decodeImage(await readFile(input));
  if (input instanceof Uint8Array) return decodeImage(input);
  return input;
}

export async function createAnalyzer(options: CreateAnalyzerOptions = {}): Promise<Analyzer> {
  const model = await ExpressionAnalyzer.create(options.bundle ?? DEFAULT_BUNDLE, {
    engine: options.engine ?? 'onnx',
    threads: options.threads ?? 1,
  });
  let detector: FaceDetector | undefined;
  let refiner: LandmarkRefiner | undefined;
  try {
    detector = await FaceDetector.create({ model: options.detector ?? 'full-range' });
    // Aligned crops want refined keypoints; the refiner is a tfjs net, loaded only then.
    if (model.cropInputs.some((c) => c.mode === 'aligned')) {
      const { initBackend } = await import('../engine/backend.ts');
      const { LandmarkRefiner } = await import('../faces/landmarks.ts');
      await initBackend({ backend: 'auto' });
      refiner = await LandmarkRefiner.create();
    }
  } catch (err) {
    detector?.close();
    await model.close();
    throw err;
  }
  let closed = false;
  return {
    classes: model.classes,
    async analyze(input) {
      if (closed) throw new Error('this analyzer is closed');
      return analyzeImage(model, await toRgba(input), detector as FaceDetector, refiner);
    },
    async close() {
      if (closed) return;
      closed = true;
      detector?.close();
      refiner?.dispose();
      await model.close();
    },
  };
}
