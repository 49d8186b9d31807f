/**
 * The two heavy services every analysis needs, started together: the expression model (ONNX
 * Runtime session, in its own thread) and the face-detection worker (MediaPipe in its own thread) — one on each core
 * instead of one after the other. The bundle's manifest alone says whether the detector must refine
 * keypoints (for aligned crops). A failed start closes whichever did start.
 */
import { ExpressionAnalyzer, type InferenceEngine } from '../src/models/analyzer.ts';
import { readBundleManifest } from '../src/models/bundle-manifest.ts';
import { DetectorWorker, type DetectorWorkerOptions } from '../src/stream/detector-worker.ts';
import type { DetectorModel } from '../src/faces/detector.ts';

export interface ServiceOptions {
  bundle: string;
  engine?: InferenceEngine;
  threads?: number;
  detector?: DetectorModel;
  /** No detection worker (inputs are face crops already). */
  noDetector?: boolean;
}

export async function startServices(o: ServiceOptions): Promise<{
  analyzer: ExpressionAnalyzer;
  worker: DetectorWorker | undefined;
  workerOptions: DetectorWorkerOptions | undefined;
}> {
  const manifest = await readBundleManifest(o.bundle);
  const workerOptions = o.noDetector
    ? undefined
    : {
        model: o.detector ?? ('full-range' as const),
        refine: manifest.onnx.inputs.some((c) => c.mode === 'aligned'),
      };
  const [analyzer, worker] = await Promise.allSettled([
    ExpressionAnalyzer.create(o.bundle, {
      engine: o.engine ?? 'onnx',
      threads: o.threads ?? 1,
      inferenceThread: 'worker',
    }),
    workerOptions && DetectorWorker.create(workerOptions),
  ]);
  if (analyzer.status === 'rejected' || worker.status === 'rejected') {
    if (analyzer.status === 'fulfilled') await analyzer.value.dispose();
    if (worker.status === 'fulfilled') await worker.value?.close();
    throw (
      analyzer.status === 'rejected' ? analyzer.reason : (worker as PromiseRejectedResult).reason
    ) as Error;
  }
  return { analyzer: analyzer.value, worker: worker.value, workerOptions };
}
