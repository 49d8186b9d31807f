/**
 * Offline annotation: the same per-source analysis as live (analyseSource) run losslessly over whole
 * videos — every frame, in order — then offline (centred) smoothing over each track, and per video
 * a directory of outputs committed atomically:
 *
 *   <out>/<video>/frames.csv     one row per frame per face (a faceless frame: one row, no face)
 *   <out>/<video>/frames.jsonl   one JSON object per frame
 *   <out>/<video>/summary.json   per face: frames, dominant expression, time share per class
 *   <out>/<video>/annotated.mp4  (optional) boxes and labels drawn, original audio kept
 *
 * A video whose directory exists is done: re-running skips it unless `force`. The tables are
 * streamed into a hidden `.<video>.tmp-*` directory as frames become final (flat memory), which is
 * renamed into place at the end; a killed run leaves only such directories, removed on the next run.
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import { readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, isAbsolute, join } from 'node:path';
import { lastValueFrom, map, tap } from 'rxjs';
import { DEFAULT_BUNDLE } from '../src/package-paths.ts';
import { DetectorWorker, type DetectorWorkerOptions } from '../src/stream/detector-worker.ts';
import { frameSource } from '../src/stream/frame-source.ts';
import { analyseSource } from '../src/stream/analyse-source.ts';
import { BatchingClassifier, type FrameDetector } from '../src/stream/operators.ts';
import { ExpressionAnalyzer, type InferenceEngine } from '../src/models/analyzer.ts';
import { startServices } from './start-services.ts';
import { decodeFrames } from '../src/video/decode.ts';
import { probeVideo, type VideoInfo } from '../src/video/probe.ts';
import { ffmpegVersion, resolveFfmpeg } from '../src/video/ffmpeg-binary.ts';
import { resolveSource } from '../src/video/source.ts';
import { openDirAtomic } from '../src/util/atomic.ts';
import { CentredSmoothingStream } from '../src/annotate/centred-stream.ts';
import { parseSmoothing, type SmoothingChoice } from '../src/stream/smoothing-spec.ts';
import type { DetectorModel } from '../src/faces/detector.ts';
import { DEFAULT_DETECT_EVERY } from '../src/faces/carry-detections.ts';
import type { FfmpegBinary } from '../src/video/ffmpeg-binary.ts';
import type { Frame } from '../src/video/decode.ts';
import {
  smoothOffline,
  SummaryBuilder,
  toRecord,
  type FrameRecord,
  type VideoAnalysis,
  type VideoSummary,
} from '../src/annotate/records.ts';
import { csvHeaderLine, csvRows, jsonLine } from '../src/annotate/tables.ts';
import { TimelineSeries, timelineSvg } from '../src/annotate/timeline.ts';
import { reportHtml } from '../src/annotate/report-html.ts';
import type { AnalysedFrame } from '../src/stream/types.ts';

import { VIDEO_EXTENSIONS } from '../src/video/find-video.ts';
export { parseSmoothing, type SmoothingChoice };
import { outputKey, uniqueSourceNames } from '../src/video/source-names.ts';
export { VIDEO_EXTENSIONS };

export interface AnalyserOptions {
  bundle?: string;
  engine?: InferenceEngine;
  threads?: number;
  detector?: DetectorModel;
  /** Detect on every k-th frame, carry faces in between (default DEFAULT_DETECT_EVERY). */
  detectEvery?: number;
  smoothing?: SmoothingChoice;
  /** Read `cropped_aligned`-style crops instead of detecting faces. */
  crops?: boolean;
}

/**
 * One analyser (model, detection worker, batching classifier) shared by every video of a run; each
 * video is its own analyseSource subscription, so a failing video fails alone.
 */
export class VideoAnalyser {
  private readonly classifier: BatchingClassifier;
  /** Set while a dead detection worker is being replaced. */
  private respawn: Promise<void> | undefined;

  private constructor(
    private readonly analyzer: ExpressionAnalyzer,
    private worker: DetectorWorker | undefined,
    private readonly workerOptions: DetectorWorkerOptions | undefined,
    readonly smoothing: SmoothingChoice,
    private readonly detectEvery: number,
  ) {
    this.classifier = new BatchingClassifier(analyzer);
  }

  static async create(o: AnalyserOptions = {}): Promise<VideoAnalyser> {
    const { analyzer, worker, workerOptions } = await startServices({
      bundle: o.bundle ?? DEFAULT_BUNDLE,
      ...(o.engine && { engine: o.engine }),
      ...(o.threads && { threads: o.threads }),
      ...(o.detector && { detector: o.detector }),
      noDetector: Boolean(o.crops),
    });
    return new VideoAnalyser(
      analyzer,
      worker,
      workerOptions,
      o.smoothing ?? parseSmoothing('gaussian:3'),
      o.detectEvery ?? DEFAULT_DETECT_EVERY,
    );
  }

