import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'csv-parse/sync';
import { annotateVideos, parseSmoothing } from '../pipelines/annotate.ts';
import { AnnotationQueues, enqueueVideos, jobStates } from '../pipelines/queue-client.ts';
import { annotateJob } from '../src/queue/annotate-jobs.ts';
import { parseRedisUrl } from '../src/queue/redis-url.ts';
import { outputKey } from '../src/video/source-names.ts';
import { resolveFfmpeg } from '../src/video/ffmpeg-binary.ts';
import { countFrames } from '../src/video/probe.ts';
import { startRedis, type TestRedis } from './helpers/redis-server.ts';

const fixture = (name: string) => fileURLToPath(new URL(`../fixtures/${name}`, import.meta.url));
const cli = fileURLToPath(new URL('../bin/cctfer.js', import.meta.url));

/** A CLI process whose stderr lines can be awaited. */
function cctfer(args: string[]) {
  const child = spawn(process.execPath, [cli, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  const waiters: { re: RegExp; resolve: () => void }[] = [];
  child.stdout.on('data', (d: Buffer) => (stdout += d));
  child.stderr.on('data', (d: Buffer) => {
    stderr += d;
    for (const w of [...waiters])
      if (w.re.test(stderr)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve();
      }
  });
  const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((r) =>
    child.on('close', (code) => r({ code, stdout, stderr })),
  );
  /** Resolves when stderr matches; rejects if the process ends first. */
  const saw = (re: RegExp) =>
    new Promise<void>((resolve, reject) => {
      if (re.test(stderr)) return resolve();
      waiters.push({ re, resolve });
      void done.then(() => reject(new Error(`exited before ${re}:\n${stderr.slice(-2000)}`)));
    });
  return { child, done, saw, stderr: () => stderr };
}

/** A clip of the fixture's first `seconds`, re-encoded (so each test's inputs are its own files). */
function clip(name: string, seconds: number, out: string): string {
  execFileSync(resolveFfmpeg().path, [
    '-y',
    '-loglevel',
    'error',
    '-i',
    fixture(name),
    '-t',
    String(seconds),
    '-an',
    '-c:v',
    'libx264',
    '-pix_fmt',
    'yuv420p',
    out,
  ]);
  return out;
}

const visible = async (dir: string) =>
  (await readdir(dir).catch(() => [] as string[])).filter((n) => !n.startsWith('.')).sort();

const noRedis = spawnSync('redis-server', ['--version']).status !== 0;

describe(
  'annotation on a Redis job queue (BullMQ)',
  {
    skip:
      noRedis &&
      'redis-server is not installed (apt-get install redis-server; .ci/run installs it)',
  },
  () => {
    let dir: string;
    let redis: TestRedis | undefined;
    const workers: ChildProcess[] = [];
    before(async () => {
      dir = await mkdtemp(join(tmpdir(), 'cctfer-queue-'));
    });
    after(async () => {
      for (const w of workers) w.kill('SIGKILL');
      await redis?.stop();
      await rm(dir, { recursive: true, force: true });
    });
    const worker = (url: string, ...extra: string[]) => {
      const w = cctfer(['worker', '--queue', url, '--lock-seconds', '2', ...extra]);
      workers.push(w.child);
      return w;
    };

    it('job ids depend on the input and the options that shape outputs; bad URLs are clear errors', () => {
      const o = {
        detector: 'full-range' as const,
        smoothing: parseSmoothing('gaussian:3'),
        video: false,
        report: true,
      };
      const a = annotateJob('clips/a.mp4', 'a', '/shared/out', o);
      assert.equal(a.jobId, annotateJob('clips/a.mp4', 'a', '/shared/out', { ...o }).jobId);
      assert.notEqual(
        a.jobId,
        annotateJob('clips/a.mp4', 'a', '/shared/out', { ...o, video: true }).jobId,
      );
      assert.notEqual(a.jobId, annotateJob('clips/b.mp4', 'b', '/shared/out', o).jobId);
      assert.ok(!a.jobId.includes(':'));
      assert.equal(annotateJob('https://x.org/v.mp4', 'v', '/o', o).queue, 'cctfer-annotate-urls');
      assert.throws(() => parseRedisUrl('localhost:6379'), /redis:\/\//);
      assert.throws(() => parseRedisUrl('redis://h:1/x'), /database must be a number/);
      assert.deepEqual(parseRedisUrl('redis://h:7000/2'), {
        host: 'h',
        port: 7000,
        db: 2,
        maxRetriesPerRequest: null,
      });
    });

    it(
      '3 videos and a corrupt file across 2 workers, Redis restarted mid-run: outputs equal local annotate, one clear failure',
      { timeout: 240_000 },
      async () => {
        redis = await startRedis();
        const clips = [
          clip('crossing.mp4', 1, join(dir, 'crossing.mp4')),
          clip('zoom.mp4', 1, join(dir, 'zoom.mp4')),
          clip('vfr.mp4', 1, join(dir, 'vfr.mp4')),
        ];
        const broken = join(dir, 'broken.mp4');
        await writeFile(broken, 'this is not a video');
        const shared = join(dir, 'shared');
        const [w1, w2] = [worker(redis.url), worker(redis.url)];
        await Promise.all([w1.saw(/worker ready/), w2.saw(/worker ready/)]);
        const list = join(dir, 'videos.txt');
        await writeFile(list, `# the corpus\n${clips.join('\n')}\nbroken.mp4\n`);
        const enqueue = cctfer([
          'annotate',
          '--queue',
          redis.url,
          list,
          '--out',
          shared,
          '--wait',
          '--attempts',
          '2',
          '--retry-delay',
          '1',
        ]);
        // Restart Redis once the first video is through, while others are still to come.
        await Promise.race([w1.saw(/✓ /), w2.saw(/✓ /)]);
        await redis.restart();
        const r = await enqueue.done;
        assert.equal(r.code, 1, `one job failed, so exit code 1:\n${r.stderr}`);
        assert.match(r.stdout, /3 done, 1 failed/);
        assert.match(r.stderr, /✗ \S*broken\.mp4: not a readable video .*\(2 attempts\)/);
        // Both workers took part, neither died.
        assert.match(w1.stderr(), /started/);
        assert.match(w2.stderr(), /started/);
        assert.equal(w1.child.exitCode, null);
        assert.equal(w2.child.exitCode, null);

        // The same outputs as local annotate of the same videos, under the same folder names.
        const local = join(dir, 'local');
        await annotateVideos(clips, { out: local });
        assert.deepEqual(await visible(shared), clips.map(outputKey).sort());
        for (const c of clips) {
          const mine = await readFile(join(shared, outputKey(c), 'frames.csv'), 'utf8');
          assert.equal(mine, await readFile(join(local, outputKey(c), 'frames.csv'), 'utf8'));
          const rows = parse(mine, { columns: true }) as { frame: string }[];
          assert.equal(new Set(rows.map((x) => x.frame)).size, await countFrames(c));
        }

        // Enqueueing again adds nothing: the jobs are found finished.
        const again = cctfer(['annotate', '--queue', redis.url, list, '--out', shared, '--wait']);
        const a = await again.done;
        assert.match(a.stdout, /3 done, 1 failed/);
        const status = cctfer(['queue', 'status', '--queue', redis.url]);
        const s = await status.done;
        assert.match(s.stdout, /active 0, done 3, failed 1/);
        assert.match(s.stdout, /failed {2}\S*broken\.mp4: not a readable video/);
        assert.match(s.stdout, /workers alive: 2/);
        assert.match(s.stdout, /videos and \d+ frames since start/);
        const clean = await cctfer(['queue', 'clean', '--queue', redis.url, '--keep-failed']).done;
        assert.match(clean.stdout, /3 finished job\(s\) removed/);
        for (const w of [w1, w2]) w.child.kill('SIGTERM');
        await Promise.all([w1.done, w2.done]);
        // With no worker left, a retried job waits where status shows it.
        const retry = await cctfer(['queue', 'retry', '--queue', redis.url]).done;
        assert.match(retry.stdout, /1 failed job\(s\) back in the queue/);
        const after = await cctfer(['queue', 'status', '--queue', redis.url]).done;
        assert.match(after.stdout, /waiting 1, .*done 0, failed 0/);
        assert.match(after.stdout, /workers alive: 0/);
        assert.match(w1.stderr(), /worker stopped/);
        await redis.stop();
        redis = undefined;
      },
    );

    it(
      'a worker SIGKILLed mid-video: its job is finished by another worker, one complete output, nothing partial',
      { timeout: 240_000 },
      async () => {
        redis = await startRedis();
        const video = clip('crossing.mp4', 5, join(dir, 'long.mp4'));
        const shared = join(dir, 'shared-kill');
        const queues = new AnnotationQueues(parseRedisUrl(redis.url));
        try {
          const first = worker(redis.url);
          await first.saw(/worker ready/);
          const jobs = await enqueueVideos(queues, [video], {
            out: shared,
            detector: 'full-range',
            smoothing: parseSmoothing('gaussian:3'),
            video: false,
            report: true,
          });
          // Killed once it has reported progress: mid-video.
          for (;;) {
            const [s] = await jobStates(queues, jobs);
            if (s?.progress && s.progress.frames > 0) break;
            await new Promise((r) => setTimeout(r, 200));
          }
          first.child.kill('SIGKILL');
          await first.done;
          const second = worker(redis.url);
          await second.saw(/✓ long/);
          // The worker logs before BullMQ records the job as completed: wait for the record.
          let s = (await jobStates(queues, jobs))[0];
          while (s?.state === 'active') {
            await new Promise((r) => setTimeout(r, 100));
            s = (await jobStates(queues, jobs))[0];
          }
          assert.equal(s?.state, 'completed');
          assert.deepEqual(await visible(shared), [outputKey(video)]);
          assert.deepEqual(
            (await readdir(shared)).filter((n) => n.startsWith('.')),
            [],
            'no temporary leftovers',
          );
          const rows = parse(await readFile(join(shared, outputKey(video), 'frames.csv'), 'utf8'), {
            columns: true,
          }) as { frame: string }[];
          assert.equal(new Set(rows.map((x) => x.frame)).size, await countFrames(video));
          second.child.kill('SIGTERM');
          await second.done;
        } finally {
          await queues.close();
        }
      },
    );
  },
);
