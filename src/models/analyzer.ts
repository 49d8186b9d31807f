/**
 * Classifies face crops with a model bundle, on ONNX Runtime (default, fast) or tfjs (reference).
 * A bundle needs one crop batch per crop mode its members use (`analyzer.cropInputs`): NHWC RGB at
 * that mode's size, uint8 0–255 or float32 in [0,1]. Each member's resize/grey/normalisation is
 * part of the model.
 */
import { OnnxModel, type FloatTensor, type OnnxDevice } from '../engine/onnx-runtime.ts';
import { tf, type Tensor2D } from '../engine/tf.ts';
import { ensemblePredict } from '../cct/ensemble.ts';
import {
  loadBundleMembers,
  readBundleManifest,
  readBundleOnnx,
  type BundleManifest,
} from './bundle.ts';
import type { EnsembleMember } from './ensemble-export.ts';
import { preprocessForMember, type CropMode } from './preprocess.ts';
import { faceCrops } from '../faces/crops.ts';
import type { FaceDetection, FaceDetector, RgbaImage } from '../faces/detector.ts';
import type { LandmarkRefiner } from '../faces/landmarks.ts';

export type InferenceEngine = 'onnx' | 'tfjs';

export interface AnalyzerOptions {
  /** 'onnx' (default) or 'tfjs' (the training engine; slower, used as the reference). */
  engine?: InferenceEngine;
  /** ONNX Runtime intra-op threads (default 1). */
  threads?: number;
  /** ONNX Runtime execution provider (default 'cpu'). */
  device?: OnnxDevice;
}

export interface CropBatch {
  data: Uint8Array | Float32Array;
  /** Number of crops; data holds count × S × S × 3 values. */
  count: number;
}

export interface CropPrediction {
  /** Mean of the member softmaxes, in the bundle's class order. */
  probs: number[];
  labelIndex: number;
  label: string;
  /** 1 − mean pairwise Jensen–Shannon divergence between members. */
  consensus: number;
  memberProbs: number[][];
}

export interface ImageFace extends CropPrediction {
  box: FaceDetection['box'];
  /** Detector score. */
  score: number;
  keypoints: FaceDetection['keypoints'];
}

export class ExpressionAnalyzer {
  private constructor(
    readonly manifest: BundleManifest,
    readonly engine: InferenceEngine,
    private readonly onnx?: OnnxModel,
    private readonly members?: EnsembleMember[],
  ) {}

  static async create(
    bundleDir: string,
    options: AnalyzerOptions = {},
  ): Promise<ExpressionAnalyzer> {
    const manifest = await readBundleManifest(bundleDir);
    const engine = options.engine ?? 'onnx';
    if (engine === 'onnx') {
      const bytes = await readBundleOnnx(bundleDir, manifest);
      const model = await OnnxModel.create(bytes, {
        threads: options.threads ?? 1,
        device: options.device ?? 'cpu',
      });
      return new ExpressionAnalyzer(manifest, engine, model);
    }
    return new ExpressionAnalyzer(
      manifest,
      engine,
      undefined,
      await loadBundleMembers(bundleDir, manifest),
    );
  }

  get classes(): readonly string[] {
    return this.manifest.classes;
  }

  /** The crop inputs this bundle needs: one per crop mode, each [n, size, size, 3]. */
  get cropInputs(): readonly { mode: CropMode; size: number }[] {
    return this.manifest.onnx.inputs;
  }

  /** Classifies n faces given as one crop batch per crop mode (all with the same count). */
  async classify(crops: Partial<Record<CropMode, CropBatch>>): Promise<CropPrediction[]> {
    const feeds: Record<string, FloatTensor> = {};
    let count = -1;
    for (const { mode, size } of this.cropInputs) {
      const batch = crops[mode];
      if (!batch)
        throw new Error(
          `this bundle needs '${mode}' crops (${size}×${size}×3); got ${Object.keys(crops).join(', ') || 'none'}`,
        );
      if (count >= 0 && batch.count !== count)
        throw new RangeError(
          `crop batches disagree on the number of faces (${count} vs ${batch.count})`,
        );
      count = batch.count;
      const expected = batch.count * size * size * 3;
      if (batch.data.length !== expected) {
        throw new RangeError(
          `'${mode}' crop data holds ${batch.data.length} values; ${batch.count} crops of ${size}×${size}×3 need ${expected}`,
        );
      }
      const data =
        batch.data instanceof Uint8Array
          ? Float32Array.from(batch.data, (v) => v / 255)
          : batch.data;
      feeds[mode] = { data, dims: [batch.count, size, size, 3] };
    }
    if (count <= 0) return [];
    const k = this.classes.length;
    const n = this.manifest.members.length;
    let mean: Float32Array;
    let members: Float32Array;
    let consensus: Float32Array;
    if (this.onnx) {
      const out = await this.onnx.run(feeds);
      mean = out.mean_probs!.data;
      members = out.member_probs!.data;
      consensus = out.consensus!.data;
    } else {
      const logits = tf.tidy(() =>
        (this.members as EnsembleMember[]).map(({ net, pre }) => {
          const f = feeds[pre.crop]!;
          return net.apply(
            preprocessForMember(
              tf.tensor4d(f.data, f.dims as [number, number, number, number]),
              pre,
            ),
            false,
          );
        }),
      );
      const out = ensemblePredict(logits);
      mean = out.meanProbs.dataSync() as Float32Array;
      members = tf.tidy(() => tf.stack(out.memberProbs).dataSync() as Float32Array);
      consensus = out.consensus.dataSync() as Float32Array;
      tf.dispose([...logits, out.meanProbs, out.consensus, ...(out.memberProbs as Tensor2D[])]);
    }
    return Array.from({ length: count }, (_, i) => {
      const probs = Array.from(mean.subarray(i * k, (i + 1) * k));
      const labelIndex = probs.indexOf(Math.max(...probs));
      return {
        probs,
        labelIndex,
        label: this.classes[labelIndex] as string,
        consensus: consensus[i] as number,
        memberProbs: Array.from({ length: n }, (_, j) =>
          Array.from(members.subarray((j * count + i) * k, (j * count + i + 1) * k)),
        ),
      };
    });
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

  /**
   * Detects, crops (aligned and/or box, as the members need) and classifies every face in an RGBA
   * image. The detector is the caller's (one per thread: MediaPipe's wasm is synchronous).
   */
  async analyzeImage(
    image: RgbaImage,
    detector: FaceDetector,
    refiner?: LandmarkRefiner,
  ): Promise<ImageFace[]> {
    const detected = detector.detect(image);
    // Aligned crops use refined keypoints when a refiner is given (BlazeFace's are coarse).
    const needsAlign = this.cropInputs.some((c) => c.mode === 'aligned');
    const faces = refiner && needsAlign ? refiner.refine(image, detected) : detected;
    if (faces.length === 0) return [];
    const crops: Partial<Record<CropMode, CropBatch>> = {};
    for (const [mode, data] of Object.entries(faceCrops(image, faces, this.cropInputs)))
      crops[mode as CropMode] = { data, count: faces.length };
    const preds = await this.classify(crops);
    return preds.map((p, i) => ({
      ...p,
      box: faces[i]!.box,
      score: faces[i]!.score,
      keypoints: faces[i]!.keypoints,
    }));
  }

  async dispose(): Promise<void> {
    await this.onnx?.dispose();
    for (const m of this.members ?? []) m.net.dispose();
  }
}