  /** A video that killed the detection worker fails; the next one gets a fresh worker. */
  private async detector(): Promise<FrameDetector> {
    if (this.worker?.dead && this.workerOptions) {
      this.respawn ??= (async () => {
        await this.worker?.close();
        this.worker = await DetectorWorker.create(this.workerOptions as DetectorWorkerOptions);
      })().finally(() => (this.respawn = undefined));
      await this.respawn;
    }
    if (this.worker) return this.worker;
    return (await import('../src/video/image-frames.ts')).wholeImageDetector;
  }

  get classes(): string[] {
    return [...this.analyzer.classes];
  }

  get modelName(): string {
    return this.analyzer.manifest.name;
  }

  /** Every frame of `frames`, analysed in order; rejects if the source fails. */
  async analyse(
    id: string,
    input: string,
    frames: AsyncIterable<Frame>,
    onFrame?: (done: number) => void,
    /** Sees each analysed frame while its pixels are still there (report thumbnails). */
    onResult?: (result: AnalysedFrame) => void,
  ): Promise<VideoAnalysis> {
    const records: FrameRecord[] = [];
    const size = await this.run(input, frames, (r) => records.push(r), onFrame, onResult);
    let video: VideoAnalysis = { id, input, ...size, classes: this.classes, frames: records };
    if (this.smoothing.offline) video = smoothOffline(video, this.smoothing.offline);
    return video;
  }

  /**
   * The same analysis, streamed: `onFinal` gets each frame's record once its offline smoothing is
   * final (a window's radius later), so memory stays flat however long the video.
   */
  async analyseStream(
    input: string,
    frames: AsyncIterable<Frame>,
    onFinal: (record: FrameRecord) => void,
    onFrame?: (done: number) => void,
    onResult?: (result: AnalysedFrame) => void,
  ): Promise<{ width: number; height: number }> {
    const smoother =
      this.smoothing.offline && new CentredSmoothingStream(this.smoothing.offline, this.classes);
    const size = await this.run(
      input,
      frames,
      (r) => {
        for (const f of smoother ? smoother.push(r) : [r]) onFinal(f);
      },
      onFrame,
      onResult,
    );
    for (const f of smoother ? smoother.flush() : []) onFinal(f);
    return size;
  }

  /** Decode → detect → track → classify → causal smoothing; each frame's record to `each`. */
  private async run(
    input: string,
    frames: AsyncIterable<Frame>,
    each: (record: FrameRecord) => void,
    onFrame?: (done: number) => void,
    onResult?: (result: AnalysedFrame) => void,
  ): Promise<{ width: number; height: number }> {
    const detector = await this.detector();
    let count = 0;
    let size = { width: 0, height: 0 };
    // Two frames in flight per detection: one detected while the one before it (and the frames
    // carried after it) are classified. With fewer, the detector waits on classification.
    const source = frameSource(frames, { policy: 'pull', credits: 2 * this.detectEvery });
    await lastValueFrom(
      source.frames$.pipe(
        map((frame) => ({ frame, receivedAt: Date.now(), dropped: 0 })),
        analyseSource({
          detector,
          classifier: this.classifier,
          smoothing: this.smoothing.causal,
          detectEvery: this.detectEvery,
        }),
        tap((result) => {
          source.ack();
          size = { width: result.frame.width, height: result.frame.height };
          onResult?.(result);
          each(toRecord(result));
          // Not `onFrame?.(++count)`: without a callback the argument is never evaluated.
          count++;
          onFrame?.(count);
        }),
      ),
      { defaultValue: undefined },
    );
    if (count === 0) throw new Error(`${input}: no frames`);
    return size;
  }

  async close(): Promise<void> {
    await this.respawn;
    await this.worker?.close();
    await this.analyzer.dispose();
  }
}

/** Ends a write stream; rejects with its error (a full disk fails the video, not silently). */
function closeStream(stream: WriteStream): Promise<void> {
  return new Promise((resolve, reject) => {
    stream.once('error', reject);
    stream.end(() => resolve());
  });
}

/** `gaussian sigma 3 (centred)`, `ema halfLifeMs 300`: the smoothing, for people. */
function describeSmoothing(s: SmoothingChoice): string {
  const words = (o: object) =>
    Object.entries(o)
      .map(([k, v]) => (k === 'method' ? String(v) : `${k} ${String(v)}`))
      .join(' ');
  return s.offline ? `${words(s.offline)} (centred)` : words(s.causal);
}

