/**
 * bench/queue: the Redis job queue with 1 vs 2 `cctfer worker` processes on this machine — wall
 * time from enqueue to the last finished job (workers started and ready before), videos per
 * minute, the ratio, and the Redis commands each job cost (INFO commandstats before and after),
 * the figure behind the README's estimate for 100 workers. A real redis-server on a free port.
 *
 *   npm run build && npx tsx bench/queue.ts [--videos 6] [--write queue]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { commandLine, compiledCli, printResults } from './bench-output.ts';
import { Redis } from 'ioredis';
import { AnnotationQueues, enqueueVideos, jobStates } from '../pipelines/queue-client.ts';
import { parseRedisUrl } from '../src/queue/redis-url.ts';
import { parseSmoothing } from '../src/stream/smoothing-spec.ts';
import { startRedis } from '../test/helpers/redis-server.ts';

const opts = new Command('queue')
  .description('annotation throughput on the Redis queue, 1 vs 2 worker processes')
  .option('--videos <n>', 'videos per run (copies of fixtures/crossing.mp4)', '6')
  .option('--write <name>', 'also write bench/results/<name>.md')
  .parse()
  .opts<{ videos: string; write?: string }>();

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));
const compiled = compiledCli();
const work = mkdtempSync(join(tmpdir(), 'cctfer-bench-queue-'));
const videos = Array.from({ length: Number(opts.videos) }, (_, i) => {
  const v = join(work, `video-${i}.mp4`);
  copyFileSync(here('../fixtures/crossing.mp4'), v);
  return v;
});

/** A worker process; `finished` counts its done and failed videos (its ✓ and ✗ lines). */
function startWorker(url: string, onFinished: () => void): Promise<ChildProcess> {
  const child = spawn(process.execPath, [compiled, 'worker', '--queue', url], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  return new Promise((resolve, reject) => {
    let err = '';
    child.stderr!.on('data', (d: Buffer) => {
      const text = d.toString();
      err += text;
      if (text.includes('worker ready')) resolve(child);
      for (const line of text.split('\n')) if (/ (✓|✗) /.test(line)) onFinished();
    });
    child.on('exit', (code) => reject(new Error(`worker exited (${code}): ${err.slice(-1000)}`)));
  });
}

async function commands(redis: Redis): Promise<number> {
  const info = await redis.info('commandstats');
  return [...info.matchAll(/calls=(\d+)/g)].reduce((n, m) => n + Number(m[1]), 0);
}

const rows: { workers: number; seconds: number; frames: number; perJob: number }[] = [];
for (const workers of [1, 2, 2, 1]) {
  const redis = await startRedis();
  const out = join(work, `out-${rows.length}`);
  let finished = 0;
  let allDone: () => void = () => undefined;
  const done = new Promise<void>((r) => (allDone = r));
  const procs = await Promise.all(
    Array.from({ length: workers }, () =>
      startWorker(redis.url, () => {
        if (++finished === videos.length) allDone();
      }),
    ),
  );
  const queues = new AnnotationQueues(parseRedisUrl(redis.url));
  const admin = new Redis(parseRedisUrl(redis.url));
  try {
    const before = await commands(admin);
    const t0 = performance.now();
    const jobs = await enqueueVideos(queues, videos, {
      out,
      detector: 'full-range',
      smoothing: parseSmoothing('gaussian:3'),
      video: false,
      report: true,
    });
    // Told by the workers' own lines, so that this bench adds no Redis traffic while they work.
    await done;
    const seconds = (performance.now() - t0) / 1000;
    const perJob = ((await commands(admin)) - before - 1) / jobs.length;
    const states = await jobStates(queues, jobs);
    const frames = states.reduce((n, s) => n + (s.result?.frames ?? 0), 0);
    rows.push({ workers, seconds, frames, perJob });
    console.error(
      `${workers} worker(s): ${videos.length} videos, ${frames} frames in ${seconds.toFixed(1)} s, ~${perJob.toFixed(0)} Redis commands per job`,
    );
  } finally {
    // Workers first (they finish talking to Redis), then Redis.
    await Promise.all(
      procs.map((p) => {
        p.removeAllListeners('exit');
        const gone = new Promise((r) => p.once('exit', r));
        p.kill('SIGTERM');
        return gone;
      }),
    );
    await queues.close();
    admin.disconnect();
    await redis.stop();
    rmSync(out, { recursive: true, force: true });
  }
}
rmSync(work, { recursive: true, force: true });
const median = (v: number[]) => [...v].sort((a, b) => a - b)[(v.length - 1) >> 1]!;
const of = (n: number) => rows.filter((r) => r.workers === n);
const t1 = median(of(1).map((r) => r.seconds));
const t2 = median(of(2).map((r) => r.seconds));
const md = [
  `# bench/queue — ${new Date().toISOString().slice(0, 10)}, ${videos.length} videos (copies of fixtures/crossing.mp4), 2 runs per setting (ABBA)`,
  '',
  `Command: \`${commandLine('queue')}\`. Workers (\`cctfer worker\`, compiled) started and ready first; time from enqueue to the last job finished.`,
  '',
  '| workers | seconds (runs) | videos per minute | Redis commands per job (runs) |',
  '|---|---|---|---|',
  ...[1, 2].map(
    (n) =>
      `| ${n} | ${(n === 1 ? t1 : t2).toFixed(1)} (${of(n)
        .map((r) => r.seconds.toFixed(1))
        .join(', ')}) | ${((videos.length * 60) / (n === 1 ? t1 : t2)).toFixed(1)} | ${of(n)
        .map((r) => r.perJob.toFixed(0))
        .join(', ')} |`,
  ),
  '',
  `Two workers over one: ${(t1 / t2).toFixed(2)}× (one worker already keeps both cores busy: detection and inference run in their own threads).`,
  '',
].join('\n');
printResults(md, opts.write);
