import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { checkSubmission, readEntryList, submit } from '../pipelines/submit.ts';
import {
  checkTxt,
  entryLabels,
  parseEntry,
  pickFace,
  SUBMISSION_HEADER,
} from '../src/annotate/submission.ts';
import type { FaceRecord, VideoAnalysis } from '../src/annotate/records.ts';
import { AFFWILD2_CLASSES } from '../src/data/classes.ts';

const fixture = (name: string) => fileURLToPath(new URL(`../fixtures/${name}`, import.meta.url));

function face(x: number, label: number, size = 50): FaceRecord {
  const probs = AFFWILD2_CLASSES.map((_, i) => (i === label ? 0.9 : 0.1 / 6));
  return {
    id: 1,
    box: { x, y: 10, width: size, height: size },
    score: 0.9,
    probs,
    smoothed: probs,
    label: '',
    smoothedLabel: '',
    consensus: 1,
  };
}

function video(frames: FaceRecord[][]): VideoAnalysis {
  return {
    id: 'v',
    input: 'v.mp4',
    width: 640,
    height: 480,
    classes: [...AFFWILD2_CLASSES],
    frames: frames.map((faces, index) => ({ index, pts: index / 25, faces })),
  };
}

describe('submission rules', () => {
  it('left/right pick by horizontal position; plain entries take the largest face', () => {
    const two = [face(400, 1), face(50, 2)];
    assert.equal(pickFace(two, 'left', 640)?.box.x, 50);
    assert.equal(pickFace(two, 'right', 640)?.box.x, 400);
    assert.equal(
      pickFace([face(500, 1)], 'left', 640),
      undefined,
      'a lone face on the right is not the left person',
    );
    assert.equal(pickFace([face(500, 1)], 'right', 640)?.box.x, 500);
    assert.equal(pickFace([face(0, 1, 20), face(300, 2, 80)], undefined, 640)?.box.x, 300);
    assert.deepEqual(parseEntry('10-60-1280x720_right'), {
      name: '10-60-1280x720_right',
      video: '10-60-1280x720',
      side: 'right',
    });
  });

  it('frames without the face take the nearest labelled frame (earlier on a tie)', () => {
    const v = video([[], [face(10, 3)], [], [], [], [face(10, 5)], [], []]);
    const { labels, filled } = entryLabels(v, parseEntry('v'));
    assert.deepEqual(labels, [3, 3, 3, 3, 5, 5, 5, 5]);
    assert.equal(filled, 6);
    assert.deepEqual(
      entryLabels(video([[], []]), parseEntry('v')).labels,
      [0, 0],
      'no face at all: Neutral',
    );
  });

  it('the validator names the file, line and reason', () => {
    const good = `${SUBMISSION_HEADER}\n4\n0\n6\n`;
    assert.deepEqual(checkTxt('a.txt', good, 3), []);
    assert.match(
      checkTxt('a.txt', good, 4).join(),
      /a\.txt: 3 label lines, but the video decodes to 4 frames/,
    );
    assert.match(checkTxt('a.txt', `Neutral,Anger\n1\n`).join(), /a\.txt:1: header must be/);
    assert.match(
      checkTxt('a.txt', `${SUBMISSION_HEADER}\n1\n7\n`).join(),
      /a\.txt:3: label must be an integer 0\.\.6, got '7'/,
    );
    assert.match(checkTxt('a.txt', `${SUBMISSION_HEADER}\n1\n-1\n`).join(), /a\.txt:3: .*got '-1'/);
    assert.match(checkTxt('a.txt', `${SUBMISSION_HEADER}\n1.5\n`).join(), /a\.txt:2:/);
  });
});

