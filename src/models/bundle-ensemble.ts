/** What both engines' ensembles share: a bundle's manifest, its classes and its crop inputs. */
import type { BundleManifest } from './bundle-manifest.ts';
import type { CropBatch, CropPrediction } from './crop-types.ts';
import type { CropMode } from './crop-modes.ts';

export abstract class BundleEnsemble {
  abstract readonly engine: 'onnx' | 'tfjs';

  constructor(readonly manifest: BundleManifest) {}

  get classes(): readonly string[] {
    return this.manifest.classes;
  }

  /** The crop inputs this bundle needs: one per crop mode, each [n, size, size, 3]. */
  get cropInputs(): readonly { mode: CropMode; size: number }[] {
    return this.manifest.onnx.inputs;
  }

  abstract classify(crops: Partial<Record<CropMode, CropBatch>>): Promise<CropPrediction[]>;
  abstract close(): Promise<void>;
}
