/**
 * `cctfer worker` and `cctfer queue status|retry|clean`: the machines' side and the operator's side
 * of annotation on a Redis job queue (BullMQ). Enqueueing is `cctfer annotate --queue`.
 */
import { Command, Option } from 'commander';
import { parseRedisUrl } from '../queue/redis-url.ts';
import { failure } from '../queue/annotate-jobs.ts';
import { cliFfmpeg, positiveInt } from './options.ts';

const queueOption = () =>
  new Option('--queue <url>', 'Redis holding the queue: redis://host:port/db')
    .env('CCTFER_QUEUE')
    .makeOptionMandatory()
    .argParser(parseRedisUrl);

export function workerCommand(): Command {
  return new Command('worker')
    .description(
      'take annotation jobs from a Redis queue and write their outputs to the shared folder named in each job',
    )
    .addOption(queueOption())
    .option('-c, --concurrency <n>', 'videos analysed at once', positiveInt('--concurrency'), 1)
    .option(
      '--urls-per-minute <n>',
      'URL videos started per minute, across all workers (set the same everywhere)',
      positiveInt('--urls-per-minute'),
      10,
    )
    .option(
      '--lock-seconds <s>',
      "a job's lock; a dead worker's job moves to another after ~1.5× this",
      positiveInt('--lock-seconds'),
      30,
    )
    .addOption(
      new Option('--engine <engine>', 'inference engine').choices(['onnx', 'tfjs']).default('onnx'),
    )
    .option('--threads <n>', 'ONNX Runtime threads', positiveInt('--threads'), 1)
    .action(async (opts) => {
      const o = opts as {
        queue: ReturnType<typeof parseRedisUrl>;
        concurrency: number;
        urlsPerMinute: number;
        lockSeconds: number;
        engine: 'onnx' | 'tfjs';
        threads: number;
      };
      const { startWorker } = await import('../../pipelines/queue-worker.ts');
      const log = (line: string) => console.error(`${new Date().toISOString()} ${line}`);
      const worker = await startWorker({
        connection: o.queue,
        concurrency: Math.max(1, o.concurrency),
        urlsPerMinute: Math.max(1, o.urlsPerMinute),
        lockSeconds: Math.max(1, o.lockSeconds),
        engine: o.engine,
        threads: o.threads,
        ffmpeg: cliFfmpeg(),
        ...(process.env.PATH && { pathEnv: process.env.PATH }),
        log,
      });
      log(
        `worker ready on ${o.queue.host}:${o.queue.port}/${o.queue.db}, ${o.concurrency} at a time (SIGTERM: finish the current videos and stop; twice: give them back now)`,
      );
      let signals = 0;
      const stop = () => {
        signals++;
        log(
          signals === 1
            ? 'stopping after the current videos…'
            : 'stopping now; the current videos go back to the queue',
        );
        void worker.close(signals > 1);
        // Closing talks to Redis; if Redis is gone for good, a second signal still ends us.
        if (signals > 1) setTimeout(() => process.exit(1), 5000).unref();
      };
      process.on('SIGTERM', stop);
      process.on('SIGINT', stop);
      await worker.closed;
      log('worker stopped');
    });
}

export function queueCommand(): Command {
  const queue = new Command('queue').description('the annotation queue: status, retry, clean');
  queue
    .command('status')
    .description('jobs waiting, active (with progress), done and failed (with why); workers seen')
    .addOption(queueOption())
    .option('--json', 'print JSON', false)
    .action(async (opts: { queue: ReturnType<typeof parseRedisUrl>; json: boolean }) => {
      const { queueStatus, withQueues } = await import('../../pipelines/queue-client.ts');
      const s = await withQueues(opts.queue, queueStatus);
      if (opts.json) {
        console.log(JSON.stringify(s, null, 2));
        return;
      }
      const c = s.counts;
      console.log(
        `waiting ${c.waiting ?? 0}, delayed (backing off) ${c.delayed ?? 0}, active ${c.active ?? 0}, done ${c.completed ?? 0}, failed ${c.failed ?? 0}`,
      );
      if (s.recentFps !== undefined)
        console.log(`throughput of the last finished videos: ${s.recentFps.toFixed(1)} fps`);
      for (const j of s.active)
        console.log(
          `  active  ${j.input}: ${j.progress ? `${j.progress.frames}${j.progress.total ? `/${j.progress.total}` : ''} frames` : 'starting'} (attempt ${j.attempts + 1})`,
        );
      for (const j of s.failed)
        console.log(`  failed  ${failure(j.input, j.failedReason)} (${j.attempts} attempts)`);
      console.log(`workers alive: ${s.workers.length}`);
      for (const w of s.workers)
        console.log(
          `  ${w.name}: ${w.active} active, ${w.videos} videos and ${w.frames} frames since start${w.fps ? ` (${w.fps.toFixed(1)} fps while busy)` : ''}, last heartbeat ${w.secondsSinceSeen} s ago`,
        );
    });
  queue
    .command('retry')
    .description('put failed jobs back in the queue')
    .addOption(queueOption())
    .action(async (opts: { queue: ReturnType<typeof parseRedisUrl> }) => {
      const { retryFailed, withQueues } = await import('../../pipelines/queue-client.ts');
      console.log(`${await withQueues(opts.queue, retryFailed)} failed job(s) back in the queue`);
    });
  queue
    .command('clean')
    .description('remove finished jobs (done and failed) from the queue; outputs are kept')
    .addOption(queueOption())
    .option('--keep-failed', 'remove only the done ones', false)
    .action(async (opts: { queue: ReturnType<typeof parseRedisUrl>; keepFailed: boolean }) => {
      const { cleanFinished, withQueues } = await import('../../pipelines/queue-client.ts');
      const removed = await withQueues(opts.queue, (q) => cleanFinished(q, opts.keepFailed));
      console.log(`${removed} finished job(s) removed`);
    });
  return queue;
}
