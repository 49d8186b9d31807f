import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import {
  FERPLUS_VOTE_COLUMNS,
  ferLabels,
  ferplusMajority,
  ferplusVotes,
  isHoldout,
  readFer,
  readFerCsvPair,
  readFerFolder,
} from '../src/data/readers/ferplus.ts';
import { AFFWILD2_CLASSES } from '../src/data/classes.ts';
import { cctLoss } from '../src/cct/loss.ts';
import { tf } from '../src/engine/tf.ts';
import { CctTrainer } from '../src/cct/trainer.ts';
import { saveCheckpoint } from '../src/cct/checkpoint.ts';
import { useTestBackend } from './helpers/backend.ts';

const exec = promisify(execFile);
const bin = fileURLToPath(new URL('../bin/cctfer.js', import.meta.url));
const SHARED = fileURLToPath(new URL('../../shared/data/fer2013', import.meta.url));
const cls = (name: (typeof AFFWILD2_CLASSES)[number]) => AFFWILD2_CLASSES.indexOf(name);

/** Votes in FER+ column order from a partial record. */
const votes = (v: Partial<Record<(typeof FERPLUS_VOTE_COLUMNS)[number], number>>) =>
  FERPLUS_VOTE_COLUMNS.map((c) => v[c] ?? 0);

/** Five rows: label (FER2013 name), usage, votes. Pixels: image i is filled with 10·i + x%7. */
const ROWS = [
  { usage: 'Training', fer: 'angry', votes: votes({ anger: 6, neutral: 4 }) },
  { usage: 'Training', fer: 'fear', votes: votes({ sadness: 5, fear: 3, contempt: 2 }) },
  { usage: 'Training', fer: '', votes: votes({ happiness: 10 }) },
  { usage: 'Training', fer: 'sad', votes: votes({ sadness: 4, neutral: 4, unknown: 2 }) },
  { usage: 'PublicTest', fer: 'neutral', votes: votes({ unknown: 6, neutral: 3, NF: 1 }) },
] as const;
const CODES = ['angry', 'disgust', 'fear', 'happy', 'sad', 'surprise', 'neutral'];
const pixel = (i: number, p: number) => (10 * i + (p % 7)) % 256;

interface Row {
  usage: string;
  fer: string;
  votes: readonly number[];
}

function idx3(n: number): Buffer {
  const header = Buffer.alloc(16);
  header.writeUInt32BE(0x00000803, 0);
  header.writeUInt32BE(n, 4);
  header.writeUInt32BE(48, 8);
  header.writeUInt32BE(48, 12);
  const data = Buffer.alloc(n * 2304);
  for (let i = 0; i < n; i++) for (let p = 0; p < 2304; p++) data[i * 2304 + p] = pixel(i, p);
  return gzipSync(Buffer.concat([header, data]));
}

async function writeFolder(dir: string, rows: readonly Row[] = ROWS): Promise<void> {
  await writeFile(join(dir, 'images-idx3-ubyte.gz'), idx3(rows.length));
  const lines = rows.map((r, i) => [i, r.usage, r.fer, ...r.votes].join(','));
  await writeFile(
    join(dir, 'labels.csv'),
    [`row,usage,fer2013,${FERPLUS_VOTE_COLUMNS.join(',')}`, ...lines].join('\n') + '\n',
  );
}

/** Kaggle + FER+ CSVs for the rows that have an original label, plus one row FER+ dropped. */
async function writeCsvPair(
  dir: string,
  mutate?: (plus: string[]) => void,
): Promise<[string, string]> {
  const rows = ROWS.filter((r) => r.fer !== '');
  const kaggle = ['emotion,pixels,Usage'];
  const plus = [`Usage,Image name,${FERPLUS_VOTE_COLUMNS.join(',')}`];
  rows.forEach((r, i) => {
    const px = Array.from({ length: 2304 }, (_, p) => pixel(i, p)).join(' ');
    kaggle.push(`${CODES.indexOf(r.fer)},${px},${r.usage}`);
    plus.push(`${r.usage},fer${String(i).padStart(7, '0')}.png,${r.votes.join(',')}`);
  });
  // A row FER+ left without an image name (it dropped the image): skipped.
  kaggle.push(`3,${new Array(2304).fill(0).join(' ')},PublicTest`);
  plus.push(`PublicTest,,${votes({ happiness: 10 }).join(',')}`);
  mutate?.(plus);
  const a = join(dir, 'fer2013.csv');
  const b = join(dir, 'fer2013new.csv');
  await writeFile(a, kaggle.join('\n') + '\n');
  await writeFile(b, plus.join('\n') + '\n');
  return [a, b];
}

