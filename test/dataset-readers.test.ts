import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  parseAffWild2Annotation,
  readAffWild2Set,
  reconcileFrames,
} from '../src/data/readers/affwild2.ts';
import { readAffectNet, readFer2013, readRafDb } from '../src/data/readers/image-datasets.ts';
import { LABEL_MAPS, mapLabel } from '../src/data/readers/label-map.ts';
import { AFFWILD2_CLASSES } from '../src/data/classes.ts';

const H = AFFWILD2_CLASSES.join(',');

describe('label table', () => {
  it('maps each dataset to Aff-Wild2 order by name', () => {
    const name = (i: number | null) => (i === null ? null : AFFWILD2_CLASSES[i]);
    assert.deepEqual(LABEL_MAPS.affectnet.map(name), [
      'Neutral',
      'Happiness',
      'Sadness',
      'Surprise',
      'Fear',
      'Disgust',
      'Anger',
      null,
      null,
      null,
      null,
    ]);
    assert.deepEqual(LABEL_MAPS.rafdb.slice(1).map(name), [
      'Surprise',
      'Fear',
      'Disgust',
      'Happiness',
      'Sadness',
      'Anger',
      'Neutral',
    ]);
    assert.deepEqual(LABEL_MAPS.fer2013.map(name), [
      'Anger',
      'Disgust',
      'Fear',
      'Happiness',
      'Sadness',
      'Surprise',
      'Neutral',
    ]);
    assert.throws(
      () => mapLabel('rafdb', 0, 'x.txt:3'),
      /x\.txt:3: label 0 is not a rafdb expression code \(1\.\.7\)/,
    );
    assert.throws(() => mapLabel('fer2013', 7, 'f.csv:9'), /f\.csv:9/);
  });
});

describe('Aff-Wild2 annotation files', () => {
  it('reads labels with -1 kept, and _left/_right entries', () => {
    const a = parseAffWild2Annotation('Train_Set/video5_left.txt', `${H}\n4\n-1\n0\n6\n`);
    assert.deepEqual([...a.labels], [4, -1, 0, 6]);
    assert.equal(a.video, 'video5');
    assert.equal(a.side, 'left');
    assert.equal(parseAffWild2Annotation('a.txt', `${H},Other\n7\n`).classes, 8);
  });

  it('reports a bad header, a malformed line and a label out of range with file and line', () => {
    assert.throws(
      () => parseAffWild2Annotation('a.txt', 'Neutral,Happy\n1\n'),
      /a\.txt:1: header must be/,
    );
    assert.throws(
      () => parseAffWild2Annotation('a.txt', `${H}\n1\n2x\n`),
      /a\.txt:3: expected an integer label, got '2x'/,
    );
    assert.throws(
      () => parseAffWild2Annotation('a.txt', `${H}\n1\n\n`),
      /a\.txt:3: expected an integer/,
    );
    assert.throws(
      () => parseAffWild2Annotation('a.txt', `${H}\n7\n`),
      /a\.txt:2: label 7 out of range \(-1 or 0\.\.6\)/,
    );
    assert.throws(
      () => parseAffWild2Annotation('a.txt', `${H}\n-2\n`),
      /a\.txt:2: label -2 out of range/,
    );
  });

  it('tolerates a one-frame count mismatch (reported), stops at more', () => {
    const a = parseAffWild2Annotation('v.txt', `${H}\n1\n2\n3\n4\n`);
    assert.equal(reconcileFrames(a, 4).note, undefined);
    const one = reconcileFrames(a, 3);
    assert.deepEqual([...one.labels], [1, 2, 3]);
    assert.match(one.note ?? '', /4 label lines, 3 decoded frames/);
    assert.equal(reconcileFrames(a, 5).labels.length, 4);
    assert.throws(
      () => reconcileFrames(a, 6),
      /v\.txt: 4 label lines but the video decodes to 6 frames \(more than one frame apart/,
    );
  });
});

describe('image dataset readers', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cctfer-readers-'));
  });
  after(async () => rm(dir, { recursive: true, force: true }));

  it('RAF-DB basic: its label file, train/test split, bad lines named', async () => {
    const f = join(dir, 'list_patition_label.txt');
    await writeFile(f, 'train_00001.jpg 4\ntest_0001.jpg 7\n');
    const r = await readRafDb(f, join(dir, 'aligned'));
    assert.deepEqual(
      r.samples.map((s) => [s.split, AFFWILD2_CLASSES[s.label]]),
      [
        ['train', 'Happiness'],
        ['test', 'Neutral'],
      ],
    );
    await writeFile(f, 'train_00001.jpg 4\ntrain_00002.jpg\n');
    await assert.rejects(
      readRafDb(f, dir),
      /list_patition_label\.txt:2: expected '<image> <label 1\.\.7>'/,
    );
    await writeFile(f, 'train_00001.jpg 9\n');
    await assert.rejects(readRafDb(f, dir), /:1: label 9 is not a rafdb expression code/);
  });

  it('AffectNet: Contempt and None/Uncertain/Non-Face dropped and counted', async () => {
    const f = join(dir, 'training.csv');
    await writeFile(
      f,
      'subDirectory_filePath,face_x,expression,valence\n1/a.jpg,0,1,0.5\n1/b.jpg,0,7,0\n1/c.jpg,0,10,0\n1/d.jpg,0,6,0\n',
    );
    const r = await readAffectNet(f, join(dir, 'Manually_Annotated_Images'));
    assert.deepEqual(
      r.samples.map((s) => AFFWILD2_CLASSES[s.label]),
      ['Happiness', 'Anger'],
    );
    assert.equal(r.dropped, 2);
    await writeFile(f, 'subDirectory_filePath,expression\n1/a.jpg,11\n');
    await assert.rejects(
      readAffectNet(f, dir),
      /training\.csv:2: label 11 is not a affectnet expression code/,
    );
    await writeFile(f, 'subDirectory_filePath,expression\n1/a.jpg,\n');
    await assert.rejects(
      readAffectNet(f, dir),
      /training\.csv:2: missing or non-numeric 'expression'/,
    );
  });

  it('FER2013: 48×48 pixels inline; short pixel rows and bad labels named', async () => {
    const f = join(dir, 'fer2013.csv');
    const px = Array.from({ length: 2304 }, (_, i) => i % 256).join(' ');
    await writeFile(f, `emotion,pixels,Usage\n3,${px},Training\n6,${px},PublicTest\n`);
    const r = await readFer2013(f);
    assert.deepEqual(
      r.samples.map((s) => [AFFWILD2_CLASSES[s.label], s.split, s.pixels?.length]),
      [
        ['Happiness', 'Training', 2304],
        ['Neutral', 'PublicTest', 2304],
      ],
    );
    await writeFile(f, `emotion,pixels,Usage\n3,1 2 3,Training\n`);
    await assert.rejects(readFer2013(f), /fer2013\.csv:2: 'pixels' must be 2304 integers/);
    await writeFile(f, `emotion,pixels,Usage\n8,${px},Training\n`);
    await assert.rejects(readFer2013(f), /fer2013\.csv:2: label 8 is not a fer2013/);
  });

  it('an Aff-Wild2 set folder: every file read, an empty folder refused', async () => {
    const set = join(dir, 'Train_Set');
    await mkdir(set);
    await assert.rejects(readAffWild2Set(set), /Train_Set: no \.txt annotation files/);
    await writeFile(join(set, 'b.txt'), `${H}\n1\n`);
    await writeFile(join(set, 'a_right.txt'), `${H}\n2\n-1\n`);
    assert.deepEqual(
      (await readAffWild2Set(set)).map((a) => [a.entry, a.labels.length]),
      [
        ['a_right', 2],
        ['b', 1],
      ],
    );
    await assert.rejects(
      readAffWild2Set(join(dir, 'nope')),
      /nope: cannot read the annotation folder \(ENOENT\)/,
    );
  });
});

