import { tf, type Tensor3D, type Tensor4D } from '../engine/tf.ts';

export interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

/**
 * A square crop around a detection box (side = the box's longer edge, same centre), resized
 * bilinearly to `size`×`size`, as float32 RGB in [0,1] — the 'box' crop mode of model bundles.
 * Parts outside the image are zero.
 */
export function squareBoxCrop(image: Tensor3D, box: Box, size: number): Float32Array {
  const [h, w] = image.shape;
  const side = Math.max(box.width, box.height);
  const cx = box.x + box.width / 2;
  const cy = box.y + box.height / 2;
  return tf.tidy(() => {
    const batch = tf.div(
      tf.cast(tf.expandDims(image, 0), 'float32'),
      image.dtype === 'float32' ? 1 : 255,
    ) as Tensor4D;
    const normBox = [
      (cy - side / 2) / h,
      (cx - side / 2) / w,
      (cy + side / 2) / h,
      (cx + side / 2) / w,
    ];
    return tf.image.cropAndResize(batch, [normBox], [0], [size, size]).dataSync() as Float32Array;
  });
}
