/** `cctfer annotate`: per-frame, per-face expression tables (and optionally an annotated MP4) for videos. */
import { Command, Option } from 'commander';
import { join } from 'node:path';
import cliProgress from 'cli-progress';
import type { AnnotateResult } from '../../pipelines/annotate.ts';
import type { VideoSummary } from '../annotate/records.ts';
import type { parseBackendName } from '../engine/backend-name.ts';
import type { parseSmoothing } from '../stream/smoothing-spec.ts';
import {
  cliFfmpeg,
  offlineSmoothingOption,
  positiveInt,
  withDetectorOptions,
  withModelOptions,
} from './options.ts';
import { parseRedisUrl } from '../queue/redis-url.ts';
import { failure } from '../queue/annotate-jobs.ts';

export function annotateCommand(): Command {
  return withDetectorOptions(
    withModelOptions(
      new Command('annotate').description(
        'analyse videos offline: a CSV and JSON-lines row per frame per face, a summary, optionally an annotated MP4',
      ),
    ),
  )
    .argument(
      '[inputs...]',
      'video files, directories of videos, or URLs (with --frames: video names)',
    )
    .requiredOption('-o, --out <dir>', 'output directory (one sub-directory per video)')
    .addOption(offlineSmoothingOption())
    .option('--video', 'also write annotated.mp4 (boxes, ids, labels; original audio)', false)
    .option('--no-report', 'skip timeline.svg and report.html (written per video by default)')
    .option(
      '--frames <dir>',
      "read the organisers' cropped_aligned/<video>/NNNNN.jpg crops instead of decoding and detecting",
    )
    .option('-j, --jobs <n>', 'videos analysed at once', positiveInt('--jobs'), 1)
    .option(
      '--max-size <px>',
      'scale frames down so the longer side is at most this',
      positiveInt('--max-size'),
    )
    .option('--force', 're-analyse videos whose outputs exist', false)
    .option('--quiet', 'no progress bars', false)
    .addOption(
      new Option(
        '--queue <url>',
        'enqueue one job per video on this Redis (redis://host:port/db) for `cctfer worker`s instead of analysing here; --out must be storage every worker sees',
      ).argParser(parseRedisUrl),
    )
    .option('--wait', 'with --queue: show progress until every job is done or failed', false)
    .option(
      '--attempts <n>',
      'with --queue: tries per video before its job fails',
      positiveInt('--attempts'),
      3,
    )
    .option(
      '--retry-delay <s>',
      'with --queue: seconds before the first retry (doubling after each)',
      positiveInt('--retry-delay'),
      5,
    )
    .action(async (inputs: string[], opts) => {
      if ((opts as { queue?: unknown }).queue) {
        await enqueueAndWait(inputs, opts as QueueOptions);
        return;
      }
      // Loaded when the command runs, so that `--help` and other commands do not pay for it.
      const { annotateVideos } = await import('../../pipelines/annotate.ts');
      const { summaryTable } = await import('../annotate/records.ts');
      const { initBackend } = await import('../engine/backend.ts');
      const o = opts as {
        out: string;
        bundle?: string;
        engine: 'onnx' | 'tfjs';
        backend: ReturnType<typeof parseBackendName>;
        threads: number;
        detector: 'full-range' | 'short-range';
        detectEvery: number;
        smoothing: ReturnType<typeof parseSmoothing>;
        video: boolean;
        report: boolean;
        frames?: string;
        jobs: number;
        maxSize?: number;
        force: boolean;
        quiet: boolean;
      };
      if (!o.frames && inputs.length === 0)
        throw new Error('give at least one video, directory or URL (or --frames <dir>)');
      if (o.engine === 'tfjs') await initBackend({ backend: o.backend, log: console.error });
      const bars = new cliProgress.MultiBar(
        {
          format: '{id} |{bar}| {value}/{total} frames | {fps} fps | ETA {eta_formatted}',
          hideCursor: true,
          clearOnComplete: false,
          noTTYOutput: false,
          etaBuffer: 50,
        },
        cliProgress.Presets.shades_classic,
      );
      const show = !o.quiet && process.stderr.isTTY;
      const active = new Map<
        string,
        { bar: cliProgress.SingleBar; t0: number; done: number; total: number }
      >();
      // The overall bar: frames of every video started so far (totals are the containers' estimates).
      const overall = show ? bars.create(0, 0, { id: 'all videos', fps: '-' }) : undefined;
      const updateOverall = () => {
        if (!overall) return;
        let done = 0;
        let total = 0;
        for (const v of active.values()) {
          done += v.done;
          total += Math.max(v.total, v.done);
        }
        overall.setTotal(total);
        overall.update(done, { fps: (done / ((performance.now() - t0) / 1000)).toFixed(1) });
      };
      const t0 = performance.now();
      const results = await annotateVideos(inputs, {
        out: o.out,
        ...(o.bundle && { bundle: o.bundle }),
        engine: o.engine,
        threads: o.threads,
        detector: o.detector,
        detectEvery: o.detectEvery,
        smoothing: o.smoothing,
        video: o.video,
        report: o.report,
        crops: Boolean(o.frames),
        ...(o.frames && { framesRoot: o.frames }),
        jobs: o.jobs,
        ...(o.maxSize && { maxSize: o.maxSize }),
        force: o.force,
        ffmpeg: cliFfmpeg(),
        ...(process.env.PATH && { pathEnv: process.env.PATH }),
        onProgress: (id, done, total) => {
          if (!show) return;
          let a = active.get(id);
          if (!a) {
            const bar = bars.create(total ?? 0, 0, { id, fps: '-' });
            active.set(id, (a = { bar, t0: performance.now(), done: 0, total: total ?? 0 }));
          }
          a.done = done;
          if (total !== undefined && done > total) a.bar.setTotal(done);
          a.bar.update(done, { fps: (done / ((performance.now() - a.t0) / 1000)).toFixed(1) });
          updateOverall();
        },
        onVideo: (r) => {
          const a = active.get(r.id);
          if (a) a.bar.stop();
          const line = describe(r, o.report);
          if (show) bars.log(`${line}\n`);
          else console.error(line);
        },
      });
      bars.stop();
      const summaries = results.filter((r) => r.summary).map((r) => r.summary as VideoSummary);
      const classes = summaries[0]?.faces[0] ? Object.keys(summaries[0].faces[0].share) : [];
      if (summaries.length) console.log(`\n${summaryTable(summaries, classes)}\n`);
      const failed = results.filter((r) => r.status === 'failed');
      const done = results.filter((r) => r.status === 'done');
      const frames = done.reduce((n, r) => n + (r.frames ?? 0), 0);
      const secs = (performance.now() - t0) / 1000;
      console.log(
        `${done.length} annotated, ${results.length - done.length - failed.length} already done, ${failed.length} failed → ${o.out}` +
          (frames
            ? ` (${frames} frames in ${secs.toFixed(1)} s, ${(frames / secs).toFixed(1)} fps)`
            : ''),
      );
      if (failed.length) process.exitCode = 1;
    });
}

