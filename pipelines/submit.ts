/**
 * ABAW expression submissions from test videos: each distinct video analysed once through the
 * shared stages (VideoAnalyser: the live pipeline run losslessly + offline smoothing), then one
 * `<entry>.txt` per test entry (2021 format) or one CSV (later format). `checkSubmission` validates
 * a directory of `.txt` files against the decoded frame counts.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import { VideoAnalyser, type AnalyserOptions } from './annotate.ts';
import { findVideo } from '../src/video/find-video.ts';
export { findVideo };
import { decodeFrames } from '../src/video/decode.ts';
import { countFrames } from '../src/video/probe.ts';
import { cropFrames, listCropFrames } from '../src/video/image-frames.ts';
import { writeFileAtomic } from '../src/util/atomic.ts';
import type { FfmpegBinary } from '../src/video/ffmpeg-binary.ts';
import type { VideoAnalysis } from '../src/annotate/records.ts';
import {
  CSV_HEADER,
  checkTxt,
  csvRows,
  entryLabels,
  formatTxt,
  parseEntry,
} from '../src/annotate/submission.ts';

/** Test-set entry names from a list file (one per line; extensions dropped) or a directory of .txt files. */
export async function readEntryList(list: string): Promise<string[]> {
  const s = await stat(list).catch(() => {
    throw new Error(`--list ${list}: no such file or directory`);
  });
  const names = s.isDirectory()
    ? (await readdir(list)).filter((n) => n.endsWith('.txt')).map((n) => n.slice(0, -4))
    : (await readFile(list, 'utf8'))
        .split(/\r?\n/)
        .map((l) => l.trim())
        .filter((l) => l && !l.startsWith('#'))
        .map((l) => basename(l, extname(l)));
  if (names.length === 0) throw new Error(`--list ${list}: no entries`);
  return [...new Set(names)].sort();
}

export interface SubmitOptions extends AnalyserOptions {
  videosDir?: string;
  list: string;
  out: string;
  format?: 'txt' | 'csv';
  /** Read cropped_aligned/<entry>/NNNNN.jpg instead of decoding and detecting. */
  framesRoot?: string;
  force?: boolean;
  ffmpeg?: FfmpegBinary;
  onProgress?: (name: string, done: number, total: number | undefined) => void;
  onEntry?: (r: EntryResult) => void;
}

export interface EntryResult {
  name: string;
  status: 'done' | 'skipped' | 'failed';
  frames?: number;
  /** Frames without the entry's face, given the nearest frame's label. */
  filled?: number;
  error?: string;
}

export async function submit(o: SubmitOptions): Promise<EntryResult[]> {
  if (!o.videosDir && !o.framesRoot) throw new Error('give --videos <dir> (or --frames <dir>)');
  const entries = (await readEntryList(o.list)).map(parseEntry);
  const format = o.format ?? 'txt';
  const results: EntryResult[] = [];
  const csv: string[] = [];
  let analyser: VideoAnalyser | undefined;
  // Entries of one video (left/right) are consecutive after sorting: analyse it once.
  let cached: { key: string; video: VideoAnalysis } | undefined;
  try {
    for (const entry of entries) {
      const target = join(o.out, `${entry.name}.txt`);
      if (format === 'txt' && !o.force && (await stat(target).catch(() => undefined))) {
        results.push({ name: entry.name, status: 'skipped' });
        o.onEntry?.(results.at(-1) as EntryResult);
        continue;
      }
      try {
        // Every frame detected unless asked otherwise: a submission is scored frame by frame.
        analyser ??= await VideoAnalyser.create({
          ...o,
          detectEvery: o.detectEvery ?? 1,
          crops: Boolean(o.framesRoot),
        });
        let video: VideoAnalysis;
        let frameCount: number;
        if (o.framesRoot) {
          const dir = join(o.framesRoot, entry.name);
          const crops = await listCropFrames(dir);
          video = await analyser.analyse(
            entry.name,
            dir,
            cropFrames(dir, { sourceId: entry.name }),
            (n) => o.onProgress?.(entry.name, n, crops.length),
          );
          // Line count: the video's decoded frames when we have it, else up to the last crop.
          frameCount = o.videosDir
            ? await countFrames(await findVideo(o.videosDir, entry), o.ffmpeg)
            : (crops.at(-1)?.index ?? 0) + 1;
          video = padFrames(video, frameCount);
        } else {
          const file = await findVideo(o.videosDir as string, entry);
          if (cached?.key !== file) {
            cached = undefined;
            const v = await analyser.analyse(
              entry.video,
              file,
              decodeFrames(file, { sourceId: entry.video, ...(o.ffmpeg && { ffmpeg: o.ffmpeg }) }),
              (n) => o.onProgress?.(entry.name, n, undefined),
            );
            cached = { key: file, video: v };
          }
          video = cached.video;
          frameCount = video.frames.length;
        }
        const { labels, filled } = entryLabels(video, {
          ...entry,
          side: o.framesRoot ? undefined : entry.side,
        });
        if (labels.length !== frameCount)
          throw new Error(`internal: ${labels.length} labels for ${frameCount} frames`);
        if (format === 'txt') await writeFileAtomic(target, formatTxt(labels));
        else csv.push(...csvRows(entry.name, labels));
        results.push({ name: entry.name, status: 'done', frames: labels.length, filled });
      } catch (err) {
        results.push({ name: entry.name, status: 'failed', error: (err as Error).message });
      }
      o.onEntry?.(results.at(-1) as EntryResult);
    }
  } finally {
    await analyser?.close();
  }
  if (format === 'csv' && csv.length)
    await writeFileAtomic(join(o.out, 'predictions.csv'), `${CSV_HEADER}\n${csv.join('\n')}\n`);
  return results;
}

/** Crops may be missing for some frames (and at the end): faceless records fill every index. */
function padFrames(video: VideoAnalysis, count: number): VideoAnalysis {
  const byIndex = new Map(video.frames.map((f) => [f.index, f]));
  return {
    ...video,
    frames: Array.from(
      { length: count },
      (_, i) => byIndex.get(i) ?? { index: i, pts: NaN, faces: [] },
    ),
  };
}

export interface CheckReport {
  files: number;
  problems: string[];
}

/**
 * Validates every `.txt` in `dir`: header, labels 0..6, and — given the videos (or the entry
 * list's frame counts) — one line per decoded frame.
 */
export async function checkSubmission(
  dir: string,
  o: { videosDir?: string; ffmpeg?: FfmpegBinary; list?: string } = {},
): Promise<CheckReport> {
  const names = (await readdir(dir)).filter((n) => n.endsWith('.txt')).sort();
  const problems: string[] = [];
  if (names.length === 0) problems.push(`${dir}: no .txt submission files`);
  if (o.list) {
    const expected = await readEntryList(o.list);
    const have = new Set(names.map((n) => n.slice(0, -4)));
    for (const e of expected)
      if (!have.has(e)) problems.push(`${join(dir, `${e}.txt`)}: missing (listed in ${o.list})`);
  }
  const counts = new Map<string, number>();
  for (const n of names) {
    const file = join(dir, n);
    let expected: number | undefined;
    if (o.videosDir) {
      const entry = parseEntry(n.slice(0, -4));
      try {
        const video = await findVideo(o.videosDir, entry);
        expected = counts.get(video) ?? (await countFrames(video, o.ffmpeg));
        counts.set(video, expected);
      } catch (err) {
        problems.push(`${file}: ${(err as Error).message}`);
      }
    }
    problems.push(...checkTxt(file, await readFile(file, 'utf8'), expected));
  }
  return { files: names.length, problems };
}