describe('FER+ label modes', () => {
  it('majority: strictly the most votes; contempt/unknown/NF pluralities and ties dropped', () => {
    assert.equal(ferplusMajority(votes({ anger: 6, neutral: 4 })), cls('Anger'));
    assert.equal(ferplusMajority(votes({ sadness: 4, neutral: 4, unknown: 2 })), null);
    assert.equal(ferplusMajority(votes({ unknown: 6, neutral: 3, NF: 1 })), null);
    assert.equal(ferplusMajority(votes({ contempt: 5, happiness: 4 })), null);
    assert.equal(ferplusMajority(votes({ NF: 10 })), null);
  });

  it('votes: the distribution over the 7 classes, contempt/unknown/NF votes left out', () => {
    const t = ferplusVotes(votes({ sadness: 5, fear: 3, contempt: 2 }))!;
    assert.equal(t.length, 7);
    assert.ok(Math.abs((t[cls('Sadness')] as number) - 5 / 8) < 1e-6);
    assert.ok(Math.abs((t[cls('Fear')] as number) - 3 / 8) < 1e-6);
    assert.ok(Math.abs(t.reduce((a, b) => a + b, 0) - 1) < 1e-6);
    assert.equal(ferplusVotes(votes({ unknown: 7, NF: 3 })), null);
  });
});

