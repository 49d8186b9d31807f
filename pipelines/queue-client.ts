/**
 * The producer and admin side of the annotation queue: enqueue videos (idempotent job ids), wait for
 * them with overall progress, and `queue status|retry|clean`. Workers are pipelines/queue-worker.ts.
 */
import { Queue, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import { expandInputs } from './annotate.ts';
import {
  annotateJob,
  HEARTBEAT_PREFIX,
  QUEUE_NAMES,
  type WorkerHeartbeat,
  type AnnotateJobData,
  type AnnotateJobResult,
  type JobOptions,
} from '../src/queue/annotate-jobs.ts';
import type { RedisConnection } from '../src/queue/redis-url.ts';
import { uniqueSourceNames } from '../src/video/source-names.ts';

type AnnotateQueue = Queue<AnnotateJobData, AnnotateJobResult>;

/** Both queues (files, URLs) on one connection setting; close() when done. */
export class AnnotationQueues {
  readonly files: AnnotateQueue;
  readonly urls: AnnotateQueue;
  /** Plain commands of ours (worker heartbeats), beside BullMQ's. */
  readonly redis: Redis;

  constructor(connection: RedisConnection, onError: (err: Error) => void = () => undefined) {
    this.files = new Queue(QUEUE_NAMES.files, { connection });
    this.urls = new Queue(QUEUE_NAMES.urls, { connection });
    // Without listeners a lost connection's 'error' event would end the process; commands wait
    // for the reconnection instead (maxRetriesPerRequest: null).
    for (const q of this.all) q.on('error', onError);
    this.redis = new Redis({ ...connection, lazyConnect: true });
    this.redis.on('error', onError);
  }

  get all(): AnnotateQueue[] {
    return [this.files, this.urls];
  }

  async close(): Promise<void> {
    await Promise.all(this.all.map((q) => q.close()));
    this.redis.disconnect();
  }
}

/** Runs `fn` with both queues open, closing them however it ends. */
export async function withQueues<T>(
  connection: RedisConnection,
  fn: (queues: AnnotationQueues) => Promise<T>,
): Promise<T> {
  const queues = new AnnotationQueues(connection);
  try {
    return await fn(queues);
  } finally {
    await queues.close();
  }
}

export interface EnqueueOptions extends JobOptions {
  out: string;
  /** Tries per video before its job fails (default 3), with exponential backoff. */
  attempts?: number;
  /** Seconds before the first retry, doubling after each (default 5). */
  retryDelaySeconds?: number;
}

/** Adds one job per video (directories expanded); returns the job ids, in input order. */
export async function enqueueVideos(
  queues: AnnotationQueues,
  inputs: readonly string[],
  o: EnqueueOptions,
): Promise<{ jobId: string; queue: string; input: string }[]> {
  const list = await expandInputs(inputs);
  const ids = uniqueSourceNames(list);
  const { out, attempts, retryDelaySeconds, ...options } = o;
  const jobs = list.map((input, i) => annotateJob(input, ids[i] as string, out, options));
  for (const q of queues.all) {
    const mine = jobs.filter((j) => j.queue === q.name);
    if (!mine.length) continue;
    await q.addBulk(
      mine.map((j) => ({
        name: 'annotate',
        data: j.data,
        opts: {
          jobId: j.jobId,
          attempts: attempts ?? 3,
          backoff: { type: 'exponential', delay: (retryDelaySeconds ?? 5) * 1000 },
        },
      })),
    );
  }
  return jobs.map((j) => ({ jobId: j.jobId, queue: j.queue, input: j.data.input }));
}

export interface JobView {
  jobId: string;
  input: string;
  state: string;
  /** Frames done and the container's estimate of the total, while active. */
  progress?: { frames: number; total: number | null };
  attempts: number;
  failedReason?: string;
  result?: AnnotateJobResult;
}

function view(job: Job<AnnotateJobData, AnnotateJobResult>, state: string): JobView {
  const p = job.progress as { frames?: number; total?: number | null } | number;
  return {
    jobId: String(job.id),
    input: job.data.input,
    state,
    ...(typeof p === 'object' &&
      p.frames !== undefined && {
        progress: { frames: p.frames, total: p.total ?? null },
      }),
    attempts: job.attemptsMade,
    ...(job.failedReason && { failedReason: job.failedReason }),
    ...(job.returnvalue && { result: job.returnvalue }),
  };
}

/** The state of some jobs by id (a removed job reads 'unknown'). */
export async function jobStates(
  queues: AnnotationQueues,
  jobs: readonly { jobId: string; queue: string }[],
): Promise<JobView[]> {
  return Promise.all(
    jobs.map(async ({ jobId, queue }) => {
      const q = queue === queues.urls.name ? queues.urls : queues.files;
      const job = await q.getJob(jobId);
      if (!job) return { jobId, input: '', state: 'unknown', attempts: 0 };
      return view(job, await job.getState());
    }),
  );
}

export interface QueueStatus {
  counts: Record<string, number>;
  active: JobView[];
  failed: JobView[];
  /** Live workers (their heartbeat has not expired), with frames per busy second. */
  workers: (WorkerHeartbeat & { fps: number | undefined; secondsSinceSeen: number })[];
  /** Frames per second over the last finished jobs (sum of frames / sum of their seconds). */
  recentFps: number | undefined;
}

export async function queueStatus(queues: AnnotationQueues): Promise<QueueStatus> {
  const counts: Record<string, number> = {};
  const active: JobView[] = [];
  const failed: JobView[] = [];
  let frames = 0;
  let seconds = 0;
  for (const q of queues.all) {
    const c = await q.getJobCounts('waiting', 'active', 'delayed', 'completed', 'failed');
    for (const [k, v] of Object.entries(c)) counts[k] = (counts[k] ?? 0) + v;
    for (const j of await q.getActive()) active.push(view(j, 'active'));
    for (const j of await q.getFailed()) failed.push(view(j, 'failed'));
    for (const j of await q.getCompleted(0, 19)) {
      if (j.returnvalue?.frames && j.returnvalue.seconds) {
        frames += j.returnvalue.frames;
        seconds += j.returnvalue.seconds;
      }
    }
  }
  return {
    counts,
    active,
    failed,
    workers: await heartbeats(queues),
    recentFps: seconds > 0 ? frames / seconds : undefined,
  };
}

async function heartbeats(queues: AnnotationQueues): Promise<QueueStatus['workers']> {
  const client = queues.redis;
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, found] = await client.scan(cursor, 'MATCH', `${HEARTBEAT_PREFIX}*`, 'COUNT', 100);
    cursor = next;
    keys.push(...found);
  } while (cursor !== '0');
  const values = keys.length ? await client.mget(...keys) : [];
  const now = Date.now();
  return values
    .filter((v): v is string => v !== null)
    .map((v) => JSON.parse(v) as WorkerHeartbeat)
    .map((w) => ({
      ...w,
      fps: w.busySeconds > 0 ? w.frames / w.busySeconds : undefined,
      secondsSinceSeen: Math.max(0, Math.round((now - w.lastSeen) / 1000)),
    }))
    .sort((a, b) => (a.name < b.name ? -1 : 1));
}

/** Puts failed jobs back in the queue; returns how many. */
export async function retryFailed(queues: AnnotationQueues): Promise<number> {
  let n = 0;
  for (const q of queues.all) {
    n += (await q.getJobCounts('failed')).failed ?? 0;
    await q.retryJobs({ state: 'failed' });
  }
  return n;
}

/** Removes finished jobs (completed, and failed unless `keepFailed`); returns how many. */
export async function cleanFinished(queues: AnnotationQueues, keepFailed = false): Promise<number> {
  let n = 0;
  for (const q of queues.all) {
    n += (await q.clean(0, 0, 'completed')).length;
    if (!keepFailed) n += (await q.clean(0, 0, 'failed')).length;
  }
  return n;
}