/** Expands directories into the video files they hold (sorted) and list files (.txt/.list) into their lines; files and URLs pass through. */
export async function expandInputs(inputs: readonly string[]): Promise<string[]> {
  const out: string[] = [];
  for (const input of inputs) {
    if (/^[a-z]+:\/\//i.test(input) || input.startsWith('webcam')) {
      out.push(input);
      continue;
    }
    const s = await stat(input).catch(() => undefined);
    if (s?.isFile() && /\.(txt|list)$/i.test(input)) {
      // A list file: one video, folder or URL per line; blank lines and # comments skipped,
      // relative paths taken from the list's folder.
      const lines = (await readFile(input, 'utf8'))
        .split(/\r?\n/)
        .map((l) => l.trim())
        .filter((l) => l && !l.startsWith('#'))
        .map((l) => (/^[a-z]+:\/\//i.test(l) || isAbsolute(l) ? l : join(dirname(input), l)));
      if (lines.length === 0) throw new Error(`${input}: the list names no videos`);
      out.push(...(await expandInputs(lines)));
    } else if (s?.isDirectory()) {
      const names = (await readdir(input)).filter((n) => VIDEO_EXTENSIONS.test(n)).sort();
      if (names.length === 0)
        throw new Error(`${input}: no video files (${VIDEO_EXTENSIONS.source}) in this directory`);
      out.push(...names.map((n) => join(input, n)));
    } else out.push(input);
  }
  return out;
}

export interface AnnotateOptions extends AnalyserOptions {
  out: string;
  /** Videos analysed at once (default 1; they share the model and the detection worker). */
  jobs?: number;
  force?: boolean;
  /** Also write annotated.mp4. */
  video?: boolean;
  /** Write timeline.svg and report.html per video (default true). */
  report?: boolean;
  /** With `crops`: the `cropped_aligned` root; inputs are video names (or none: every folder). */
  framesRoot?: string;
  maxSize?: number;
  ffmpeg?: FfmpegBinary;
  pathEnv?: string;
  /** Written into summary.json: the queue's key for the options these outputs were made with. */
  optionsKey?: string;
  /** Progress: frames done of an estimated total, per video. */
  onProgress?: (id: string, done: number, total: number | undefined) => void;
  onVideo?: (result: AnnotateResult) => void;
}

export interface AnnotateResult {
  id: string;
  input: string;
  status: 'done' | 'skipped' | 'failed';
  dir: string;
  summary?: VideoSummary;
  error?: string;
  frames?: number;
  seconds?: number;
}

/** The container's estimate of a video's frames, and its probe (decoding reuses it). */
async function estimateFrames(
  input: string,
  o: AnnotateOptions,
): Promise<{ total: number | undefined; info?: VideoInfo }> {
  if (o.crops) {
    const { listCropFrames } = await import('../src/video/image-frames.ts');
    return { total: (await listCropFrames(input)).length };
  }
  try {
    const [info] = await Promise.all([
      probeVideo(input, o.ffmpeg),
      // Warms the cached `ffmpeg -version` that decoding asks for, meanwhile.
      ffmpegVersion(o.ffmpeg ?? resolveFfmpeg()).catch(() => undefined),
    ]);
    return {
      total: info.fps && info.duration ? Math.round(info.fps * info.duration) : undefined,
      info,
    };
  } catch {
    return { total: undefined };
  }
}

export async function annotateVideos(
  inputs: readonly string[],
  o: AnnotateOptions,
): Promise<AnnotateResult[]> {
  const list = o.crops
    ? inputs.length
      ? inputs.map((name) => join(o.framesRoot as string, name))
      : (await readdir(o.framesRoot as string, { withFileTypes: true }))
          .filter((d) => d.isDirectory())
          .map((d) => join(o.framesRoot as string, d.name))
          .sort()
    : await expandInputs(inputs);
  const ids = uniqueSourceNames(list);
  const jobs = list.map((input, i) => ({
    input,
    id: ids[i] as string,
    dir: join(o.out, outputKey(input)),
  }));
  // Leftovers of killed runs: hidden temporary directories; never a complete-looking output.
  for (const name of await readdir(o.out).catch(() => [] as string[]))
    if (/^\..+\.tmp-/.test(name)) await rm(join(o.out, name), { recursive: true, force: true });

  const results: AnnotateResult[] = new Array(jobs.length);
  // One promise, not one analyser per concurrent caller: jobs start together.
  let analyser: Promise<VideoAnalyser> | undefined;
  const getAnalyser = () => (analyser ??= VideoAnalyser.create(o));
  let next = 0;
  const worker = async () => {
    while (next < jobs.length) {
      const i = next++;
      const job = jobs[i] as (typeof jobs)[number];
      results[i] = await annotateVideo(job, o, getAnalyser);
      o.onVideo?.(results[i] as AnnotateResult);
    }
  };
  try {
    await Promise.all(
      Array.from({ length: Math.max(1, Math.min(o.jobs ?? 1, jobs.length)) }, worker),
    );
  } finally {
    await (await analyser?.catch(() => undefined))?.close();
  }
  return results;
}

/**
 * One video: analysed with the shared analyser, its outputs written atomically to `job.dir`; a
 * failure is returned (with the file named), never thrown. The queue worker runs the same.
 */
export async function annotateVideo(
  job: { input: string; id: string; dir: string },
  o: AnnotateOptions,
  getAnalyser: () => Promise<VideoAnalyser>,
): Promise<AnnotateResult> {
  const { input, id, dir } = job;
  if (!o.force) {
    const existing = await readFile(join(dir, 'summary.json'), 'utf8').catch(() => undefined);
    if (existing)
      return { id, input, dir, status: 'skipped', summary: JSON.parse(existing) as VideoSummary };
  }
  const t0 = performance.now();
  try {
    // The model's start and the container probe overlap (each is a few hundred ms cold).
    const [analyser, { total, info }] = await Promise.all([
      getAnalyser(),
      estimateFrames(input, o),
    ]);
    o.onProgress?.(id, 0, total);
    let frames: AsyncIterable<Frame>;
    if (o.crops) {
      const { cropFrames } = await import('../src/video/image-frames.ts');
      frames = cropFrames(input, { sourceId: id });
    } else {
      const src = await resolveSource(input, {
        ...(o.pathEnv !== undefined && { pathEnv: o.pathEnv }),
      });
      frames = decodeFrames(src.input, {
        sourceId: id,
        ...(src.format && { format: src.format }),
        ...(o.maxSize && { maxSize: o.maxSize }),
        ...(o.ffmpeg && { ffmpeg: o.ffmpeg }),
        // A URL or device may resolve to another input: its probe is the resolved one's.
        ...(info && src.input === input && !src.format && { probed: info }),
      });
    }
    // The report's and the MP4's modules (sharp, canvas drawing) load only when they are wanted.
    const thumbnails =
      o.report === false
        ? undefined
        : new (await import('../src/annotate/track-thumbnails.ts')).TrackThumbnails();
    // Tables are written as frames become final, into the hidden folder that becomes `dir`
    // by one rename at the end: memory stays flat however long the video.
    const classes = analyser.classes;
    const pending = await openDirAtomic(dir);
    try {
      const csv = createWriteStream(join(pending.path, 'frames.csv'));
      const jsonl = createWriteStream(join(pending.path, 'frames.jsonl'));
      csv.write(csvHeaderLine(classes));
      const summaries = new SummaryBuilder(classes);
      const series = thumbnails && new TimelineSeries();
      // Only the MP4 needs every record at once (it draws them over a second decode).
      const kept: FrameRecord[] | undefined = o.video && !o.crops ? [] : undefined;
      let count = 0;
      await analyser.analyseStream(
        input,
        frames,
        (f) => {
          count++;
          csv.write(csvRows(f, classes.length));
          jsonl.write(jsonLine(f));
          summaries.add(f);
          series?.add(f);
          kept?.push(f);
        },
        (n) => o.onProgress?.(id, n, total),
        thumbnails && ((r) => thumbnails.add(r)),
      );
      await Promise.all([closeStream(csv), closeStream(jsonl)]);
      const summary = summaries.result(id, input);
      const files = new Map<string, string | Uint8Array>();
      if (kept) {
        const { renderAnnotatedVideo } = await import('../src/annotate/render-video.ts');
        await renderAnnotatedVideo(input, kept, classes, join(pending.path, 'annotated.mp4'), {
          ...(o.ffmpeg && { ffmpeg: o.ffmpeg }),
          ...(o.maxSize && { maxSize: o.maxSize }),
        });
      }
      if (thumbnails && series) {
        const svg = await timelineSvg(series, classes);
        files.set('timeline.svg', svg);
        files.set(
          'report.html',
          reportHtml({
            summary,
            classes,
            model: analyser.modelName,
            smoothing: describeSmoothing(analyser.smoothing),
            timelineSvg: svg,
            thumbnails: await thumbnails.jpegs(),
          }),
        );
      }
      files.set(
        'summary.json',
        JSON.stringify(
          {
            ...summary,
            model: analyser.modelName,
            smoothing: analyser.smoothing,
            classes,
            ...(o.optionsKey && { optionsKey: o.optionsKey }),
          },
          null,
          2,
        ),
      );
      for (const [name, bytes] of files) await writeFile(join(pending.path, name), bytes);
      await pending.commit();
      return {
        id,
        input,
        dir,
        status: 'done',
        summary,
        frames: count,
        seconds: (performance.now() - t0) / 1000,
      };
    } catch (err) {
      await pending.abort();
      throw err;
    }
  } catch (err) {
    const message = (err as Error).message;
    // Name the file: the pipeline knows the video only by its id.
    return {
      id,
      input,
      dir,
      status: 'failed',
      error: message.includes(input) ? message : `${input}: ${message}`,
    };
  }
}