describe('FER readers', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cctfer-fer-'));
    await writeFolder(dir);
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('reads the folder form: pixels, usage, original labels in Aff-Wild2 order, votes', async () => {
    const d = await readFerFolder(dir);
    assert.equal(d.rows.length, 5);
    assert.equal(d.pixels.length, 5 * 2304);
    assert.equal(d.pixels[3 * 2304 + 5], pixel(3, 5));
    assert.deepEqual(
      d.rows.map((r) => r.fer2013),
      [cls('Anger'), cls('Fear'), null, cls('Sadness'), cls('Neutral')],
    );
    assert.equal(d.rows[4]!.usage, 'PublicTest');
    assert.deepEqual(d.rows[1]!.votes, ROWS[1].votes);
  });

  it('gives each label mode its rows (empty original labels left out of fer2013 mode)', async () => {
    const d = await readFerFolder(dir);
    const orig = ferLabels(d, 'fer2013', 'Training');
    assert.deepEqual([...orig.indices], [0, 1, 3]);
    assert.deepEqual([...orig.labels], [cls('Anger'), cls('Fear'), cls('Sadness')]);
    assert.equal(orig.dropped, 1);
    const maj = ferLabels(d, 'ferplus-majority', 'Training');
    assert.deepEqual([...maj.indices], [0, 1, 2]);
    assert.deepEqual([...maj.labels], [cls('Anger'), cls('Sadness'), cls('Happiness')]);
    assert.equal(maj.dropped, 1, 'the 4–4 tie is dropped');
    const soft = ferLabels(d, 'ferplus-votes', 'Training');
    assert.deepEqual([...soft.indices], [0, 1, 2, 3]);
    assert.equal(soft.targets!.length, 4 * 7);
    assert.ok(Math.abs((soft.targets![7 + cls('Fear')] as number) - 3 / 8) < 1e-6);
    assert.equal(ferLabels(d, 'ferplus-majority', 'PublicTest').indices.length, 0);
    // Votes averaged with the original label; the votes alone where that label is missing.
    const mixed = ferLabels(d, 'ferplus-votes+fer2013', 'Training');
    assert.deepEqual([...mixed.indices], [0, 1, 2, 3]);
    const t = (row: number, c: Parameters<typeof cls>[0]) => mixed.targets![row * 7 + cls(c)]!;
    assert.ok(Math.abs(t(0, 'Anger') - (0.5 * 0.6 + 0.5)) < 1e-6);
    assert.ok(Math.abs(t(0, 'Neutral') - 0.5 * 0.4) < 1e-6);
    assert.ok(Math.abs(t(2, 'Happiness') - 1) < 1e-6);
    assert.ok(Math.abs(t(3, 'Sadness') - 0.75) < 1e-6);
    assert.equal(mixed.labels[3], cls('Sadness'), 'the original label breaks the 4–4 tie');
    assert.equal(mixed.labels[1], cls('Fear'), '5/8 sadness, 3/8 fear by FER+, fear originally');
  });

  it('reads the two CSVs joined row by row, skipping rows FER+ left without an image', async () => {
    const [a, b] = await writeCsvPair(dir);
    const d = await readFerCsvPair(a, b);
    assert.equal(d.rows.length, 4);
    assert.deepEqual(
      d.rows.map((r) => r.fer2013),
      [cls('Anger'), cls('Fear'), cls('Sadness'), cls('Neutral')],
    );
    assert.equal(d.pixels[2 * 2304 + 5], pixel(2, 5));
    const viaFolder = await readFerFolder(dir);
    assert.deepEqual(d.rows[2]!.votes, viaFolder.rows[3]!.votes);
  });

  it('names the row when the two CSVs disagree on Usage', async () => {
    const [a, b] = await writeCsvPair(dir, (plus) => {
      plus[2] = plus[2]!.replace(/^Training/, 'PublicTest');
    });
    await assert.rejects(readFerCsvPair(a, b), /fer2013\.csv:3 .*fer2013new\.csv:3: Usage differs/);
  });

  it('reports a row-count mismatch between the two CSVs', async () => {
    const [a, b] = await writeCsvPair(dir, (plus) => plus.pop());
    await assert.rejects(readFerCsvPair(a, b), /4 rows but .*fer2013\.csv has 5/);
  });

  it('says what is missing for a bad folder and for three paths', async () => {
    await assert.rejects(readFerFolder(join(dir, 'nope')), /labels\.csv|images-idx3.*missing/);
    await assert.rejects(readFer(['a', 'b', 'c']), /a folder .* or two files/);
  });

  it('holds out a fixed share of rows, the same on every call', () => {
    const held = Array.from({ length: 20000 }, (_, r) => isHoldout(r, 0.1, 0));
    const share = held.filter(Boolean).length / held.length;
    assert.ok(share > 0.09 && share < 0.11, `hold-out share ${share}`);
    assert.deepEqual(
      held.slice(0, 50),
      Array.from({ length: 50 }, (_, r) => isHoldout(r, 0.1, 0)),
    );
  });

  it('`cctfer eval fer` scores the embedded default on a folder, as JSON', async () => {
    const { stdout } = await exec(
      process.execPath,
      [bin, 'eval', 'fer', dir, '--split', 'Training', '--json'],
      { timeout: 120_000 },
    );
    const r = JSON.parse(stdout) as {
      faces: number;
      reports: {
        against: string;
        ensemble: { count: number; confusion: number[][] };
        members: unknown[];
        coverage: { coverage: number; faces: number }[];
      }[];
    };
    assert.equal(r.faces, 4);
    const [plus, orig] = r.reports;
    assert.equal(plus!.against, 'ferplus-majority');
    assert.equal(plus!.ensemble.count, 3, 'rows with a strict FER+ plurality');
    assert.equal(orig!.ensemble.count, 3, 'rows with an original label');
    assert.equal(plus!.members.length, 3);
    assert.equal(
      plus!.ensemble.confusion.flat().reduce((a, b) => a + b, 0),
      3,
    );
    assert.equal(plus!.coverage.at(-1)!.faces, 3);
  });

  it('`cctfer eval fer` rejects a split with no faces, naming the splits present', async () => {
    await assert.rejects(
      exec(process.execPath, [bin, 'eval', 'fer', dir, '--split', 'PrivateTest'], {
        timeout: 120_000,
      }),
      /no faces in split 'PrivateTest' \(splits present: Training, PublicTest\)/,
    );
  });
});

