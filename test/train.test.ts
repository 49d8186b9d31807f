import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { waitForPath } from './helpers/wait-for-path.ts';
import { makeAffWild2Fixture, frameCode } from '../scripts/make-affwild2-fixture.ts';
import { decodeFrames } from '../src/video/decode.ts';
import { readAffWild2Set, parseAffWild2Annotation } from '../src/data/readers/affwild2.ts';
import { ingestEntry } from '../src/train/ingest.ts';
import { readCacheEntry } from '../src/train/crop-cache.ts';
import { readTrainConfig } from '../src/train/config.ts';
import { DetectorWorker } from '../src/stream/detector-worker.ts';
import { annotateVideos } from '../pipelines/annotate.ts';
import { evaluateBundle } from '../pipelines/eval.ts';
import { AFFWILD2_CLASSES } from '../src/data/classes.ts';

const cli = fileURLToPath(new URL('../bin/cctfer.js', import.meta.url));

function train(config: string, ...extra: string[]) {
  const child = spawn(
    process.execPath,
    [cli, 'train', '--config', config, '--backend', 'wasm', '--quiet', ...extra],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d));
  const done = new Promise<{ code: number | null; signal: string | null; stderr: string }>((r) =>
    child.on('close', (code, signal) => r({ code, signal, stderr })),
  );
  return { child, done };
}

const epochLosses = async (out: string) =>
  (await readFile(join(out, 'train-log.jsonl'), 'utf8'))
    .trim()
    .split('\n')
    .map(
      (l) =>
        JSON.parse(l) as {
          epoch: number;
          meanTotal: number;
          meanSup: number;
          val: { ensemble: { abaw2021: number } };
        },
    );

