/**
 * Aff-Wild2 ingest: decode → detect → pick the entry's face → align/crop, with the serving
 * pipeline's own stages (frameSource, detectFaces, cropFaces), into the crop cache. Label line i is
 * paired with decoded frame i (passthrough timing; the line count is checked against an exact
 * decode count first). Resumable per entry; frames can be sub-sampled.
 */
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { filter, lastValueFrom, map, tap } from 'rxjs';
import { frameSource } from '../stream/frame-source.ts';
import { cropFaces, detectFaces, type FrameDetector } from '../stream/operators.ts';
import { decodeFrames } from '../video/decode.ts';
import { countFrames } from '../video/probe.ts';
import { findVideo } from '../video/find-video.ts';
import { cropFrames, listCropFrames } from '../video/image-frames.ts';
import { pickFace } from '../annotate/submission.ts';
import { writeFileAtomic } from '../util/atomic.ts';
import { reconcileFrames, type AffWild2Annotation } from '../data/readers/affwild2.ts';
import { readCacheEntry, type CacheEntry } from './crop-cache.ts';
import type { FfmpegBinary } from '../video/ffmpeg-binary.ts';
import type { Frame } from '../video/decode.ts';
import type { CropMode } from '../models/preprocess.ts';

export interface IngestOptions {
  videosDir: string;
  cacheDir: string;
  detector: FrameDetector;
  crop?: CropMode;
  size?: number;
  /** Keep every n-th labelled frame (default 1: all). */
  everyNth?: number;
  /** Read cropped_aligned/<entry>/NNNNN.jpg instead (the crop is the face; no detection). */
  framesRoot?: string;
  ffmpeg?: FfmpegBinary;
  onProgress?: (entry: string, done: number, total: number) => void;
}

export interface IngestResult {
  entry: string;
  status: 'done' | 'cached' | 'failed';
  cache?: CacheEntry;
  error?: string;
}

/** The cache key of an entry's crops: its labels' content, the sub-sampling and the frame source. */
export function ingestKey(a: AffWild2Annotation, everyNth: number, framesRoot?: string): string {
  return createHash('sha256')
    .update(Buffer.from(a.labels.buffer, a.labels.byteOffset, a.labels.byteLength))
    .update(`|nth=${everyNth}|${framesRoot ? 'cropped_aligned' : 'video'}|${a.video}`)
    .digest('hex')
    .slice(0, 16);
}

export async function ingestEntry(a: AffWild2Annotation, o: IngestOptions): Promise<IngestResult> {
  const crop = o.crop ?? 'aligned';
  const size = o.size ?? 112;
  const nth = o.everyNth ?? 1;
  const cached = await readCacheEntry(o.cacheDir, a.entry);
  const key = ingestKey(a, nth, o.framesRoot);
  if (cached && cached.size === size && cached.crop === crop && cached.key === key)
    return { entry: a.entry, status: 'cached', cache: cached };
  try {
    let frames: AsyncIterable<Frame>;
    let decoded: number;
    let labels: Int8Array;
    let note: string | undefined;
    if (o.framesRoot) {
      const dir = join(o.framesRoot, a.entry);
      const files = await listCropFrames(dir);
      decoded = a.labels.length;
      labels = a.labels;
      if ((files.at(-1)?.index ?? 0) >= a.labels.length)
        throw new Error(
          `${dir}: crop ${files.at(-1)!.index + 1} is past the ${a.labels.length} label lines of ${a.file}`,
        );
      frames = cropFrames(dir, { sourceId: a.entry });
    } else {
      const video = await findVideo(o.videosDir, { name: a.entry, video: a.video });
      decoded = await countFrames(video, o.ffmpeg);
      ({ labels, note } = reconcileFrames(a, decoded));
      frames = decodeFrames(video, { sourceId: a.entry, ...(o.ffmpeg && { ffmpeg: o.ffmpeg }) });
    }
    await mkdir(o.cacheDir, { recursive: true });
    const tmp = join(o.cacheDir, `.${a.entry}.u8.tmp-${process.pid}`);
    const out = createWriteStream(tmp);
    const kept: { frame: number; label: number }[] = [];
    const skipped = { unlabelled: 0, noFace: 0, subsampled: 0 };
    let labelled = 0;
    const source = frameSource(frames, { policy: 'pull', credits: 2 });
    const wanted = (f: Frame) => {
      const label = labels[f.index] ?? -1;
      if (label < 0) return (skipped.unlabelled++, false);
      if (labelled++ % nth !== 0) return (skipped.subsampled++, false);
      return true;
    };
    try {
      await lastValueFrom(
        source.frames$.pipe(
          filter((f) => wanted(f) || (source.ack(), false)),
          map((frame) => ({ frame, receivedAt: 0, dropped: 0 })),
          detectFaces(o.detector),
          map((job) => {
            const face = pickFace(job.detections, a.side, job.frame.width);
            return { ...job, faces: face ? [{ ...face, id: 1 }] : [] };
          }),
          cropFaces([{ mode: crop, size }]),
          tap((job) => {
            const c = job.crops[crop];
            if (!c) skipped.noFace++;
            else {
              out.write(Uint8Array.from(c, (v) => Math.round(v * 255)));
              kept.push({ frame: job.frame.index, label: labels[job.frame.index] as number });
            }
            o.onProgress?.(a.entry, job.frame.index + 1, decoded);
            source.ack();
          }),
        ),
        { defaultValue: undefined },
      );
      await new Promise<void>((resolve, reject) =>
        out.end((err?: Error | null) => (err ? reject(err) : resolve())),
      );
    } catch (err) {
      out.destroy();
      await rm(tmp, { force: true });
      throw err;
    }
    await rename(tmp, join(o.cacheDir, `${a.entry}.u8`));
    const entry: CacheEntry = {
      entry: a.entry,
      video: a.video,
      crop,
      size,
      count: kept.length,
      frames: kept.map((k) => k.frame),
      labels: kept.map((k) => k.label),
      decodedFrames: decoded,
      skipped,
      ...(note && { note }),
      key,
    };
    await writeFileAtomic(join(o.cacheDir, `${a.entry}.json`), JSON.stringify(entry));
    return { entry: a.entry, status: 'done', cache: entry };
  } catch (err) {
    return { entry: a.entry, status: 'failed', error: (err as Error).message };
  }
}
