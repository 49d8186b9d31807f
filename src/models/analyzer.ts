/**
 * Classifies face crops with a model bundle, on ONNX Runtime (default, fast) or tfjs (reference).
 * Crops are NHWC at the bundle's input size, uint8 0–255 or float32 in [0,1].
 */
import { OnnxModel, type OnnxDevice } from '../engine/onnx-runtime.ts';
import { tf, type Tensor2D, type Tensor4D } from '../engine/tf.ts';
import { ensemblePredict } from '../cct/ensemble.ts';
import {
  loadBundleMembers,
  readBundleManifest,
  readBundleOnnx,
  type BundleManifest,
} from './bundle.ts';
import type { Network } from './network.ts';

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
  /** Number of crops; data holds count × S × S × C values. */
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

export class ExpressionAnalyzer {
  private constructor(
    readonly manifest: BundleManifest,
    readonly engine: InferenceEngine,
    private readonly onnx?: OnnxModel,
    private readonly members?: Network[],
  ) {}

  static async create(
    bundleDir: string,
    options: AnalyzerOptions = {},
  ): Promise<ExpressionAnalyzer> {
    const manifest = await readBundleManifest(bundleDir);
    const pre = manifest.members.map((m) => JSON.stringify(m.preprocessing));
    if (new Set(pre).size !== 1) {
      throw new Error(
        `bundle ${bundleDir}: members with different preprocessing are not supported by this analyzer yet`,
      );
    }
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

  /** [size, size, channels] of one crop. */
  get cropShape(): [number, number, number] {
    const p = this.manifest.members[0]!.preprocessing;
    return [p.inputSize, p.inputSize, p.color === 'grey' ? 1 : 3];
  }

  async classifyCrops(batch: CropBatch): Promise<CropPrediction[]> {
    const [s, , c] = this.cropShape;
    const expected = batch.count * s * s * c;
    if (batch.data.length !== expected) {
      throw new RangeError(
        `crop data holds ${batch.data.length} values; ${batch.count} crops of ${s}×${s}×${c} need ${expected}`,
      );
    }
    if (batch.count === 0) return [];
    const data =
      batch.data instanceof Uint8Array ? Float32Array.from(batch.data, (v) => v / 255) : batch.data;
    const n = this.manifest.members.length;
    const k = this.classes.length;
    let mean: Float32Array;
    let members: Float32Array;
    let consensus: Float32Array;
    if (this.onnx) {
      const out = await this.onnx.run({
        [this.manifest.onnx.input]: { data, dims: [batch.count, s, s, c] },
      });
      mean = out.mean_probs!.data;
      members = out.member_probs!.data;
      consensus = out.consensus!.data;
    } else {
      const p = this.manifest.members[0]!.preprocessing;
      const logits = tf.tidy(() => {
        const x = tf.div(
          tf.sub(tf.tensor4d(data, [batch.count, s, s, c]), tf.tensor1d(p.mean)),
          tf.tensor1d(p.std),
        ) as Tensor4D;
        return (this.members as Network[]).map((m) => m.apply(x, false));
      });
      const out = ensemblePredict(logits);
      mean = out.meanProbs.dataSync() as Float32Array;
      members = tf.tidy(() => tf.stack(out.memberProbs).dataSync() as Float32Array);
      consensus = out.consensus.dataSync() as Float32Array;
      tf.dispose([...logits, out.meanProbs, out.consensus, ...(out.memberProbs as Tensor2D[])]);
    }
    return Array.from({ length: batch.count }, (_, i) => {
      const probs = Array.from(mean.subarray(i * k, (i + 1) * k));
      const labelIndex = probs.indexOf(Math.max(...probs));
      return {
        probs,
        labelIndex,
        label: this.classes[labelIndex] as string,
        consensus: consensus[i] as number,
        memberProbs: Array.from({ length: n }, (_, j) =>
          Array.from(members.subarray((j * batch.count + i) * k, (j * batch.count + i + 1) * k)),
        ),
      };
    });
  }

  async dispose(): Promise<void> {
    await this.onnx?.dispose();
    for (const m of this.members ?? []) m.dispose();
  }
}
