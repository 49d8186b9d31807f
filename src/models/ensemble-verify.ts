import { OnnxModel } from '../engine/onnx-runtime.ts';
import { tf, type Tensor4D } from '../engine/tf.ts';
import { Rng } from '../util/rng.ts';
import { ENSEMBLE_INPUT, type EnsembleExportOptions } from './ensemble-export.ts';
import type { Network } from './network.ts';

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
  members: Network[],
  onnxBytes: Uint8Array,
  norm: EnsembleExportOptions,
  { tolerance = 1e-4, seed = 0 }: { tolerance?: number; seed?: number } = {},
): Promise<ExportCheck> {
  const { inputSize: s, inChannels: c } = (members[0] as Network).config;
  const model = await OnnxModel.create(onnxBytes);
  const rng = new Rng(seed);
  let logitsRelError = 0;
  let probsAbsError = 0;
  let samples = 0;
  try {
    for (const batch of [1, 3]) {
      const data = Float32Array.from({ length: batch * s * s * c }, () => rng.next());
      const out = await model.run({ [ENSEMBLE_INPUT]: { data, dims: [batch, s, s, c] } });
      const ref = tf.tidy(() => {
        const x = tf.div(
          tf.sub(tf.tensor4d(data, [batch, s, s, c]), tf.tensor1d(norm.mean)),
          tf.tensor1d(norm.std),
        ) as Tensor4D;
        const logits = members.map((m) => m.apply(x, false));
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