function describe(r: AnnotateResult, report: boolean): string {
  if (r.status === 'failed') return `✗ ${r.id}: ${r.error}`;
  if (r.status === 'skipped') return `= ${r.id}: already done (${r.dir}; --force to redo)`;
  return `✓ ${r.id}: ${r.frames} frames in ${r.seconds?.toFixed(1)} s → ${r.dir}${report ? `\n  report: ${join(r.dir, 'report.html')}` : ''}`;
}

interface QueueOptions {
  queue: ReturnType<typeof parseRedisUrl>;
  wait: boolean;
  out: string;
  bundle?: string;
  detector: 'full-range' | 'short-range';
  detectEvery: number;
  smoothing: ReturnType<typeof parseSmoothing>;
  video: boolean;
  report: boolean;
  frames?: string;
  maxSize?: number;
  force: boolean;
  quiet: boolean;
  attempts: number;
  retryDelay: number;
}

/** `annotate --queue`: one job per video; with --wait, progress until all are finished. */
async function enqueueAndWait(inputs: string[], o: QueueOptions): Promise<void> {
  if (o.frames) throw new Error('--frames cannot be used with --queue (give videos or URLs)');
  if (o.force)
    throw new Error(
      '--force cannot be used with --queue: a worker redoes a video whose options changed; to redo one, delete its output folder and run `cctfer queue clean`',
    );
  if (inputs.length === 0) throw new Error('give at least one video, directory, URL or list');
  const { AnnotationQueues, enqueueVideos, jobStates } =
    await import('../../pipelines/queue-client.ts');
  const queues = new AnnotationQueues(o.queue);
  // Commands wait for Redis for ever (a restart is a pause), so say what we are waiting for.
  const waiting = setTimeout(
    () => console.error(`waiting for Redis at ${o.queue.host}:${o.queue.port} (is it running?)`),
    3000,
  );
  try {
    const jobs = await enqueueVideos(queues, inputs, {
      out: o.out,
      ...(o.bundle && { bundle: o.bundle }),
      detector: o.detector,
      detectEvery: o.detectEvery,
      smoothing: o.smoothing,
      video: o.video,
      report: o.report,
      ...(o.maxSize && { maxSize: o.maxSize }),
      attempts: Math.max(1, o.attempts),
      retryDelaySeconds: o.retryDelay,
    });
    clearTimeout(waiting);
    console.log(
      `${jobs.length} video(s) on the queue ${o.queue.host}:${o.queue.port}/${o.queue.db} → ${o.out} (the same video and options again add nothing)`,
    );
    if (!o.wait) return;
    const show = !o.quiet && process.stderr.isTTY;
    const bars = new cliProgress.MultiBar(
      {
        format: 'videos |{bar}| {value}/{total} finished | {active} active | {frames} frames',
        hideCursor: true,
        noTTYOutput: false,
      },
      cliProgress.Presets.shades_classic,
    );
    const bar = show ? bars.create(jobs.length, 0, { active: 0, frames: 0 }) : undefined;
    const reported = new Set<string>();
    let failed = 0;
    for (;;) {
      const states = await jobStates(queues, jobs);
      let frames = 0;
      for (const s of states) {
        frames += s.result?.frames ?? s.progress?.frames ?? 0;
        const finished = s.state === 'completed' || s.state === 'failed' || s.state === 'unknown';
        if (!finished || reported.has(s.jobId)) continue;
        reported.add(s.jobId);
        if (s.state !== 'completed') failed++;
        const line =
          s.state === 'unknown'
            ? `✗ ${s.jobId}: removed from the queue before it finished`
            : s.state === 'failed'
              ? `✗ ${failure(s.input, s.failedReason)} (${s.attempts} attempts)`
              : `✓ ${s.input} → ${s.result?.dir ?? '?'}${s.result?.status === 'skipped' ? ' (already done)' : ''}`;
        if (show) bars.log(`${line}\n`);
        else console.error(line);
      }
      bar?.update(reported.size, {
        active: states.filter((s) => s.state === 'active').length,
        frames,
      });
      if (reported.size === jobs.length) break;
      await new Promise((r) => setTimeout(r, 1000));
    }
    bars.stop();
    console.log(`${jobs.length - failed} done, ${failed} failed → ${o.out}`);
    if (failed) process.exitCode = 1;
  } finally {
    clearTimeout(waiting);
    await queues.close();
  }
}
