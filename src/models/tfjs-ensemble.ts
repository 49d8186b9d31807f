/**
 * A bundle's ensemble on tfjs: the training engine, used as the reference the ONNX graph is
 * checked against. Loaded only when `engine: 'tfjs'` is asked for.
 */
import { tf, type Tensor2D } from '../engine/tf.ts';
import { ensemblePredict } from '../cct/ensemble.ts';
import { loadBundleMembers, readBundleManifest, type BundleManifest } from './bundle.ts';
import type { EnsembleMember } from './ensemble-export.ts';
import { preprocessForMember } from './preprocess.ts';
import { cropFeeds, toPredictions } from './ensemble-io.ts';
import { BundleEnsemble } from './bundle-ensemble.ts';
import type { CropBatch, CropPrediction } from './crop-types.ts';
import type { CropMode } from './crop-modes.ts';

export class TfjsEnsemble extends BundleEnsemble {
  readonly engine = 'tfjs' as const;

  private constructor(
    manifest: BundleManifest,
    private readonly members: EnsembleMember[],
  ) {
    super(manifest);
  }

  static async create(bundleDir: string): Promise<TfjsEnsemble> {
    const manifest = await readBundleManifest(bundleDir);
    return new TfjsEnsemble(manifest, await loadBundleMembers(bundleDir, manifest));
  }

  async classify(crops: Partial<Record<CropMode, CropBatch>>): Promise<CropPrediction[]> {
    const { feeds, count } = cropFeeds(this.cropInputs, crops);
    if (count === 0) return [];
    const logits = tf.tidy(() =>
      this.members.map(({ net, pre }) => {
        const f = feeds[pre.crop]!;
        return net.apply(
          preprocessForMember(tf.tensor4d(f.data, f.dims as [number, number, number, number]), pre),
          false,
        );
      }),
    );
    const out = ensemblePredict(logits);
    const result = toPredictions(this.classes, this.members.length, count, {
      mean: out.meanProbs.dataSync() as Float32Array,
      members: tf.tidy(() => tf.stack(out.memberProbs).dataSync() as Float32Array),
      consensus: out.consensus.dataSync() as Float32Array,
    });
    tf.dispose([...logits, out.meanProbs, out.consensus, ...(out.memberProbs as Tensor2D[])]);
    return result;
  }

  async close(): Promise<void> {
    for (const m of this.members) m.net.dispose();
  }
}
