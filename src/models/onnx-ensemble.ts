/**
 * A bundle's ensemble on ONNX Runtime: the inference path. It imports neither tfjs nor any
 * architecture — the graph carries each member's preprocessing and weights.
 */
import { OnnxModel, type OnnxDevice } from '../engine/onnx-runtime.ts';
import { readBundleManifest, readBundleOnnx, type BundleManifest } from './bundle-manifest.ts';
import { cropFeeds, toPredictions } from './ensemble-io.ts';
import { BundleEnsemble } from './bundle-ensemble.ts';
import type { CropBatch, CropPrediction } from './crop-types.ts';
import type { CropMode } from './crop-modes.ts';

export interface OnnxEnsembleOptions {
  /** ONNX Runtime intra-op threads (default 1). */
  threads?: number;
  /** Execution provider (default 'cpu'). */
  device?: OnnxDevice;
}

export class OnnxEnsemble extends BundleEnsemble {
  readonly engine = 'onnx' as const;

  private constructor(
    manifest: BundleManifest,
    private readonly model: OnnxModel,
  ) {
    super(manifest);
  }

  static async create(bundleDir: string, options: OnnxEnsembleOptions = {}): Promise<OnnxEnsemble> {
    const manifest = await readBundleManifest(bundleDir);
    const model = await OnnxModel.create(await readBundleOnnx(bundleDir, manifest), {
      threads: options.threads ?? 1,
      device: options.device ?? 'cpu',
    });
    return new OnnxEnsemble(manifest, model);
  }

  async classify(crops: Partial<Record<CropMode, CropBatch>>): Promise<CropPrediction[]> {
    const { feeds, count } = cropFeeds(this.cropInputs, crops);
    if (count === 0) return [];
    const out = await this.model.run(feeds);
    return toPredictions(this.classes, this.manifest.members.length, count, {
      mean: out.mean_probs!.data,
      members: out.member_probs!.data,
      consensus: out.consensus!.data,
    });
  }

  async close(): Promise<void> {
    await this.model.dispose();
  }
}
