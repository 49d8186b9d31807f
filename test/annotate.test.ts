import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { waitForPath } from './helpers/wait-for-path.ts';
import { parse } from 'csv-parse/sync';
import sharp from 'sharp';
import { annotateVideos, parseSmoothing, VideoAnalyser } from '../pipelines/annotate.ts';
import { countFrames } from '../src/video/probe.ts';
import { resolveFfmpeg } from '../src/video/ffmpeg-binary.ts';
import { decodeFrames } from '../src/video/decode.ts';
import { FaceDetector } from '../src/faces/detector.ts';
import { alignedCrops } from '../src/faces/align.ts';
import { outputKey } from '../src/video/source-names.ts';

const fixture = (name: string) => fileURLToPath(new URL(`../fixtures/${name}`, import.meta.url));
/** The output folder annotate writes for an input. */
const keyed = (out: string, input: string) => join(out, outputKey(input));
const cli = fileURLToPath(new URL('../bin/cctfer.js', import.meta.url));

function run(args: string[], onStderr?: (s: string) => void) {
  const child = spawn(process.execPath, [cli, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d));
  child.stderr.on('data', (d: Buffer) => {
    stderr += d;
    onStderr?.(d.toString());
  });
  const done = new Promise<{
    code: number | null;
    signal: string | null;
    stdout: string;
    stderr: string;
  }>((r) => child.on('close', (code, signal) => r({ code, signal, stdout, stderr })));
  return { child, done };
}

