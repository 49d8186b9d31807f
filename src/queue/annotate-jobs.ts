/**
 * What an annotation job on the queue is: its data, its id and where it goes. The id is derived from
 * the input and the options that shape the outputs, so enqueueing the same work twice adds nothing
 * (BullMQ ignores an add whose job id exists). No queue client is imported here.
 */
import { createHash } from 'node:crypto';
import { resolve } from 'node:path';
import type { SmoothingChoice } from '../stream/smoothing-spec.ts';
import type { DetectorModel } from '../faces/detector.ts';
import { outputKey } from '../video/source-names.ts';

/** Files go on the first queue, URLs on the second: only the second is rate-limited. */
export const QUEUE_NAMES = { files: 'cctfer-annotate', urls: 'cctfer-annotate-urls' } as const;

/** The options that decide what a video's outputs hold (the worker's engine and threads do not). */
export interface JobOptions {
  bundle?: string;
  detector: DetectorModel;
  /** Absent on jobs enqueued before the option existed: those detect every frame. */
  detectEvery?: number;
  smoothing: SmoothingChoice;
  video: boolean;
  report: boolean;
  maxSize?: number;
}

export interface AnnotateJobData {
  /** An absolute path on the shared storage, or a URL. */
  input: string;
  /** The source id written in the records (as local annotate names it). */
  id: string;
  /** The shared output root; the video's folder is `<out>/<outputKey(input)>`. */
  out: string;
  options: JobOptions;
  /** Stored in the finished video's summary.json: outputs with this key are complete and current. */
  optionsKey: string;
}

/** What a finished job returns (kept by BullMQ as the job's return value). */
export interface AnnotateJobResult {
  status: 'done' | 'skipped';
  dir: string;
  frames?: number;
  seconds?: number;
}

export const isUrl = (input: string): boolean => /^[a-z][\w+.-]*:\/\//i.test(input);

/** The job for one input; paths are made absolute so every machine reads the same file. */
export function annotateJob(
  input: string,
  id: string,
  out: string,
  options: JobOptions,
): { jobId: string; queue: string; data: AnnotateJobData } {
  const full = isUrl(input) ? input : resolve(input);
  const opts: JobOptions = {
    ...options,
    ...(options.bundle && { bundle: resolve(options.bundle) }),
  };
  const optionsKey = sha256(JSON.stringify(canonical(opts))).slice(0, 16);
  const data: AnnotateJobData = { input: full, id, out: resolve(out), options: opts, optionsKey };
  // BullMQ job ids may not contain ':'; an output key has none (it is a folder name).
  const jobId = `${outputKey(full)}-${sha256(`${data.out}\n${optionsKey}`).slice(0, 12)}`;
  return { jobId, queue: isUrl(full) ? QUEUE_NAMES.urls : QUEUE_NAMES.files, data };
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** Objects with their keys sorted, so that equal options hash alike whatever their order. */
function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value && typeof value === 'object')
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>)
        .filter(([, v]) => v !== undefined)
        .sort(([a], [b]) => (a < b ? -1 : 1))
        .map(([k, v]) => [k, canonical(v)]),
    );
  return value;
}

/** A failed job's reason, naming its input once. */
export function failure(input: string, reason: string | undefined): string {
  const why = reason ?? 'failed';
  return why.includes(input) ? why : `${input}: ${why}`;
}

/** Redis key prefix of the workers' heartbeats (one key per worker, expiring when it stops). */
export const HEARTBEAT_PREFIX = 'cctfer:worker:';

/** What a worker says about itself every few seconds. */
export interface WorkerHeartbeat {
  name: string;
  host: string;
  pid: number;
  startedAt: number;
  lastSeen: number;
  /** Videos finished (done or failed) and frames analysed since the worker started. */
  videos: number;
  frames: number;
  /** Seconds spent analysing (frames / busySeconds is the worker's throughput). */
  busySeconds: number;
  active: number;
}
