import { OnnxModel, type FloatTensor } from '../engine/onnx-runtime.ts';
import { tf, type Tensor4D } from '../engine/tf.ts';
import { Rng } from '../util/rng.ts';
import type { EnsembleMember } from './ensemble-export.ts';
import { cropInputs, preprocessForMember } from './preprocess.ts';

export interface ExportCheck {
  /** max |onnx − tfjs| / max |tfjs| over the member logits. */
  logitsRelError: number;
  /** max |onnx − tfjs| over the mean probabilities. */
  probsAbsError: number;
  samples: number;
}

/**
 * Runs the exported graph in ONNX Runtime and the members in tfjs on the same seeded inputs (batch
 * 1 and batch > 1) and compares logits; throws when they differ by more than `tolerance`.
 */
export async function verifyEnsembleExport(
  members: EnsembleMember[],
  onnxBytes: Uint8Array,
  { tolerance = 1e-4, seed = 0 }: { tolerance?: number; seed?: number } = {},
): Promise<ExportCheck> {
  const model = await OnnxModel.create(onnxBytes);
  const rng = new Rng(seed);
  let logitsRelError = 0;
  let probsAbsError = 0;
  let samples = 0;
  try {
    for (const batch of [1, 3]) {
      const feeds: Record<string, FloatTensor> = {};
      for (const { mode, size } of cropInputs(members.map((m) => m.pre))) {
        feeds[mode] = {
          data: Float32Array.from({ length: batch * size * size * 3 }, () => rng.next()),
          dims: [batch, size, size, 3],
        };
      }
      const out = await model.run(feeds);
      const ref = tf.tidy(() => {
        const logits = members.map(({ net, pre }) => {
          const f = feeds[pre.crop]!;
          return net.apply(
            preprocessForMember(
              tf.tensor4d(f.data, f.dims as [number, number, number, number]) as Tensor4D,
              pre,
            ),
            false,
          );
        });
        const mean = tf.div(tf.addN(logits.map((z) => tf.softmax(z))), members.length);
        return {
          logits: tf.stack(logits).dataSync() as Float32Array,
          mean: mean.dataSync() as Float32Array,
        };
      }) as unknown as { logits: Float32Array; mean: Float32Array };
      const got = out.member_logits?.data;
      const gotMean = out.mean_probs?.data;
      if (!got || !gotMean) throw new Error('exported model lacks member_logits or mean_probs');
      const scale = Math.max(1e-6, ...Array.from(ref.logits, Math.abs));
      ref.logits.forEach(
        (v, i) =>
          (logitsRelError = Math.max(logitsRelError, Math.abs(v - (got[i] as number)) / scale)),
      );
      ref.mean.forEach(
        (v, i) => (probsAbsError = Math.max(probsAbsError, Math.abs(v - (gotMean[i] as number)))),
      );
      samples += batch;
    }
  } finally {
    await model.dispose();
  }
  if (!(logitsRelError <= tolerance)) {
    throw new Error(
      `ONNX export does not match tfjs: member logits differ by ${logitsRelError.toExponential(2)} (relative), tolerance ${tolerance}`,
    );
  }
  return { logitsRelError, probsAbsError, samples };
}
