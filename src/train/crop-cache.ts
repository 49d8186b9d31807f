/**
 * The on-disk crop cache training reads: per annotation entry, `<entry>.u8` (n × S × S × 3 uint8,
 * the aligned or box crops) and `<entry>.json` (frame index and label of each crop, what was
 * skipped and why). The JSON is written last, atomically: it marks the entry complete, so a
 * killed ingest resumes at the first entry without one.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { inMemoryData, type TrainingData } from '../data/dataset.ts';
import { CROP_MODES } from '../models/preprocess.ts';

export const cacheEntrySchema = z.object({
  entry: z.string(),
  video: z.string(),
  crop: z.enum(CROP_MODES),
  size: z.number().int().positive(),
  count: z.number().int().nonnegative(),
  frames: z.array(z.number().int().nonnegative()),
  labels: z.array(z.number().int().min(0)),
  decodedFrames: z.number().int().nonnegative(),
  skipped: z.object({ unlabelled: z.number(), noFace: z.number(), subsampled: z.number() }),
  note: z.string().optional(),
  /**
   * What the crops were made from besides crop and size: the annotation's labels and the frame
   * sub-sampling, hashed (ingestKey). An entry made from other labels is ingested again.
   */
  key: z.string().optional(),
});
export type CacheEntry = z.infer<typeof cacheEntrySchema>;

export async function readCacheEntry(dir: string, entry: string): Promise<CacheEntry | undefined> {
  const text = await readFile(join(dir, `${entry}.json`), 'utf8').catch(() => undefined);
  if (text === undefined) return undefined;
  const parsed = cacheEntrySchema.safeParse(JSON.parse(text));
  if (!parsed.success)
    throw new Error(
      `${join(dir, `${entry}.json`)}: not a crop-cache entry (${parsed.error.issues[0]?.message})`,
    );
  return parsed.data;
}

/** All complete entries of a cache directory as one in-memory training set. */
export async function loadCropCache(
  dir: string,
): Promise<{ data: TrainingData; entries: CacheEntry[]; pixels: Uint8Array; labels: Int32Array }> {
  const names = (await readdir(dir)).filter((n) => n.endsWith('.json')).sort();
  const entries: CacheEntry[] = [];
  for (const n of names) entries.push((await readCacheEntry(dir, n.slice(0, -5))) as CacheEntry);
  if (entries.length === 0) throw new Error(`${dir}: the crop cache is empty`);
  const size = entries[0]!.size;
  const bad = entries.find((e) => e.size !== size);
  if (bad)
    throw new Error(
      `${dir}: entries of different crop sizes (${size} and ${bad.size}); use one cache per size`,
    );
  const per = size * size * 3;
  const total = entries.reduce((n, e) => n + e.count, 0);
  const pixels = new Uint8Array(total * per);
  const labels = new Int32Array(total);
  let at = 0;
  for (const e of entries) {
    const bytes = await readFile(join(dir, `${e.entry}.u8`));
    if (bytes.length !== e.count * per)
      throw new Error(
        `${join(dir, `${e.entry}.u8`)}: ${bytes.length} bytes, expected ${e.count * per}`,
      );
    pixels.set(bytes, at * per);
    labels.set(e.labels, at);
    at += e.count;
  }
  return { data: inMemoryData(pixels, labels, [size, size, 3]), entries, pixels, labels };
}
