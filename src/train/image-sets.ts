/**
 * Still-image FER datasets (RAF-DB, AffectNet, FER2013) as extra training data next to Aff-Wild2,
 * as the paper pre-trained on them: read with their own label files (src/data/readers), labels in
 * Aff-Wild2 order, each image resized to the crop size as RGB uint8 (these datasets ship aligned
 * face crops, so no detection). Images are decoded with sharp, a few at a time.
 */
import sharp from 'sharp';
import { z } from 'zod';
import {
  readAffectNet,
  readFer2013,
  readRafDb,
  type ImageSample,
} from '../data/readers/image-datasets.ts';
import { inMemoryData, type TrainingData } from '../data/dataset.ts';

export const imageSetSchema = z
  .object({
    format: z.enum(['rafdb', 'affectnet', 'fer2013']),
    /** RAF-DB: list_patition_label.txt; AffectNet: its CSV; FER2013: fer2013.csv. */
    labels: z.string(),
    /** Image folder (RAF-DB, AffectNet). */
    images: z.string().optional(),
    /** Keep only this split (RAF-DB 'train'/'test', FER2013 'Training'/…); default: all. */
    split: z.string().optional(),
  })
  .strict();
export type ImageSet = z.infer<typeof imageSetSchema>;

export async function readImageSet(
  set: ImageSet,
): Promise<{ samples: ImageSample[]; dropped: number }> {
  if (set.format !== 'fer2013' && !set.images)
    throw new Error(`${set.labels}: '${set.format}' needs "images" (the image folder)`);
  const r =
    set.format === 'rafdb'
      ? await readRafDb(set.labels, set.images as string)
      : set.format === 'affectnet'
        ? await readAffectNet(set.labels, set.images as string)
        : await readFer2013(set.labels);
  const samples = set.split ? r.samples.filter((s) => s.split === set.split) : r.samples;
  return { samples, dropped: r.dropped };
}

async function toRgb(s: ImageSample, size: number): Promise<Uint8Array> {
  const input = s.pixels
    ? sharp(Buffer.from(s.pixels), { raw: { width: 48, height: 48, channels: 1 } })
    : sharp(s.file as string);
  try {
    const out = await input
      .resize(size, size, { fit: 'fill' })
      .removeAlpha()
      .toColourspace('srgb')
      .raw()
      .toBuffer();
    // Grey inputs come back with one channel: replicate to RGB.
    if (out.length === size * size)
      return Uint8Array.from(
        { length: size * size * 3 },
        (_, i) => out[Math.floor(i / 3)] as number,
      );
    return new Uint8Array(out);
  } catch (err) {
    throw new Error(
      `${s.file ?? 'inline FER2013 pixels'}: cannot read the image (${(err as Error).message})`,
    );
  }
}

/** Decodes samples to size×size RGB, `parallel` at a time. */
export async function imageSamplesData(
  samples: readonly ImageSample[],
  size: number,
  parallel = 4,
): Promise<{ pixels: Uint8Array; labels: Int32Array }> {
  const per = size * size * 3;
  const pixels = new Uint8Array(samples.length * per);
  let next = 0;
  const work = async () => {
    while (next < samples.length) {
      const i = next++;
      pixels.set(await toRgb(samples[i] as ImageSample, size), i * per);
    }
  };
  await Promise.all(Array.from({ length: parallel }, work));
  return { pixels, labels: Int32Array.from(samples, (s) => s.label) };
}

/** Several training sets as one (the Aff-Wild2 crop cache plus image datasets). */
export function concatData(
  parts: readonly { pixels: Uint8Array; labels: Int32Array }[],
  size: number,
): TrainingData {
  const total = parts.reduce((n, p) => n + p.labels.length, 0);
  const per = size * size * 3;
  const pixels = new Uint8Array(total * per);
  const labels = new Int32Array(total);
  let at = 0;
  for (const p of parts) {
    pixels.set(p.pixels, at * per);
    labels.set(p.labels, at);
    at += p.labels.length;
  }
  return inMemoryData(pixels, labels, [size, size, 3]);
}