describe('cctfer submit end to end', () => {
  let dir: string;
  let videos: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cctfer-submit-'));
    videos = join(dir, 'videos');
    await mkdir(videos);
    await copyFile(fixture('crossing.mp4'), join(videos, 'two.mp4'));
    await copyFile(fixture('vfr.mp4'), join(videos, 'one.mp4'));
    await writeFile(join(dir, 'list.txt'), '# test set\ntwo_left\ntwo_right.txt\none\n');
  });
  after(async () => rm(dir, { recursive: true, force: true }));

  it(
    'writes one file per entry with one label per decoded frame; --check passes, then catches each fault',
    { timeout: 240_000 },
    async () => {
      const out = join(dir, 'out');
      assert.deepEqual(await readEntryList(join(dir, 'list.txt')), [
        'one',
        'two_left',
        'two_right',
      ]);
      const results = await submit({ videosDir: videos, list: join(dir, 'list.txt'), out });
      assert.deepEqual(
        results.map((r) => [r.name, r.status, r.frames, r.error]),
        [
          ['one', 'done', 64, undefined],
          ['two_left', 'done', 125, undefined],
          ['two_right', 'done', 125, undefined],
        ],
      );
      const ok = await checkSubmission(out, { videosDir: videos, list: join(dir, 'list.txt') });
      assert.deepEqual(ok, { files: 3, problems: [] });
      const left = (await readFile(join(out, 'two_left.txt'), 'utf8')).split('\n');
      assert.equal(left[0], SUBMISSION_HEADER);
      assert.ok(
        left.slice(1, -1).every((l) => l === '4'),
        'the astronaut is happy on both sides',
      );

      const faults: [string, (lines: string[]) => string[], RegExp][] = [
        [
          'missing line',
          (l) => l.slice(0, -2).concat(''),
          /two_left\.txt: 124 label lines, but the video decodes to 125 frames/,
        ],
        ['bad header', (l) => ['neutral,anger', ...l.slice(1)], /two_left\.txt:1: header must be/],
        [
          'label out of range',
          (l) => [l[0] as string, '9', ...l.slice(2)],
          /two_left\.txt:2: label must be an integer 0\.\.6, got '9'/,
        ],
      ];
      for (const [what, edit, expected] of faults) {
        const bad = join(dir, `bad-${what.replace(/ /g, '-')}`);
        await mkdir(bad);
        await writeFile(join(bad, 'two_left.txt'), edit(left).join('\n'));
        const report = await checkSubmission(bad, { videosDir: videos });
        assert.match(report.problems.join('\n'), expected, what);
      }
      const missing = await checkSubmission(join(dir, 'bad-bad-header'), {
        list: join(dir, 'list.txt'),
      });
      assert.match(missing.problems.join('\n'), /one\.txt: missing/);
    },
  );

  it('writes the later single-CSV format', { timeout: 240_000 }, async () => {
    const out = join(dir, 'csv');
    const results = await submit({
      videosDir: videos,
      list: join(dir, 'list.txt'),
      out,
      format: 'csv',
    });
    assert.deepEqual(
      results.map((r) => [r.name, r.status, r.error]),
      [
        ['one', 'done', undefined],
        ['two_left', 'done', undefined],
        ['two_right', 'done', undefined],
      ],
    );
    const lines = (await readFile(join(out, 'predictions.csv'), 'utf8')).trim().split('\n');
    assert.equal(lines[0], `image_location,${AFFWILD2_CLASSES.join(',')},Other`);
    assert.equal(lines.length, 1 + 64 + 125 + 125);
    assert.equal(lines[1], 'one/00001.jpg,4');
  });

  it(
    'uses cropped_aligned frames, giving missing crops the nearest label',
    { timeout: 240_000 },
    async () => {
      const root = join(dir, 'cropped_aligned');
      await mkdir(join(root, 'solo'), { recursive: true });
      const crop = await sharp(fixture('astronaut.png'))
        .extract({ left: 150, top: 30, width: 140, height: 140 })
        .resize(112, 112)
        .jpeg()
        .toBuffer();
      for (const n of [1, 2, 3, 4, 5, 8])
        await writeFile(join(root, 'solo', `${String(n).padStart(5, '0')}.jpg`), crop);
      await writeFile(join(dir, 'solo-list.txt'), 'solo\n');
      const out = join(dir, 'crops-out');
      const [r] = await submit({ list: join(dir, 'solo-list.txt'), out, framesRoot: root });
      assert.equal(r?.status, 'done', r?.error);
      assert.equal(r?.frames, 8);
      assert.equal(r?.filled, 2);
      const lines = (await readFile(join(out, 'solo.txt'), 'utf8')).trim().split('\n');
      assert.equal(lines.length, 9);
    },
  );
});
