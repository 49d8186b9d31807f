/**
 * Bilinear affine warps of RGBA frames into float32 RGB crops, in a tight JS loop: tfjs' wasm
 * Transform kernel took ~30 ms for one 112×112 crop of a 640×480 frame, this takes well under 1 ms.
 */

/** Output → input mapping: x_in = m[0]·u + m[1]·v + m[2], y_in = m[3]·u + m[4]·v + m[5]. */
export type InverseAffine = readonly [number, number, number, number, number, number];

export interface RgbaFrame {
  data: Uint8Array | Uint8ClampedArray;
  width: number;
  height: number;
}

/**
 * Writes `size`×`size`×3 floats in [0,1] into `out` at `offset` (pixel centres at integer
 * coordinates, as tf.image.transform; outside the frame is black).
 */
export function warpRgba(
  frame: RgbaFrame,
  m: InverseAffine,
  size: number,
  out: Float32Array,
  offset = 0,
): void {
  const { data, width: w, height: h } = frame;
  const inv = 1 / 255;
  let o = offset;
  for (let v = 0; v < size; v++) {
    for (let u = 0; u < size; u++) {
      const x = m[0] * u + m[1] * v + m[2];
      const y = m[3] * u + m[4] * v + m[5];
      const x0 = Math.floor(x);
      const y0 = Math.floor(y);
      const fx = x - x0;
      const fy = y - y0;
      for (let c = 0; c < 3; c++) {
        let acc = 0;
        for (let dy = 0; dy < 2; dy++) {
          const yy = y0 + dy;
          if (yy < 0 || yy >= h) continue;
          const wy = dy ? fy : 1 - fy;
          for (let dx = 0; dx < 2; dx++) {
            const xx = x0 + dx;
            if (xx < 0 || xx >= w) continue;
            acc += (data[(yy * w + xx) * 4 + c] as number) * wy * (dx ? fx : 1 - fx);
          }
        }
        out[o++] = acc * inv;
      }
    }
  }
}