describe('cctfer train on a FER folder', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cctfer-fer-train-'));
    // 48 Training rows: a clear FER+ majority each, the original label often different.
    const rows: Row[] = Array.from({ length: 48 }, (_, i) => ({
      usage: i < 44 ? 'Training' : 'PublicTest',
      fer: CODES[i % 7] as string,
      votes: votes({ [FERPLUS_VOTE_COLUMNS[i % 7]!]: 7, neutral: i % 7 === 0 ? 7 : 3 }),
    }));
    await mkdir(join(dir, 'fer'));
    await writeFolder(join(dir, 'fer'), rows);
    await writeFile(
      join(dir, 'run.json'),
      JSON.stringify({
        data: { fer: ['fer'], labels: 'ferplus-majority', holdout: 0.3, crop: 'fer' },
        trainer: { arch: 'tiny-cnn', members: 2, maxEpochs: 2, batchSize: 8, augment: null },
        stopAfterEpoch: 1,
        out: 'run',
      }),
    );
    // A second stage: on from the first run's checkpoint, on other labels.
    await writeFile(
      join(dir, 'stage2.json'),
      JSON.stringify({
        data: { fer: ['fer'], labels: 'ferplus-votes+fer2013', holdout: 0.3, crop: 'fer' },
        trainer: { arch: 'tiny-cnn', members: 2, maxEpochs: 2, batchSize: 8 },
        continueFrom: 'run/checkpoint',
        logitAdjust: 1,
        out: 'stage2',
      }),
    );
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it(
    'trains, selects on the hold-out, and exports a bundle that records data, labels, terms and command',
    { timeout: 180_000 },
    async () => {
      const { stderr } = await exec(
        process.execPath,
        [
          bin,
          'train',
          '--config',
          join(dir, 'run.json'),
          '--backend',
          'wasm',
          '--member-workers',
          'off',
        ],
        // From inside the folder: the manifest then names the run folder relative to it.
        { timeout: 180_000, cwd: dir },
      );
      assert.match(stderr, /training 2 members in one thread/);
      const m = JSON.parse(await readFile(join(dir, 'run', 'bundle', 'manifest.json'), 'utf8')) as {
        onnx: { inputs: { mode: string; size: number }[] };
        provenance: {
          licence: string;
          data: string;
          labels: string;
          command: string;
          source: string;
        };
        metrics: Record<string, number>;
      };
      assert.deepEqual(m.onnx.inputs, [{ mode: 'fer', size: 16 }]);
      assert.match(m.provenance.source, /^cctfer train, run, best epoch 1 of 1$/);
      assert.match(m.provenance.licence, /research use/);
      assert.match(
        m.provenance.data,
        /^fer: \d+ training images \(ferplus-majority labels\), \d+ held out/,
      );
      assert.match(m.provenance.labels, /^ferplus-majority; best epoch selected on the hold-out/);
      assert.match(m.provenance.command, /^cctfer train --config .*run\.json$/);
      assert.ok(m.metrics.valAccuracy! >= 0 && m.metrics.valAccuracy! <= 1);
      // The run's provenance.json is what `model export --provenance` records.
      await exec(
        process.execPath,
        [
          bin,
          'model',
          'export',
          join(dir, 'run', 'best'),
          join(dir, 'exported'),
          '--crop',
          'fer',
          '--provenance',
          join(dir, 'run', 'provenance.json'),
          '--backend',
          'wasm',
        ],
        { timeout: 120_000 },
      );
      const { stdout } = await exec(process.execPath, [
        bin,
        'model',
        'info',
        join(dir, 'exported'),
      ]);
      assert.match(stdout, /licence \/ terms: research use only/);
      assert.match(stdout, /training labels: ferplus-majority/);
      assert.match(stdout, /trained by: cctfer train --config/);
      assert.match(stdout, /'fer' 16×16×3/);
    },
  );

  it(
    'stops after stopAfterEpoch; a continueFrom stage goes on from that checkpoint on its own labels and bakes in a logit adjustment',
    { timeout: 180_000 },
    async () => {
      const epochs = async (run: string) =>
        (await readFile(join(dir, run, 'train-log.jsonl'), 'utf8'))
          .trim()
          .split('\n')
          .map((l) => (JSON.parse(l) as { epoch: number }).epoch);
      assert.deepEqual(await epochs('run'), [0], 'the first stage trained 1 epoch of 2');
      const args = ['--backend', 'wasm', '--member-workers', 'off'];
      const { stderr } = await exec(
        process.execPath,
        [bin, 'train', '--config', join(dir, 'stage2.json'), ...args],
        { timeout: 180_000 },
      );
      assert.match(stderr, /continuing .*run[/\\]checkpoint at epoch 2 of 2/);
      assert.match(stderr, /ferplus-votes\+fer2013 labels/);
      assert.deepEqual(await epochs('stage2'), [1], 'only the second epoch is trained');
      const m = JSON.parse(
        await readFile(join(dir, 'stage2', 'bundle', 'manifest.json'), 'utf8'),
      ) as { provenance: { labels: string }; metrics: Record<string, number> };
      assert.match(m.provenance.labels, /^ferplus-votes\+fer2013;/);
      assert.match(
        m.provenance.labels,
        /logit adjustment τ = 1 against .* prior \((0\.\d{3}, ){6}0\.\d{3}\)/,
      );
      assert.equal(m.metrics.logitAdjustTau, 1);
      assert.match(stderr, /logit adjustment τ = 1: validation accuracy [\d.]+% → [\d.]+%/);
      // Run again: its own checkpoint wins, and nothing is left to train.
      const again = await exec(
        process.execPath,
        [bin, 'train', '--config', join(dir, 'stage2.json'), ...args],
        { timeout: 180_000 },
      );
      assert.match(again.stderr, /resuming from .*stage2[/\\]checkpoint at epoch 3/);
      // A checkpoint that does not exist is named.
      await writeFile(
        join(dir, 'stage3.json'),
        JSON.stringify({
          data: { fer: ['fer'], holdout: 0.3 },
          trainer: { arch: 'tiny-cnn', members: 2 },
          continueFrom: 'nowhere',
          out: 'stage3',
        }),
      );
      await assert.rejects(
        exec(process.execPath, [bin, 'train', '--config', join(dir, 'stage3.json'), ...args]),
        (err: { stderr: string }) => /continueFrom .*nowhere/.test(err.stderr),
      );
    },
  );
});

