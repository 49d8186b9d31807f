/**
 * Classifies face crops with a model bundle, on ONNX Runtime (default, fast: OnnxEnsemble) or tfjs
 * (the training engine, loaded only when asked for: TfjsEnsemble). A bundle needs one crop batch
 * per crop mode its members use (`analyzer.cropInputs`): NHWC RGB at that mode's size, uint8 0–255
 * or float32 in [0,1]. Each member's resize/grey/normalisation is part of the model.
 * Detecting and cropping faces is one layer up (src/analysis/analyze-image.ts).
 */
import type { OnnxDevice } from '../engine/onnx-runtime.ts';
import type { BundleManifest } from './bundle-manifest.ts';
import { OnnxEnsemble } from './onnx-ensemble.ts';
import { OnnxWorkerEnsemble } from './onnx-worker-ensemble.ts';
import type { BundleEnsemble } from './bundle-ensemble.ts';
import type { CropBatch, CropPrediction } from './crop-types.ts';
import type { CropMode } from './crop-modes.ts';

export type { CropBatch, CropPrediction } from './crop-types.ts';

export type InferenceEngine = 'onnx' | 'tfjs';

export interface AnalyzerOptions {
  /** 'onnx' (default) or 'tfjs' (the training engine; slower, used as the reference). */
  engine?: InferenceEngine;
  /** ONNX Runtime intra-op threads (default 1). */
  threads?: number;
  /** ONNX Runtime execution provider (default 'cpu'). */
  device?: OnnxDevice;
  /**
   * Where ONNX Runtime runs: 'main' (default; the calling thread blocks while the nets run) or
   * 'worker' (its own thread: the event loop stays free — what servers and pipelines want).
   */
  inferenceThread?: 'main' | 'worker';
}

export class ExpressionAnalyzer {
  private constructor(private readonly ensemble: BundleEnsemble) {}

  static async create(
    bundleDir: string,
    options: AnalyzerOptions = {},
  ): Promise<ExpressionAnalyzer> {
    if ((options.engine ?? 'onnx') === 'onnx')
      return new ExpressionAnalyzer(
        options.inferenceThread === 'worker'
          ? await OnnxWorkerEnsemble.create(bundleDir, options)
          : await OnnxEnsemble.create(bundleDir, options),
      );
    const { TfjsEnsemble } = await import('./tfjs-ensemble.ts');
    return new ExpressionAnalyzer(await TfjsEnsemble.create(bundleDir));
  }

  get manifest(): BundleManifest {
    return this.ensemble.manifest;
  }

  get engine(): InferenceEngine {
    return this.ensemble.engine;
  }

  get classes(): readonly string[] {
    return this.manifest.classes;
  }

  /** The crop inputs this bundle needs: one per crop mode, each [n, size, size, 3]. */
  get cropInputs(): readonly { mode: CropMode; size: number }[] {
    return this.ensemble.cropInputs;
  }

  /** Classifies n faces given as one crop batch per crop mode (all with the same count). */
  classify(crops: Partial<Record<CropMode, CropBatch>>): Promise<CropPrediction[]> {
    return this.ensemble.classify(crops);
  }

  /** Shorthand for bundles with a single crop input. */
  async classifyCrops(batch: CropBatch): Promise<CropPrediction[]> {
    if (this.cropInputs.length !== 1) {
      throw new Error(
        `this bundle needs ${this.cropInputs.map((c) => `'${c.mode}'`).join(' and ')} crops: use classify()`,
      );
    }
    return this.classify({ [this.cropInputs[0]!.mode]: batch });
  }

  /** Releases the engine's native resources. */
  async close(): Promise<void> {
    await this.ensemble.close();
  }

  /** Same as close(). */
  dispose(): Promise<void> {
    return this.close();
  }
}
