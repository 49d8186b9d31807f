/**
 * The two ends of an ensemble run, shared by both engines: crop batches checked and turned into
 * graph feeds, and the graph's outputs split into one prediction per face. No engine imported.
 */
import type { FloatTensor } from '../engine/onnx-runtime.ts';
import type { CropBatch, CropPrediction } from './crop-types.ts';
import type { CropMode } from './crop-modes.ts';

/**
 * Checks that the crop batches are what the bundle's inputs need (one per crop mode, same count,
 * right size) and returns the number of faces; the error says what is wrong.
 */
export function checkCropBatches(
  inputs: readonly { mode: CropMode; size: number }[],
  crops: Partial<Record<CropMode, CropBatch>>,
): number {
  let count = -1;
  for (const { mode, size } of inputs) {
    const batch = crops[mode];
    if (!batch)
      throw new Error(
        `this bundle needs '${mode}' crops (${size}×${size}×3); got ${Object.keys(crops).join(', ') || 'none'}`,
      );
    if (count >= 0 && batch.count !== count)
      throw new RangeError(
        `crop batches disagree on the number of faces (${count} vs ${batch.count})`,
      );
    count = batch.count;
    const expected = batch.count * size * size * 3;
    if (batch.data.length !== expected) {
      throw new RangeError(
        `'${mode}' crop data holds ${batch.data.length} values; ${batch.count} crops of ${size}×${size}×3 need ${expected}`,
      );
    }
  }
  return Math.max(count, 0);
}

/** One feed per crop input, [n, S, S, 3] floats in [0,1], from batches already checked. */
export function feedsOf(
  inputs: readonly { mode: CropMode; size: number }[],
  crops: Partial<Record<CropMode, CropBatch>>,
): Record<string, FloatTensor> {
  const feeds: Record<string, FloatTensor> = {};
  for (const { mode, size } of inputs) {
    const batch = crops[mode]!;
    const data =
      batch.data instanceof Uint8Array ? Float32Array.from(batch.data, (v) => v / 255) : batch.data;
    feeds[mode] = { data, dims: [batch.count, size, size, 3] };
  }
  return feeds;
}

/** Both of the above: the feeds and the number of faces (0: nothing to run). */
export function cropFeeds(
  inputs: readonly { mode: CropMode; size: number }[],
  crops: Partial<Record<CropMode, CropBatch>>,
): { feeds: Record<string, FloatTensor>; count: number } {
  const count = checkCropBatches(inputs, crops);
  return { feeds: count ? feedsOf(inputs, crops) : {}, count };
}

/** The ensemble's outputs: mean probabilities [n,k], member probabilities [m,n,k], consensus [n]. */
export interface EnsembleOutputs {
  mean: Float32Array;
  members: Float32Array;
  consensus: Float32Array;
}

export function toPredictions(
  classes: readonly string[],
  memberCount: number,
  count: number,
  out: EnsembleOutputs,
): CropPrediction[] {
  const k = classes.length;
  return Array.from({ length: count }, (_, i) => {
    const probs = Array.from(out.mean.subarray(i * k, (i + 1) * k));
    const labelIndex = probs.indexOf(Math.max(...probs));
    return {
      probs,
      labelIndex,
      label: classes[labelIndex] as string,
      consensus: out.consensus[i] as number,
      memberProbs: Array.from({ length: memberCount }, (_, j) =>
        Array.from(out.members.subarray((j * count + i) * k, (j * count + i + 1) * k)),
      ),
    };
  });
}
