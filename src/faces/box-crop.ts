import { warpRgba, type RgbaFrame } from './warp.ts';

export interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

/**
 * Square crops around detection boxes (side = the box's longer edge, same centre), resized
 * bilinearly to `size`×`size`: float32 RGB in [0,1], [n, size, size, 3] — the 'box' crop mode of
 * model bundles. Outside the frame is black.
 */
export function squareBoxCrops(
  frame: RgbaFrame,
  boxes: readonly Box[],
  size: number,
): Float32Array {
  const out = new Float32Array(boxes.length * size * size * 3);
  boxes.forEach((box, i) => {
    const side = Math.max(box.width, box.height);
    const s = side / size;
    const x0 = box.x + box.width / 2 - side / 2;
    const y0 = box.y + box.height / 2 - side / 2;
    // Sample at the centres of the output pixels' footprints in the source.
    warpRgba(
      frame,
      [s, 0, x0 + s / 2 - 0.5, 0, s, y0 + s / 2 - 0.5],
      size,
      out,
      i * size * size * 3,
    );
  });
  return out;
}
