/** The crops a model needs for a frame's faces: one batch per crop input (its crop mode, at its size). */
import { alignedCrops } from './align.ts';
import { FER_FRAMING, squareBoxCrops } from './box-crop.ts';
import type { FaceDetection } from './detector.ts';
import type { RgbaFrame } from './warp.ts';
import type { CropMode } from '../models/crop-modes.ts';

export function faceCrops(
  frame: RgbaFrame,
  faces: readonly Pick<FaceDetection, 'box' | 'keypoints'>[],
  inputs: readonly { mode: CropMode; size: number }[],
): Partial<Record<CropMode, Float32Array>> {
  const crops: Partial<Record<CropMode, Float32Array>> = {};
  if (faces.length === 0) return crops;
  for (const { mode, size } of inputs)
    crops[mode] =
      mode === 'aligned'
        ? alignedCrops(
            frame,
            faces.map((f) => f.keypoints),
            size,
          )
        : squareBoxCrops(
            frame,
            faces.map((f) => f.box),
            size,
            mode === 'fer' ? FER_FRAMING : undefined,
          );
  return crops;
}
