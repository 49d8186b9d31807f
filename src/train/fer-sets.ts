/**
 * FER2013 + FER+ as a training run's data: Training minus a fixed, seeded hold-out is the training
 * set (labels in the configured mode), the hold-out — scored against the FER+ majority — is the
 * validation set that picks the best epoch. PublicTest is never read here: it is scored once, at
 * the end, by `cctfer eval fer`.
 */
import sharp from 'sharp';
import { z } from 'zod';
import { CROP_MODES } from '../models/preprocess.ts';
import { shownPath } from '../util/shown-path.ts';
import { inMemoryData, targetRows, type TrainingData } from '../data/dataset.ts';
import {
  FER_LABEL_MODES,
  FER_SIDE,
  ferLabels,
  isHoldout,
  readFer,
  type FerData,
  type FerLabelMode,
} from '../data/readers/ferplus.ts';

export const ferDataSchema = z
  .object({
    /** A FER folder (images-idx3-ubyte.gz + labels.csv), or [fer2013.csv, fer2013new.csv]. */
    fer: z.array(z.string()).min(1).max(2),
    /**
     * Training labels: the original FER2013 ones, the FER+ majority, the FER+ vote distribution, or
     * that distribution averaged with the original label (one-hot).
     */
    labels: z.enum(FER_LABEL_MODES as [FerLabelMode, ...FerLabelMode[]]).default('ferplus-votes'),
    /** Fraction of Training held out for model selection (scored against the FER+ majority). */
    holdout: z.number().gt(0).lt(1).default(0.1),
    holdoutSeed: z.number().int().default(0),
    /** Train on this fraction of the (non-held-out) training rows, drawn by the same hash. */
    subsample: z.number().gt(0).max(1).default(1),
    /** How the serving pipeline crops faces for this model (stored in the bundle). */
    crop: z.enum(CROP_MODES).default('fer'),
  })
  .strict();
export type FerDataConfig = z.output<typeof ferDataSchema>;

export interface FerSets {
  train: TrainingData;
  val: TrainingData;
  /** For logs and manifests. */
  summary: string;
}

/** Face `row` as grey size×size uint8 (sharp's resize when size ≠ 48; `kernel` as sharp names it). */
export async function ferFace(
  data: FerData,
  row: number,
  size: number,
  kernel: 'nearest' | 'linear' | 'cubic' | 'lanczos3' = 'linear',
): Promise<Uint8Array> {
  const px = FER_SIDE * FER_SIDE;
  const grey = data.pixels.subarray(row * px, (row + 1) * px);
  if (size === FER_SIDE) return grey;
  // sharp turns a one-channel raw input into sRGB on output: take the one channel back.
  return new Uint8Array(
    await sharp(Buffer.from(grey), { raw: { width: FER_SIDE, height: FER_SIDE, channels: 1 } })
      .resize(size, size, { fit: 'fill', kernel })
      .extractChannel(0)
      .raw()
      .toBuffer(),
  );
}

/** Rows → [n, size, size, channels] uint8 (grey replicated for 3 channels). */
export async function ferPixels(
  data: FerData,
  indices: Int32Array,
  size: number,
  channels: number,
): Promise<Uint8Array> {
  const per = size * size * channels;
  const out = new Uint8Array(indices.length * per);
  for (let r = 0; r < indices.length; r++) {
    const grey = await ferFace(data, indices[r] as number, size);
    if (channels === 1) out.set(grey, r * per);
    else
      for (let p = 0; p < size * size; p++)
        out.fill(grey[p] as number, r * per + p * channels, r * per + (p + 1) * channels);
  }
  return out;
}

/** A FER split's rows: indices into FerData.rows, their hard labels, soft targets if any. */
export interface FerRows {
  indices: Int32Array;
  labels: Int32Array;
  targets?: Float32Array;
}

/**
 * Which rows a run trains on (Training minus the hold-out, subsampled, in the configured label
 * mode) and which it validates on (the hold-out, FER+ majority).
 */
export function ferRunRows(data: FerData, c: FerDataConfig): { train: FerRows; val: FerRows } {
  const held = (i: number) => isHoldout(data.rows[i]!.row, c.holdout, c.holdoutSeed);
  const keep = (i: number) => isHoldout(data.rows[i]!.row, c.subsample, c.holdoutSeed + 1);
  const pick = (mode: FerLabelMode, want: (i: number) => boolean) => {
    const l = ferLabels(data, mode, 'Training');
    const rows = [...l.indices.keys()].filter((r) => want(l.indices[r] as number));
    return {
      indices: Int32Array.from(rows, (r) => l.indices[r] as number),
      labels: Int32Array.from(rows, (r) => l.labels[r] as number),
      ...(l.targets && { targets: targetRows(l.targets, l.labels.length, rows) }),
    };
  };
  return {
    train: pick(c.labels, (i) => !held(i) && (c.subsample === 1 || keep(i))),
    val: pick('ferplus-majority', held),
  };
}

export async function loadFerSets(
  c: FerDataConfig,
  size: number,
  channels: number,
): Promise<FerSets> {
  const data = await readFer(c.fer);
  const { train: tr, val: va } = ferRunRows(data, c);
  const shape = [size, size, channels] as const;
  return {
    train: inMemoryData(
      await ferPixels(data, tr.indices, size, channels),
      tr.labels,
      shape,
      tr.targets,
    ),
    val: inMemoryData(await ferPixels(data, va.indices, size, channels), va.labels, shape),
    summary: `${shownPath(data.source)}: ${tr.labels.length} training images (${c.labels} labels${c.subsample < 1 ? `, ${c.subsample} subsample` : ''}), ${va.labels.length} held out (${c.holdout} of Training, FER+ majority)`,
  };
}