describe('Aff-Wild2 training mode', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cctfer-train-'));
    await makeAffWild2Fixture(dir);
  });
  after(async () => rm(dir, { recursive: true, force: true }));

  it(
    'pairs label line i with decoded frame i (a VFR video whose frames show their own index)',
    { timeout: 300_000 },
    async () => {
      const [a] = await readAffWild2Set(join(dir, 'annotations', 'Validation_Set'));
      assert.ok(a);
      let n = 0;
      const codes: number[] = [];
      for await (const f of decodeFrames(join(dir, 'videos', 'counter.mp4'))) {
        const code = await frameCode(f);
        codes.push(code);
        assert.equal(a.labels[f.index], code % 7, `frame ${f.index} shows code ${code}`);
        n++;
      }
      assert.equal(n, a.labels.length, 'one label line per decoded frame');
      assert.ok(
        new Set(codes).size === codes.length,
        'every decoded frame is a different source frame',
      );
      assert.ok(
        codes.at(-1)! > n - 1,
        'the VFR retiming dropped frames, so indices and codes differ',
      );
      // The cache keeps the same pairing through detection and cropping.
      const detector = await DetectorWorker.create({ refine: true });
      try {
        const cache = join(dir, 'align-cache');
        const r = await ingestEntry(a, {
          videosDir: join(dir, 'videos'),
          cacheDir: cache,
          detector,
          size: 32,
        });
        assert.equal(r.status, 'done', r.error);
        const entry = await readCacheEntry(cache, 'counter');
        assert.ok(entry && entry.count >= n - 2);
        entry.frames.forEach((frame, k) =>
          assert.equal(entry.labels[k], (codes[frame] as number) % 7),
        );
        // Ingest resumes per entry: a finished entry is not redone.
        assert.equal(
          (
            await ingestEntry(a, {
              videosDir: join(dir, 'videos'),
              cacheDir: cache,
              detector,
              size: 32,
            })
          ).status,
          'cached',
        );
        // A label file more than one frame off stops that video with a clear message.
        const long = parseAffWild2Annotation(
          join(dir, 'solo.txt'),
          `${AFFWILD2_CLASSES.join(',')}\n${'4\n'.repeat(60)}`,
        );
        const bad = await ingestEntry(long, {
          videosDir: join(dir, 'videos'),
          cacheDir: cache,
          detector,
          size: 32,
        });
        assert.equal(bad.status, 'failed');
        assert.match(
          bad.error ?? '',
          /solo\.txt: 60 label lines but the video decodes to 50 frames/,
        );
      } finally {
        await detector.close();
      }
    },
  );

  it(
    'trains end to end, resumes a killed run to the same losses, exports a bundle annotate uses',
    { timeout: 300_000 },
    async () => {
      const config = (out: string) => ({
        data: {
          videos: 'videos',
          train: 'annotations/Train_Set',
          val: 'annotations/Validation_Set',
          cache: 'cache32',
          size: 32,
        },
        trainer: {
          arch: 'tiny-cnn',
          members: 3,
          batchSize: 16,
          maxEpochs: 3,
          iterationsPerEpoch: 6,
          seed: 3,
        },
        out,
      });
      await writeFile(join(dir, 'a.json'), JSON.stringify(config('run-a')));
      await writeFile(join(dir, 'b.json'), JSON.stringify(config('run-b')));
      const a = await train(join(dir, 'a.json')).done;
      assert.equal(a.code, 0, a.stderr);
      assert.match(a.stderr, /training 3 members in 3 worker threads \(wasm backend/);
      const runA = await epochLosses(join(dir, 'run-a'));
      assert.equal(runA.length, 3);
      assert.ok(runA[2]!.meanSup < runA[0]!.meanSup, 'the CE loss goes down');
      assert.deepEqual((await readdir(join(dir, 'run-a', 'plots'))).sort(), [
        'confusion.svg',
        'lambda.svg',
        'loss.svg',
        'validation.svg',
      ]);

      // Kill run b hard during its second epoch, then run it again.
      const b = train(join(dir, 'b.json'));
      // The first epoch's checkpoint is written: the run is now in its second epoch.
      // The checkpoint folder is renamed into place whole: watch the run folder itself.
      const written = await waitForPath(
        join(dir, 'run-b'),
        (p) => p === join('checkpoint', 'checkpoint.json'),
        b.done,
      );
      if (!written)
        assert.fail(`run b ended before its first checkpoint: ${(await b.done).stderr}`);
      b.child.kill('SIGKILL');
      assert.equal((await b.done).signal, 'SIGKILL');
      const resumed = await train(join(dir, 'b.json')).done;
      assert.equal(resumed.code, 0, resumed.stderr);
      assert.match(resumed.stderr, /resuming from .*checkpoint at epoch [23]/);
      const runB = await epochLosses(join(dir, 'run-b'));
      assert.deepEqual(
        runB.map((l) => l.epoch),
        [0, 1, 2],
      );
      runB.forEach((l, i) => {
        assert.equal(l.meanTotal, runA[i]!.meanTotal, `epoch ${i + 1} total loss`);
        assert.equal(l.val.ensemble.abaw2021, runA[i]!.val.ensemble.abaw2021);
      });

      const bundle = join(dir, 'run-a', 'bundle');
      const [r] = await annotateVideos([join(dir, 'videos', 'solo.mp4')], {
        out: join(dir, 'ann'),
        bundle,
      });
      assert.equal(r?.status, 'done', r?.error);
      assert.equal(r?.summary?.frames, 50);
    },
  );

  it(
    'evaluates a bundle on an annotated set, per member and ensemble, with a smoothing sweep',
    { timeout: 300_000 },
    async () => {
      // The pretrained pair: a fixed bundle, so the figures below stay exact whatever the default.
      const report = await evaluateBundle({
        bundle: fileURLToPath(new URL('../models/pretrained-pair', import.meta.url)),
        videosDir: join(dir, 'videos'),
        annotations: join(dir, 'annotations', 'Train_Set'),
        sweep: ['none', 'gaussian:3'],
      });
      // solo: 45 annotated frames, 25 of them Happiness; the pair is labelled Sadness / Surprise.
      assert.equal(report.scoredFrames, 45 + 36 + 40);
      assert.equal(report.entries, 3);
      assert.deepEqual(
        report.ensemble.map((e) => e.smoothing),
        ['none', 'gaussian:3'],
      );
      const none = report.ensemble[0]!.report;
      assert.ok(Math.abs(none.accuracy - 25 / 121) < 1e-9, `accuracy ${none.accuracy}`);
      assert.ok(Math.abs(none.abaw2021 - (0.67 * none.macroF1 + 0.33 * none.accuracy)) < 1e-12);
      assert.equal(none.confusion[4]![4], 25);
      assert.equal(report.members.length, 2);
    },
  );

  it('validates the run config and names the bad field', { timeout: 300_000 }, async () => {
    const f = join(dir, 'bad.json');
    await writeFile(
      f,
      JSON.stringify({
        data: { videos: 'v', train: 't', val: 'v', cache: 'c' },
        trainer: { members: 9 },
        out: 'o',
      }),
    );
    await assert.rejects(
      readTrainConfig(f),
      /bad\.json: trainer\.members: Number must be less than or equal to 4/,
    );
    await writeFile(f, '{ nope');
    await assert.rejects(readTrainConfig(f), /bad\.json: not valid JSON/);
    await mkdir(join(dir, 'x'), { recursive: true });
    await writeFile(
      f,
      JSON.stringify({
        data: { videos: 'v', train: 't', val: 'v', cache: 'c', bogus: 1 },
        trainer: {},
        out: 'o',
      }),
    );
    await assert.rejects(readTrainConfig(f), /data: Unrecognized key/);
    const stage = { data: { fer: ['f'] }, trainer: {}, out: 'o', continueFrom: 'c' };
    await writeFile(f, JSON.stringify({ ...stage, pretrained: 'p.safetensors' }));
    await assert.rejects(
      readTrainConfig(f),
      /continueFrom: pretrained and continueFrom exclude each other/,
    );
    await writeFile(f, JSON.stringify({ ...stage, logitAdjust: -1 }));
    await assert.rejects(readTrainConfig(f), /logitAdjust: Number must be greater than or equal/);
  });
});
