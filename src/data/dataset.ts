import { tf, type Tensor4D } from '../engine/tf.ts';

/** Rows `indices` of [size × k] soft targets, as a flat [indices.length × k] array. */
export function targetRows(
  targets: Float32Array,
  size: number,
  indices: readonly number[],
): Float32Array {
  const k = targets.length / size;
  const out = new Float32Array(indices.length * k);
  indices.forEach((i, r) => out.set(targets.subarray(i * k, (i + 1) * k), r * k));
  return out;
}

/** What the trainer reads: labels up front, image batches on demand (in memory or from a cache). */
export interface TrainingData {
  readonly size: number;
  /** [height, width, channels] of every image. */
  readonly imageShape: readonly [number, number, number];
  readonly labels: Int32Array;
  /**
   * Optional soft targets [size × classes] (a label distribution per sample, e.g. FER+ votes):
   * the CE term uses them instead of `labels`, which stay the arg-max for accuracy tallies.
   */
  readonly targets?: Float32Array;
  /** Images for the given indices as float32 [n, H, W, C] in [0, 1]. */
  images(indices: readonly number[]): Tensor4D;
}

/**
 * A dataset held in memory: uint8 pixels (0–255) or float32 already in [0, 1], NHWC, row-major.
 */
export function inMemoryData(
  pixels: Uint8Array | Float32Array,
  labels: Int32Array,
  imageShape: readonly [number, number, number],
  targets?: Float32Array,
): TrainingData {
  const per = imageShape[0] * imageShape[1] * imageShape[2];
  if (pixels.length !== labels.length * per) {
    throw new RangeError(
      `pixel buffer holds ${pixels.length} values; ${labels.length} images of [${imageShape}] need ${labels.length * per}`,
    );
  }
  const scale = pixels instanceof Uint8Array ? 1 / 255 : 1;
  if (targets && targets.length % Math.max(1, labels.length) !== 0)
    throw new RangeError(
      `${targets.length} target values do not divide into ${labels.length} rows`,
    );
  return {
    size: labels.length,
    imageShape,
    labels,
    ...(targets && { targets }),
    images(indices) {
      const out = new Float32Array(indices.length * per);
      indices.forEach((idx, k) => {
        if (!(idx >= 0 && idx < labels.length))
          throw new RangeError(`image index ${idx} out of range`);
        const src = pixels.subarray(idx * per, (idx + 1) * per);
        for (let i = 0; i < per; i++) out[k * per + i] = (src[i] as number) * scale;
      });
      return tf.tensor4d(out, [indices.length, ...imageShape]);
    },
  };
}
