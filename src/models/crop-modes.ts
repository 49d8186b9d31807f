/** Crop modes and per-member preprocessing as data: no engine imported, so every layer may use them. */
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
