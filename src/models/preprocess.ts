/**
 * Per-member preprocessing, one definition for both engines: from a crop input (NHWC RGB in [0,1]
 * at the crop mode's size) to the member's normalised input. tfjs here; the ONNX graph emits the
 * same chain in ensemble-export.ts.
 */
import { tf, type Tensor4D } from '../engine/tf.ts';

/**
 * How faces are cut from a frame for a member: 'aligned' (similarity-aligned to the eye/nose/mouth
 * template), 'box' (square around the detector box), 'fer' (FER2013's framing: a wider square,
 * shifted up — src/faces/box-crop.ts).
 */
export const CROP_MODES = ['aligned', 'box', 'fer'] as const;
export type CropMode = (typeof CROP_MODES)[number];

export interface MemberPreprocessing {
  crop: CropMode;
  inputSize: number;
  color: 'rgb' | 'grey';
  mean: number[];
  std: number[];
}

/** RGB → grey weights (those of @vladmandic/human's emotion model, close to ITU-R BT.601). */
export const GREY_WEIGHTS = [0.2989, 0.587, 0.114] as const;

/**
 * Resizes with bilinear sampling, half-pixel centres off and corners unaligned (tfjs'
 * resizeBilinear defaults; ONNX Resize 'asymmetric' + 'linear').
 */
export function preprocessForMember(crops: Tensor4D, pre: MemberPreprocessing): Tensor4D {
  return tf.tidy(() => {
    let x = crops;
    if (x.shape[1] !== pre.inputSize || x.shape[2] !== pre.inputSize) {
      x = tf.image.resizeBilinear(x, [pre.inputSize, pre.inputSize], false, false);
    }
    if (pre.color === 'grey')
      x = tf.sum(tf.mul(x, tf.tensor1d([...GREY_WEIGHTS])), 3, true) as Tensor4D;
    return tf.div(tf.sub(x, tf.tensor1d(pre.mean)), tf.tensor1d(pre.std)) as Tensor4D;
  });
}

/** The graph inputs an ensemble needs: one per crop mode, at the largest size its members take. */
export function cropInputs(
  pres: readonly MemberPreprocessing[],
): { mode: CropMode; size: number }[] {
  const sizes = new Map<CropMode, number>();
  for (const p of pres) sizes.set(p.crop, Math.max(sizes.get(p.crop) ?? 0, p.inputSize));
  return [...sizes.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([mode, size]) => ({ mode, size }));
}
