/**
 * Similarity alignment of faces to a canonical template: a least-squares similarity transform
 * (rotation, uniform scale, translation) from the detector's eye/nose/mouth keypoints to template
 * positions, applied with a bilinear warp.
 */
import { warpRgba, type InverseAffine, type RgbaFrame } from './warp.ts';

/**
 * Template for a 112×112 crop, in image coordinates (subject's right eye on the image left): the
 * ArcFace five-point template with the two mouth corners merged into the mouth centre.
 */
export const TEMPLATE_112: readonly [number, number][] = [
  [38.2946, 51.6963], // right eye
  [73.5318, 51.5014], // left eye
  [56.0252, 71.7366], // nose tip
  [56.1396, 92.2848], // mouth centre
];

export interface Similarity {
  /** dst = [a −b; b a]·src + [tx, ty] */
  a: number;
  b: number;
  tx: number;
  ty: number;
}

/** Least-squares similarity transform mapping `src` points onto `dst` points (Umeyama, no reflection). */
export function fitSimilarity(
  src: readonly [number, number][],
  dst: readonly [number, number][],
  weights: readonly number[] = src.map(() => 1),
): Similarity {
  const n = src.length;
  if (n < 2 || dst.length !== n || weights.length !== n) {
    throw new RangeError(
      `need ≥ 2 matching point pairs and weights, got ${n}, ${dst.length} and ${weights.length}`,
    );
  }
  const total = weights.reduce((a, b) => a + b, 0);
  const mean = (pts: readonly [number, number][]): [number, number] => {
    let x = 0;
    let y = 0;
    pts.forEach(([u, v], i) => {
      x += (u * (weights[i] as number)) / total;
      y += (v * (weights[i] as number)) / total;
    });
    return [x, y];
  };
  const [sx, sy] = mean(src);
  const [dx, dy] = mean(dst);
  let num1 = 0;
  let num2 = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    const [px, py] = [src[i]![0] - sx, src[i]![1] - sy];
    const [qx, qy] = [dst[i]![0] - dx, dst[i]![1] - dy];
    const w = weights[i] as number;
    num1 += w * (px * qx + py * qy);
    num2 += w * (px * qy - py * qx);
    den += w * (px * px + py * py);
  }
  if (den === 0) throw new RangeError('source points coincide');
  const a = num1 / den;
  const b = num2 / den;
  return { a, b, tx: dx - (a * sx - b * sy), ty: dy - (b * sx + a * sy) };
}

/** The template scaled to a crop side of `size` pixels. */
export function template(size: number): [number, number][] {
  return TEMPLATE_112.map(([x, y]) => [(x * size) / 112, (y * size) / 112]);
}

/** Keypoints used for alignment: right eye, left eye, nose tip, mouth centre (MediaPipe order 0..3). */
export function alignmentPoints(keypoints: readonly [number, number][]): [number, number][] {
  if (keypoints.length < 4)
    throw new RangeError(`alignment needs 4 keypoints, got ${keypoints.length}`);
  return keypoints.slice(0, 4) as [number, number][];
}

/** The output → input mapping that aligns a face with these keypoints to the template. */
export function alignmentTransform(
  keypoints: readonly [number, number][],
  size: number,
): InverseAffine {
  const { a, b, tx, ty } = fitSimilarity(alignmentPoints(keypoints), template(size));
  // Inverse of dst = [a −b; b a]·src + t: src = M⁻¹(dst − t).
  const d = a * a + b * b;
  const [ia, ib] = [a / d, -b / d];
  return [ia, -ib, -(ia * tx - ib * ty), ib, ia, -(ib * tx + ia * ty)];
}

/** Aligned crops of the faces with the given keypoints: float32 RGB in [0,1], [n, size, size, 3]. */
export function alignedCrops(
  frame: RgbaFrame,
  faces: readonly (readonly [number, number][])[],
  size: number,
): Float32Array {
  const out = new Float32Array(faces.length * size * size * 3);
  faces.forEach((kp, i) =>
    warpRgba(frame, alignmentTransform(kp, size), size, out, i * size * size * 3),
  );
  return out;
}
