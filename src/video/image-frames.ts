/**
 * The organisers' `cropped_aligned/<video>/NNNNN.jpg` frames (5 digits, 1-based; some missing) as a
 * frame source, and a "detector" that reports the whole crop as the one face: so a model trained
 * on those crops is served on the same crops through the same pipeline stages.
 */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import type { Frame } from './decode.ts';
import type { FaceDetection } from '../faces/detector.ts';
import { template } from '../faces/align.ts';
import { VideoInputError } from './probe.ts';

const NAME = /^(\d{5})\.(jpe?g|png)$/i;

/** The crop files of one video, sorted by frame number (0-based `index` = number − 1). */
export async function listCropFrames(dir: string): Promise<{ index: number; file: string }[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    throw new VideoInputError(
      dir,
      `cannot read the cropped frames: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
    );
  }
  const files = names
    .map((n) => ({ m: NAME.exec(n), n }))
    .filter((x) => x.m)
    .map(({ m, n }) => ({ index: Number(m![1]) - 1, file: join(dir, n) }))
    .sort((a, b) => a.index - b.index);
  if (files.length === 0) throw new VideoInputError(dir, 'no NNNNN.jpg frames in this directory');
  return files;
}

/** Decodes the crops as frames; pts = index / fps (the crops carry no timestamps). */
export async function* cropFrames(
  dir: string,
  options: { sourceId?: string; fps?: number } = {},
): AsyncGenerator<Frame> {
  const fps = options.fps ?? 30;
  for (const { index, file } of await listCropFrames(dir)) {
    let decoded: { data: Buffer; info: { width: number; height: number } };
    try {
      decoded = await sharp(file).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
    } catch (err) {
      throw new VideoInputError(file, `not a readable image: ${(err as Error).message}`);
    }
    yield {
      sourceId: options.sourceId ?? dir,
      index,
      pts: index / fps,
      width: decoded.info.width,
      height: decoded.info.height,
      data: new Uint8Array(decoded.data),
    };
  }
}

/**
 * Reports each (already aligned) crop as one face filling it, with keypoints where the alignment
 * template puts them, so 'aligned' crops of it are the crop itself resized.
 */
export const wholeImageDetector = {
  detect(frame: { width: number; height: number }): FaceDetection[] {
    const pts = template(frame.width).map(
      ([x, y]) => [x, (y * frame.height) / frame.width] as [number, number],
    );
    return [
      {
        box: { x: 0, y: 0, width: frame.width, height: frame.height },
        score: 1,
        // BlazeFace order: right eye, left eye, nose tip, mouth; the ears are not used.
        keypoints: [...pts, pts[0]!, pts[1]!],
      },
    ];
  },
};
