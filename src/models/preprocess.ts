/**
 * Per-member preprocessing, one definition for both engines: from a crop input (NHWC RGB in [0,1]
 * at the crop mode's size) to the member's normalised input. tfjs here; the ONNX graph emits the
 * same chain in ensemble-export.ts.
 */
import { tf, type Tensor4D } from '../engine/tf.ts';
import { GREY_WEIGHTS, type MemberPreprocessing } from './crop-modes.ts';

export {
  CROP_MODES,
  GREY_WEIGHTS,
  cropInputs,
  type CropMode,
  type MemberPreprocessing,
} from './crop-modes.ts';

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
