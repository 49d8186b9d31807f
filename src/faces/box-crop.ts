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
 * `image` is RGB or RGBA, 0–255 (int32) or [0,1] (float32). Parts outside the image are zero.
 */
export function squareBoxCrop(image: Tensor3D, box: Box, size: number): Float32Array {
  const [h, w] = image.shape;
  const side = Math.max(box.width, box.height);
  const cx = box.x + box.width / 2;
  const cy = box.y + box.height / 2;
  return tf.tidy(() => {
    const rgb = image.shape[2] === 4 ? tf.slice(image, [0, 0, 0], [-1, -1, 3]) : image;
    const scale = image.dtype === 'float32' ? 1 : 255;
    const batch = tf.div(tf.cast(tf.expandDims(rgb, 0), 'float32'), scale) as Tensor4D;
    const normBox = [
      (cy - side / 2) / h,
      (cx - side / 2) / w,
      (cy + side / 2) / h,
      (cx + side / 2) / w,
    ];
    return tf.image.cropAndResize(batch, [normBox], [0], [size, size]).dataSync() as Float32Array;
  });
}