describe('image datasets as training data', () => {
  it('decodes RAF-DB files and FER2013 pixels to size×size RGB with Aff-Wild2 labels', async () => {
    const { imageSamplesData, readImageSet, concatData } =
      await import('../src/train/image-sets.ts');
    const sharp = (await import('sharp')).default;
    const dir = await mkdtemp(join(tmpdir(), 'cctfer-imgsets-'));
    try {
      await mkdir(join(dir, 'aligned'));
      await sharp({
        create: { width: 100, height: 100, channels: 3, background: { r: 200, g: 10, b: 10 } },
      })
        .png()
        .toFile(join(dir, 'aligned', 'train_00001.png'));
      await writeFile(join(dir, 'labels.txt'), 'train_00001.png 4\ntest_0001.png 1\n');
      const raf = await readImageSet({
        format: 'rafdb',
        labels: join(dir, 'labels.txt'),
        images: join(dir, 'aligned'),
        split: 'train',
      });
      assert.equal(raf.samples.length, 1, 'split filter');
      const a = await imageSamplesData(raf.samples, 16);
      assert.deepEqual([...a.pixels.subarray(0, 3)], [200, 10, 10]);
      const px = Array.from({ length: 2304 }, () => 77).join(' ');
      await writeFile(join(dir, 'fer.csv'), `emotion,pixels,Usage\n6,${px},Training\n`);
      const fer = await imageSamplesData(
        (await readImageSet({ format: 'fer2013', labels: join(dir, 'fer.csv') })).samples,
        16,
      );
      assert.deepEqual(
        [...fer.pixels.subarray(0, 6)],
        [77, 77, 77, 77, 77, 77],
        'grey replicated to RGB',
      );
      assert.deepEqual([...fer.labels], [0], 'FER2013 Neutral (6) is Aff-Wild2 Neutral (0)');
      const all = concatData([a, fer], 16);
      assert.equal(all.size, 2);
      await assert.rejects(
        readImageSet({ format: 'affectnet', labels: join(dir, 'x.csv') }),
        /needs "images"/,
      );
      const missing = await readImageSet({
        format: 'rafdb',
        labels: join(dir, 'labels.txt'),
        images: join(dir, 'aligned'),
        split: 'test',
      });
      await assert.rejects(
        imageSamplesData(missing.samples, 16),
        /test_0001\.png: cannot read the image/,
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
