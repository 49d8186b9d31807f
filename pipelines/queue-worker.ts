/**
 * `cctfer worker`: takes annotation jobs from the queue and runs exactly what local `annotate` runs
 * for one video (annotateVideo), writing to the shared output folder atomically. One model and one
 * detection worker per process, shared by its concurrent jobs (as `annotate --jobs` shares them).
 *
 * Delivery is at least once: a job whose worker died (SIGKILL, power loss) stops renewing its lock
 * and is handed to another worker after `lockSeconds` (+ the stall check). Doing a video twice is
 * safe: outputs appear by one rename, and a job whose outputs are complete with the same options
 * key is skipped.
 */
import { readdir, readFile, rm, stat } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { Worker, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import { annotateVideo, VideoAnalyser, type AnnotateOptions } from './annotate.ts';
import {
  HEARTBEAT_PREFIX,
  QUEUE_NAMES,
  type AnnotateJobData,
  type AnnotateJobResult,
  type WorkerHeartbeat,
} from '../src/queue/annotate-jobs.ts';
import type { RedisConnection } from '../src/queue/redis-url.ts';
import { outputKey } from '../src/video/source-names.ts';
import type { InferenceEngine } from '../src/models/analyzer.ts';
import type { FfmpegBinary } from '../src/video/ffmpeg-binary.ts';

export interface WorkerOptions {
  connection: RedisConnection;
  /** Videos analysed at once by this process (default 1). */
  concurrency?: number;
  /** URL jobs started per minute, across all workers (BullMQ's limiter is global; default 10). */
  urlsPerMinute?: number;
  /** How long a job's lock lasts without renewal: a dead worker's job moves on after ~1.5× this. */
  lockSeconds?: number;
  engine?: InferenceEngine;
  threads?: number;
  ffmpeg?: FfmpegBinary;
  pathEnv?: string;
  /** A line per event (job started, done, failed, connection trouble). */
  log?: (line: string) => void;
}

/** Seconds a worker's heartbeat lives; it is renewed every third of that. */
const HEARTBEAT_TTL_S = 15;

export interface RunningWorker {
  /** Finishes the jobs in hand (or, with `force`, gives them back at once) and disconnects. */
  close(force?: boolean): Promise<void>;
  /** Resolves when the worker has closed. */
  closed: Promise<void>;
}

export async function startWorker(o: WorkerOptions): Promise<RunningWorker> {
  const log = o.log ?? (() => undefined);
  const lockMs = (o.lockSeconds ?? 30) * 1000;
  // One analyser per model/detector/smoothing combination met, kept for the process's life.
  const analysers = new Map<string, Promise<VideoAnalyser>>();
  const analyserFor = (d: AnnotateJobData) => {
    const key = JSON.stringify([
      d.options.bundle,
      d.options.detector,
      d.options.detectEvery,
      d.options.smoothing,
    ]);
    let a = analysers.get(key);
    if (!a) {
      a = VideoAnalyser.create({
        ...(d.options.bundle && { bundle: d.options.bundle }),
        ...(o.engine && { engine: o.engine }),
        ...(o.threads && { threads: o.threads }),
        detector: d.options.detector,
        detectEvery: d.options.detectEvery ?? 1,
        smoothing: d.options.smoothing,
      });
      // A model that fails to load fails this job; the next job tries again.
      a.catch(() => analysers.delete(key));
      analysers.set(key, a);
    }
    return a;
  };

  const beat: WorkerHeartbeat = {
    name: `${hostname()}:${process.pid}`,
    host: hostname(),
    pid: process.pid,
    startedAt: Date.now(),
    lastSeen: Date.now(),
    videos: 0,
    frames: 0,
    busySeconds: 0,
    active: 0,
  };

  const processor = async (job: Job<AnnotateJobData, AnnotateJobResult>) => {
    beat.active++;
    try {
      return await annotateJob(job);
    } finally {
      beat.active--;
      beat.videos++;
    }
  };

  const annotateJob = async (job: Job<AnnotateJobData, AnnotateJobResult>) => {
    const d = job.data;
    const dir = join(d.out, outputKey(d.input));
    if ((await finishedKey(dir)) === d.optionsKey) {
      log(`= ${d.id}: already done (${dir})`);
      return { status: 'skipped', dir } satisfies AnnotateJobResult;
    }
    log(`… ${d.id}: started (job ${job.id}, attempt ${job.attemptsMade + 1})`);
    await sweepDeadTemps(d.out, outputKey(d.input), lockMs);
    let lastReport = 0;
    const options: AnnotateOptions = {
      out: d.out,
      force: true,
      video: d.options.video,
      report: d.options.report,
      ...(d.options.maxSize && { maxSize: d.options.maxSize }),
      optionsKey: d.optionsKey,
      ...(o.ffmpeg && { ffmpeg: o.ffmpeg }),
      ...(o.pathEnv !== undefined && { pathEnv: o.pathEnv }),
      onProgress: (_id, done, total) => {
        // At most one progress write a second: Redis round trips are not free.
        const now = Date.now();
        if (now - lastReport < 1000) return;
        lastReport = now;
        void job.updateProgress({ frames: done, total: total ?? null }).catch(() => undefined);
      },
    };
    const r = await annotateVideo({ input: d.input, id: d.id, dir }, options, () => analyserFor(d));
    beat.busySeconds += r.seconds ?? 0;
    beat.frames += r.frames ?? 0;
    // A worker that died on this video left its hidden folder; gone by now if not before.
    await sweepDeadTemps(d.out, outputKey(d.input), lockMs);
    if (r.status === 'failed') throw new Error(r.error ?? `${d.input}: failed`);
    log(`✓ ${d.id}: ${r.frames} frames in ${r.seconds?.toFixed(1)} s → ${dir}`);
    return {
      status: 'done',
      dir,
      ...(r.frames !== undefined && { frames: r.frames }),
      ...(r.seconds !== undefined && { seconds: r.seconds }),
    } satisfies AnnotateJobResult;
  };

  const common = {
    connection: o.connection,
    concurrency: o.concurrency ?? 1,
    lockDuration: lockMs,
    // The stall check runs this often; a job stalled twice (its worker died twice) fails.
    stalledInterval: Math.max(1000, lockMs / 2),
    maxStalledCount: 2,
    name: `cctfer-worker ${beat.name}`,
  };
  const workers = [
    new Worker<AnnotateJobData, AnnotateJobResult>(QUEUE_NAMES.files, processor, common),
    new Worker<AnnotateJobData, AnnotateJobResult>(QUEUE_NAMES.urls, processor, {
      ...common,
      limiter: { max: o.urlsPerMinute ?? 10, duration: 60_000 },
    }),
  ];
  // Without a listener an 'error' event would end the process; a lost connection is retried
  // (every connection of every queue reports each retry: one line per message per 10 s is enough).
  const lastSaid = new Map<string, number>();
  const connectionError = (err: Error) => {
    const now = Date.now();
    if (now - (lastSaid.get(err.message) ?? 0) < 10_000) return;
    lastSaid.set(err.message, now);
    log(`! queue connection: ${err.message} (retrying)`);
  };
  for (const w of workers) {
    w.on('error', connectionError);
    w.on('failed', (job, err) => {
      if (job) log(`✗ ${job.data.id}: ${err.message} (attempt ${job.attemptsMade})`);
    });
  }
  // Commands wait for Redis for ever (a restart is a pause), so say what we are waiting for.
  const waiting = setTimeout(
    () => log(`waiting for Redis at ${o.connection.host}:${o.connection.port} (is it running?)`),
    3000,
  );
  await Promise.all(workers.map((w) => w.waitUntilReady())).finally(() => clearTimeout(waiting));
  // A heartbeat key that expires unless renewed: `queue status` lists the live workers and their
  // throughput, and a worker that died drops out after HEARTBEAT_TTL. Written on the worker's
  // own connection, so it resumes by itself after a Redis restart.
  const client = new Redis(o.connection);
  client.on('error', () => undefined); // reconnects by itself; the workers log connection trouble
  const key = `${HEARTBEAT_PREFIX}${beat.name}`;
  const sendBeat = () => {
    beat.lastSeen = Date.now();
    void client.set(key, JSON.stringify(beat), 'EX', HEARTBEAT_TTL_S).catch(() => undefined);
  };
  sendBeat();
  const heartbeat = setInterval(sendBeat, (HEARTBEAT_TTL_S * 1000) / 3);
  heartbeat.unref();
  let resolveClosed: () => void = () => undefined;
  const closed = new Promise<void>((r) => (resolveClosed = r));
  let closing: Promise<void> | undefined;
  return {
    closed,
    close(force = false) {
      closing ??= (async () => {
        clearInterval(heartbeat);
        await client.del(key).catch(() => undefined);
        client.disconnect();
        await Promise.all(workers.map((w) => w.close(force)));
        for (const a of analysers.values()) await (await a.catch(() => undefined))?.close();
        resolveClosed();
      })();
      return closing;
    },
  };
}

/**
 * Removes this video's hidden temporary folders (`.<key>.tmp-*`, `.<key>.old-*`) that nobody has
 * written to for `idleMs`: a live writer appends a row every frame, so an idle one belongs to a
 * worker that died (its job's lock, as long, has expired too). Other videos' folders, and live
 * ones, are left alone: several workers share the folder.
 */
async function sweepDeadTemps(out: string, key: string, idleMs: number): Promise<void> {
  const names = await readdir(out).catch(() => [] as string[]);
  for (const name of names) {
    if (!name.startsWith(`.${key}.tmp-`) && !name.startsWith(`.${key}.old-`)) continue;
    const dir = join(out, name);
    const entries = await readdir(dir).catch(() => [] as string[]);
    const times = await Promise.all(
      [dir, ...entries.map((e) => join(dir, e))].map((p) =>
        stat(p).then(
          (st) => st.mtimeMs,
          () => 0,
        ),
      ),
    );
    if (Date.now() - Math.max(...times) >= idleMs) await rm(dir, { recursive: true, force: true });
  }
}

/** The options key in a finished video's summary.json, if there is one. */
async function finishedKey(dir: string): Promise<string | undefined> {
  const text = await readFile(join(dir, 'summary.json'), 'utf8').catch(() => undefined);
  if (!text) return undefined;
  try {
    return (JSON.parse(text) as { optionsKey?: string }).optionsKey;
  } catch {
    return undefined;
  }
}