describe('cctfer annotate', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cctfer-annotate-'));
  });
  after(async () => rm(dir, { recursive: true, force: true }));

  it(
    'writes one CSV row per frame per face, frames without faces included, counts equal to decoded frames',
    { timeout: 180_000 },
    async () => {
      const out = join(dir, 'basic');
      const results = await annotateVideos([fixture('crossing.mp4'), fixture('vfr.mp4')], {
        out,
        video: true,
        jobs: 2,
      });
      assert.deepEqual(
        results.map((r) => [r.id, r.status, r.error ?? '']),
        [
          ['crossing', 'done', ''],
          ['vfr', 'done', ''],
        ],
      );
      for (const name of ['crossing', 'vfr']) {
        const decoded = await countFrames(fixture(`${name}.mp4`));
        const rows = parse(
          await readFile(join(keyed(out, fixture(`${name}.mp4`)), 'frames.csv'), 'utf8'),
          {
            columns: true,
          },
        ) as Record<string, string>[];
        const frames = new Set(rows.map((r) => Number(r.frame)));
        assert.equal(frames.size, decoded, `${name}: every decoded frame has rows`);
        assert.deepEqual([...frames], [...Array(decoded).keys()], 'in frame order');
        const jsonl = (
          await readFile(join(keyed(out, fixture(`${name}.mp4`)), 'frames.jsonl'), 'utf8')
        )
          .trim()
          .split('\n');
        assert.equal(jsonl.length, decoded);
        let faceRows = 0;
        for (const r of rows) {
          if (r.face === '') {
            assert.equal(r.label, '');
            continue;
          }
          faceRows++;
          const probs = Object.keys(r)
            .filter((k) => k.startsWith('p_'))
            .map((k) => Number(r[k]));
          assert.equal(probs.length, 7);
          assert.ok(Math.abs(probs.reduce((a, b) => a + b, 0) - 1) < 2e-3);
          assert.ok(Number(r.consensus) >= 0 && Number(r.consensus) <= 1);
        }
        const perFrame = jsonl.map((l) => (JSON.parse(l) as { faces: unknown[] }).faces.length);
        assert.equal(
          faceRows,
          perFrame.reduce((a, b) => a + b, 0),
        );
        const summary = JSON.parse(
          await readFile(join(keyed(out, fixture(`${name}.mp4`)), 'summary.json'), 'utf8'),
        ) as {
          frames: number;
          faces: { dominant: string }[];
        };
        assert.equal(summary.frames, decoded);
        assert.ok(summary.faces.every((f) => f.dominant === 'Happiness'));
        // The annotated video has exactly the decoded frames.
        assert.equal(
          await countFrames(join(keyed(out, fixture(`${name}.mp4`)), 'annotated.mp4')),
          decoded,
        );
      }
      const crossing = parse(
        await readFile(join(keyed(out, fixture('crossing.mp4')), 'frames.csv'), 'utf8'),
        {
          columns: true,
        },
      ) as Record<string, string>[];
      assert.ok(new Set(crossing.map((r) => r.face)).size >= 3, 'two tracks plus the re-entry');
    },
  );

  it('keeps the original audio in the annotated MP4', { timeout: 180_000 }, async () => {
    const ff = resolveFfmpeg().path;
    const withAudio = join(dir, 'talk.mp4');
    execFileSync(ff, [
      '-loglevel',
      'error',
      '-i',
      fixture('zoom.mp4'),
      '-f',
      'lavfi',
      '-i',
      'sine=frequency=440:duration=3',
      '-c:v',
      'copy',
      '-c:a',
      'aac',
      '-shortest',
      withAudio,
    ]);
    const [r] = await annotateVideos([withAudio], { out: join(dir, 'audio'), video: true });
    assert.equal(r?.status, 'done', r?.error);
    const info = spawnSync(ff, ['-hide_banner', '-i', join(r!.dir, 'annotated.mp4')], {
      encoding: 'utf8',
    }).stderr;
    assert.match(info, /Stream #0:\d.*Audio: aac/);
    assert.match(info, /Stream #0:\d.*Video: h264/);
  });

  it(
    'reports a corrupt video with a clear error and still annotates the others',
    { timeout: 180_000 },
    async () => {
      const bad = join(dir, 'corrupt.mp4');
      const bytes = await readFile(fixture('zoom.mp4'));
      await writeFile(bad, bytes.subarray(0, 2000));
      const garbage = join(dir, 'garbage.mp4');
      await writeFile(garbage, 'this is not a video');
      const out = join(dir, 'corrupt-out');
      const results = await annotateVideos([bad, garbage, fixture('zoom.mp4')], { out });
      assert.equal(results[0]?.status, 'failed');
      assert.match(results[0]?.error ?? '', /corrupt\.mp4/);
      assert.equal(results[1]?.status, 'failed');
      assert.match(results[1]?.error ?? '', /garbage\.mp4/);
      assert.equal(results[2]?.status, 'done');
      assert.deepEqual(await readdir(out), [outputKey(fixture('zoom.mp4'))]);
    },
  );

  it(
    'a killed run resumes without duplicated or partial outputs',
    { timeout: 180_000 },
    async () => {
      const videos = join(dir, 'videos');
      await mkdir(videos, { recursive: true });
      for (const n of ['a', 'b', 'c'])
        await copyFile(fixture(n === 'b' ? 'vfr.mp4' : 'zoom.mp4'), join(videos, `${n}.mp4`));
      const out = join(dir, 'resume');
      const key = (n: string) => outputKey(join(videos, `${n}.mp4`));
      // Kill hard as soon as the first video is complete (its directory appears).
      const first = run(['annotate', videos, '--out', out, '--quiet']);
      const done = await waitForPath(out, (p) => p === key('a'), first.done);
      if (!done)
        assert.fail(`annotate exited before it could be killed: ${(await first.done).stderr}`);
      first.child.kill('SIGKILL');
      const killed = await first.done;
      assert.equal(killed.signal, 'SIGKILL');
      const before = await stat(join(out, key('a'), 'frames.csv'));
      const left = await readdir(out);
      assert.ok(!left.includes(key('c')), `killed before the end: ${left.join(', ')}`);
      const second = await run(['annotate', videos, '--out', out, '--quiet', '--no-report']).done;
      assert.equal(second.code, 0, second.stderr);
      assert.match(second.stderr, /= a: already done/);
      assert.deepEqual(
        (await readdir(out)).sort(),
        ['a', 'b', 'c'].map(key).sort(),
        'no temporary leftovers',
      );
      assert.equal(
        (await stat(join(out, key('a'), 'frames.csv'))).mtimeMs,
        before.mtimeMs,
        'finished output untouched',
      );
      // The first run wrote the report; the second was told not to.
      for (const n of ['a', 'b', 'c'])
        assert.deepEqual(
          (await readdir(join(out, key(n)))).filter((f) => /report|timeline/.test(f)).sort(),
          n === 'a' ? ['report.html', 'timeline.svg'] : [],
        );
      for (const n of ['a', 'b', 'c']) {
        const rows = (await readFile(join(out, key(n), 'frames.jsonl'), 'utf8')).trim().split('\n');
        assert.equal(rows.length, n === 'b' ? 64 : 75);
      }
      assert.match(second.stdout, /Happiness/);
      assert.match(second.stdout, /2 annotated, 1 already done, 0 failed/);
    },
  );

  it(
    'reads cropped_aligned frames instead of decoding and detecting',
    { timeout: 180_000 },
    async () => {
      const root = join(dir, 'cropped_aligned');
      await mkdir(join(root, 'zoom'), { recursive: true });
      const detector = await FaceDetector.create();
      let written = 0;
      for await (const f of decodeFrames(fixture('zoom.mp4'))) {
        if (f.index >= 10 && f.index < 13) continue; // some frames have no crop
        const faces = detector.detect(f);
        if (!faces[0] || f.index >= 40) continue;
        const crop = alignedCrops(f, [faces[0].keypoints], 112);
        const rgb = Buffer.from(Uint8Array.from(crop, (v) => Math.round(v * 255)));
        await sharp(rgb, { raw: { width: 112, height: 112, channels: 3 } })
          .jpeg({ quality: 92 })
          .toFile(join(root, 'zoom', `${String(f.index + 1).padStart(5, '0')}.jpg`));
        written++;
      }
      detector.close();
      const out = join(dir, 'crops-out');
      const [r] = await annotateVideos([], { out, crops: true, framesRoot: root });
      assert.equal(r?.status, 'done', r?.error);
      const lines = (await readFile(join(keyed(out, join(root, 'zoom')), 'frames.jsonl'), 'utf8'))
        .trim()
        .split('\n');
      assert.equal(lines.length, written);
      const faces = lines.map(
        (l) => JSON.parse(l) as { faces: { smoothedLabel: string; box: { width: number } }[] },
      );
      assert.ok(faces.every((f) => f.faces.length === 1 && f.faces[0]?.box.width === 112));
      assert.ok(
        faces.filter((f) => f.faces[0]?.smoothedLabel === 'Happiness').length >= written - 2,
      );
    },
  );

  it(
    'a stage that throws fails that video only: the next video is analysed',
    { timeout: 180_000 },
    async () => {
      const analyser = await VideoAnalyser.create();
      try {
        // A frame whose pixel buffer is far too small for its size makes face detection throw.
        async function* broken() {
          yield {
            sourceId: 'broken',
            index: 0,
            pts: 0,
            width: 640,
            height: 480,
            data: new Uint8Array(12),
          };
        }
        await assert.rejects(
          analyser.analyse('broken', 'broken.mp4', broken()),
          /detect|pixel|size|buffer|bytes/i,
        );
        const file = fixture('zoom.mp4');
        const ok = await analyser.analyse('zoom', file, decodeFrames(file, { sourceId: 'zoom' }));
        assert.equal(ok.frames.length, 75);
      } finally {
        await analyser.close();
      }
    },
  );

  it('parses smoothing specs and rejects bad ones', () => {
    assert.deepEqual(parseSmoothing('gaussian:2').offline, { method: 'gaussian', sigma: 2 });
    assert.deepEqual(parseSmoothing('box:3').offline, { method: 'box', radius: 3 });
    assert.deepEqual(parseSmoothing('ema:200'), { causal: { method: 'ema', halfLifeMs: 200 } });
    assert.throws(() => parseSmoothing('box:1.5'), /smoothing must be/);
    assert.throws(() => parseSmoothing('median:3'), /smoothing must be/);
  });
});
