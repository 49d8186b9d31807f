import { warpRgba, type RgbaFrame } from './warp.ts';

export interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** A square crop's size and centre relative to the detector box's longer side. */
export interface BoxFraming {
  /** Crop side / box side. */
  scale: number;
  /** Crop centre − box centre, in box sides (x right, y down). */
  dx: number;
  dy: number;
}

/** The detector box itself, squared: side = its longer edge, same centre (the 'box' crop mode). */
export const BOX_FRAMING: BoxFraming = { scale: 1, dx: 0, dy: 0 };

/**
 * FER2013's framing (the 'fer' crop mode), measured by `npx tsx scripts/fer-framing.ts measure`:
 * 500 hold-out Training faces pasted ×4 into 640×480 frames, the full-range detector run on them
 * (315 found), the median of where the known 192×192 face square sits relative to the box: 1.185×
 * the box's longer side, centred 0.055 box sides above the box centre (0.003 to the right: taken
 * as 0).
 */
export const FER_FRAMING: BoxFraming = { scale: 1.185, dx: 0, dy: -0.055 };

/**
 * Square crops around detection boxes (side = the box's longer edge × framing.scale, centre moved
 * by framing.dx/dy box sides), resized bilinearly to `size`×`size`: float32 RGB in [0,1],
 * [n, size, size, 3]. Outside the frame is black.
 */
export function squareBoxCrops(
  frame: RgbaFrame,
  boxes: readonly Box[],
  size: number,
  framing: BoxFraming = BOX_FRAMING,
): Float32Array {
  const out = new Float32Array(boxes.length * size * size * 3);
  boxes.forEach((box, i) => {
    const edge = Math.max(box.width, box.height);
    const side = edge * framing.scale;
    const s = side / size;
    const x0 = box.x + box.width / 2 + framing.dx * edge - side / 2;
    const y0 = box.y + box.height / 2 + framing.dy * edge - side / 2;
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