describe('soft targets in the CCT loss', () => {
  it('one-hot targets equal integer labels; soft targets give −Σ t·log p', () => {
    const z = [
      tf.tensor2d([
        [1, 2, 0.5],
        [0, -1, 3],
      ]),
      tf.tensor2d([
        [0.2, 0.1, 0],
        [1, 1, 1],
      ]),
    ];
    const hard = cctLoss(z, tf.tensor1d([1, 2], 'int32'), 0.3);
    const oneHot = cctLoss(
      z,
      tf.tensor2d([
        [0, 1, 0],
        [0, 0, 1],
      ]),
      0.3,
    );
    assert.ok(Math.abs(hard.total.dataSync()[0]! - oneHot.total.dataSync()[0]!) < 1e-6);
    const t = tf.tensor2d([
      [0.5, 0.5, 0],
      [0.25, 0, 0.75],
    ]);
    const soft = cctLoss([z[0]!], t, 0);
    const lp = tf.logSoftmax(z[0]!).arraySync();
    const want =
      -(0.5 * lp[0]![0]! + 0.5 * lp[0]![1]! + (0.25 * lp[1]![0]! + 0.75 * lp[1]![2]!)) / 2;
    assert.ok(Math.abs(soft.sup.dataSync()[0]! - want) < 1e-5);
    assert.throws(
      () =>
        cctLoss(
          z,
          tf.tensor2d([
            [1, 0],
            [0, 1],
          ]),
          0,
        ),
      /targets have shape/,
    );
  });
});

describe(
  'FER2013 in ../shared/data',
  {
    skip:
      !existsSync(SHARED) &&
      `${SHARED} is absent: the real-data tests need FER2013 + FER+ votes there`,
  },
  () => {
    it('holds 28,558 Training and 3,579 PublicTest faces; original ≠ FER+ majority on about 37%', async () => {
      const d = await readFerFolder(SHARED);
      const count = (u: string) => d.rows.filter((r) => r.usage === u).length;
      assert.equal(count('Training'), 28558);
      assert.equal(count('PublicTest'), 3579);
      const both = d.rows.filter(
        (r) => r.usage === 'Training' && r.fer2013 !== null && ferplusMajority(r.votes) !== null,
      );
      const differ =
        both.filter((r) => r.fer2013 !== ferplusMajority(r.votes)).length / both.length;
      assert.ok(differ > 0.3 && differ < 0.42, `disagreement ${differ}`);
    });
  },
);

describe(
  'bench/fer-noise --quick (smoke)',
  {
    skip: !existsSync(SHARED) && `${SHARED} is absent: the bench needs FER2013 + FER+ votes there`,
  },
  () => {
    let out: string;
    before(async () => {
      out = await mkdtemp(join(tmpdir(), 'cctfer-fer-noise-'));
    });
    after(() => rm(out, { recursive: true, force: true }));

    it('trains a CCT run and writes the table, JSON and chart', { timeout: 240_000 }, async () => {
      const script = fileURLToPath(new URL('../bench/fer-noise.ts', import.meta.url));
      await exec(
        process.execPath,
        // CCT only: the CE and clean-label runs take the same code path with another loss or label
        // mode, which the trainer tests cover; one run keeps this smoke test short.
        [
          '--import',
          'tsx',
          script,
          '--quick',
          '--runs',
          'cct-s1',
          '--out',
          out,
          '--cache',
          join(out, 'cache'),
        ],
        { timeout: 240_000 },
      );
      const json = JSON.parse(await readFile(join(out, 'fer-noise-quick.json'), 'utf8')) as {
        id: string;
        publicTest: { faces: number; final: { ferplus: { ensemble: { accuracy: number } } } };
      }[];
      assert.deepEqual(
        json.map((r) => r.id),
        ['cct-s1'],
      );
      for (const r of json) {
        assert.equal(r.publicTest.faces, 100);
        const acc = r.publicTest.final.ferplus.ensemble.accuracy;
        assert.ok(acc >= 0 && acc <= 1);
      }
      const md = await readFile(join(out, 'fer-noise-quick.md'), 'utf8');
      assert.match(md, /\| CCT N=3, seed 1 \|/);
      const svg = await readFile(join(out, 'fer-noise-quick.svg'), 'utf8');
      assert.match(svg, /<svg/);
      assert.ok((svg.match(/<path/g) ?? []).length >= 2, 'one line per panel');
    });

    it(
      'refuses to resume a checkpoint of another run, naming what differs',
      { timeout: 120_000 },
      async () => {
        await useTestBackend();
        const cache = join(out, 'other');
        const ckpt = join(`${cache}-quick`, 'ce-s1', 'checkpoint');
        const other = CctTrainer.create({
          arch: 'tiny-cnn',
          inputSize: 16,
          numClasses: 7,
          members: 2,
        });
        await saveCheckpoint(other, ckpt);
        other.dispose();
        const script = fileURLToPath(new URL('../bench/fer-noise.ts', import.meta.url));
        const failed = await exec(
          process.execPath,
          ['--import', 'tsx', script, '--quick', '--runs', 'ce-s1', '--out', out, '--cache', cache],
          { timeout: 120_000 },
        ).then(
          () => assert.fail('the bench resumed a checkpoint of another run'),
          (err: { code: number; stderr: string }) => err,
        );
        assert.notEqual(failed.code, 0);
        assert.match(
          failed.stderr,
          /checkpoint of another run \(arch "tiny-cnn", this run wants "fer-cnn-s"; members 2, this run wants 3;.*\): delete .*ce-s1 to start ce-s1 again/,
        );
        // Nothing of the other run is lost.
        assert.ok(existsSync(join(ckpt, 'weights.bin')));
        assert.ok(!existsSync(join(out, 'fer-noise-quick', 'ce-s1.json')));
      },
    );
  },
);
