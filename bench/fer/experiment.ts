/**
 * One bench/fer-noise run: N members of one architecture trained on FER2013 Training (minus the
 * fixed hold-out) with CE only or CCT, on the original FER2013 labels (or, for the clean
 * reference, the FER+ majority). Resumable per epoch: a checkpoint and one JSON line per epoch
 * live in the run's cache folder; the final result is one JSON file per run.
 *
 * Per epoch, scored on the hold-out (Training rows, FER+ majority; also against the original
 * labels) and — memorisation — on training rows whose FER2013 label differs from their FER+
 * majority: the share of them each model predicts as the FER2013 label. PublicTest is scored
 * once, at the end, for the final epoch and for the epoch that was best on the hold-out.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { CctTrainer } from '../../src/cct/trainer.ts';
import { WorkerTrainer } from '../../src/cct/worker-trainer.ts';
import { loadCheckpoint, saveCheckpoint } from '../../src/cct/checkpoint.ts';
import { inMemoryData, type TrainingData } from '../../src/data/dataset.ts';
import {
  ferLabels,
  ferplusMajority,
  isHoldout,
  type FerData,
  type FerLabelMode,
} from '../../src/data/readers/ferplus.ts';
import { ferPixels } from '../../src/train/fer-sets.ts';
import { classificationReport } from '../../src/metrics/classification.ts';
import { tf } from '../../src/engine/tf.ts';
import { DEFAULT_AUGMENT } from '../../src/data/augment.ts';
import { writeFileAtomic } from '../../src/util/atomic.ts';
import type { EvalTally } from '../../src/cct/tally.ts';

export type Method = 'ce' | 'cct';

export interface RunSpec {
  id: string;
  method: Method;
  /** Training labels: the noisy original ones, or the FER+ majority (clean reference). */
  labels: Extract<FerLabelMode, 'fer2013' | 'ferplus-majority'>;
  members: number;
  seed: number;
  arch: string;
  epochs: number;
  batchSize: number;
  lr: number;
  lrDecay: number;
  /** Fraction of the non-held-out Training rows trained on. */
  subsample: number;
  /** Augmentation: horizontal flips only (true) or none. */
  flip: boolean;
  /** Caps on the evaluation sets (0 = all): quick runs only. */
  evalCap: number;
  memberWorkers: boolean;
}

export interface Scores {
  accuracy: number;
  macroF1: number;
}

export interface ModelScores {
  ensemble: Scores;
  members: Scores[];
}

export interface EpochRecord {
  epoch: number;
  lambda: number;
  loss: number;
  seconds: number;
  /** Per member: accuracy on the (noisy) training labels in training mode, during the epoch. */
  trainAccuracy: number[];
  /** Hold-out, against the FER+ majority (what model selection reads). */
  holdout: ModelScores;
  /** Hold-out, against the original FER2013 labels. */
  holdoutOriginal: ModelScores;
  /** Training rows whose FER2013 label ≠ FER+ majority: share predicted as the FER2013 label. */
  memorised: { ensemble: number; members: number[] };
  /** …and share predicted as the FER+ majority. */
  corrected: { ensemble: number; members: number[] };
}

export interface RunResult {
  spec: RunSpec;
  trainImages: number;
  holdoutImages: number;
  disagreeingImages: number;
  epochs: EpochRecord[];
  /** 0-based epoch with the best hold-out ensemble accuracy (FER+ majority). */
  selectedEpoch: number;
  publicTest: {
    faces: number;
    final: { ferplus: ModelScores; original: ModelScores };
    selected: { ferplus: ModelScores; original: ModelScores };
  };
  /** First epoch (1-based) where the mean member training accuracy passed 70%, if any. */
  memorisationRegimeFrom: number | null;
  seconds: number;
}

interface LabelledRows {
  data: TrainingData;
  /** Per row, the FER+ majority and the original label (−1: none). */
  majority: Int32Array;
  original: Int32Array;
}

async function rowsData(fer: FerData, rows: number[], labels: Int32Array): Promise<LabelledRows> {
  const idx = Int32Array.from(rows);
  return {
    data: inMemoryData(await ferPixels(fer, idx, 48, 1), labels, [48, 48, 1]),
    majority: Int32Array.from(rows, (r) => ferplusMajority(fer.rows[r]!.votes) ?? -1),
    original: Int32Array.from(rows, (r) => fer.rows[r]!.fer2013 ?? -1),
  };
}

const cap = (rows: number[], n: number) => (n > 0 ? rows.slice(0, n) : rows);

/** The run's data: training set (subsampled), hold-out, disagreeing training rows, PublicTest. */
export async function runData(fer: FerData, spec: RunSpec) {
  const lab = ferLabels(fer, spec.labels, 'Training');
  const held = (i: number) => isHoldout(fer.rows[i]!.row, 0.1, 0);
  const keep = (i: number) => spec.subsample >= 1 || isHoldout(fer.rows[i]!.row, spec.subsample, 1);
  const trainPos = [...lab.indices.keys()].filter((p) => {
    const i = lab.indices[p] as number;
    return !held(i) && keep(i);
  });
  const trainRows = trainPos.map((p) => lab.indices[p] as number);
  const train = await rowsData(
    fer,
    trainRows,
    Int32Array.from(trainPos, (p) => lab.labels[p] as number),
  );
  const withMajority = (i: number) => ferplusMajority(fer.rows[i]!.votes) !== null;
  const holdRows = cap(
    fer.rows.flatMap((r, i) => (r.usage === 'Training' && held(i) && withMajority(i) ? [i] : [])),
    spec.evalCap,
  );
  // Memorisation is measured on the rows trained on; with the FER+ labels the "noisy" label is
  // still the original one, so the same rows show what the clean reference predicts there.
  const disagree = cap(
    trainRows.filter((i) => {
      const m = ferplusMajority(fer.rows[i]!.votes);
      const o = fer.rows[i]!.fer2013;
      return m !== null && o !== null && m !== o;
    }),
    spec.evalCap,
  );
  const testRows = cap(
    fer.rows.flatMap((r, i) => (r.usage === 'PublicTest' ? [i] : [])),
    spec.evalCap,
  );
  const zeros = (n: number) => new Int32Array(n);
  return {
    train,
    holdout: await rowsData(fer, holdRows, zeros(holdRows.length)),
    disagree: await rowsData(fer, disagree, zeros(disagree.length)),
    test: await rowsData(fer, testRows, zeros(testRows.length)),
  };
}

function scores(truth: Int32Array, preds: { members: Int32Array[]; ensemble: Int32Array }) {
  const keep = [...truth.keys()].filter((i) => (truth[i] as number) >= 0);
  const t = keep.map((i) => truth[i] as number);
  const s = (p: Int32Array): Scores => {
    const r = classificationReport(
      t,
      keep.map((i) => p[i] as number),
      7,
    );
    return { accuracy: r.accuracy, macroF1: r.macroF1 };
  };
  return { ensemble: s(preds.ensemble), members: preds.members.map(s) };
}

function share(target: Int32Array, p: Int32Array): number {
  let n = 0;
  target.forEach((t, i) => (n += p[i] === t ? 1 : 0));
  return target.length ? n / target.length : 0;
}

export interface RunHooks {
  onStep?: (done: number, total: number) => void;
  onEpoch?: (r: EpochRecord) => void;
  log?: (line: string) => void;
}

/** The trainer settings a run's spec stands for (what a resumed checkpoint must match). */
export function trainerConfig(spec: RunSpec) {
  return {
    arch: spec.arch,
    members: spec.members,
    seed: spec.seed,
    inputSize: 48,
    inChannels: 1,
    maxEpochs: spec.epochs,
    batchSize: spec.batchSize,
    consistency: spec.method === 'cct',
    lrBackbone: spec.lr,
    lrHead: spec.lr,
    lrDecay: spec.lrDecay,
    // Flips only: no jitter, affine or erasing.
    augment: spec.flip ? { ...DEFAULT_AUGMENT, jitterAffineP: 0, eraseP: 0 } : null,
  };
}

/** Trains (or resumes) one run; writes `<resultFile>` when done and returns the result. */
export async function runExperiment(
  fer: FerData,
  spec: RunSpec,
  cacheDir: string,
  resultFile: string,
  hooks: RunHooks = {},
): Promise<RunResult> {
  const d = await runData(fer, spec);
  const dir = join(cacheDir, spec.id);
  const ckpt = join(dir, 'checkpoint');
  const bestDir = join(dir, 'best');
  const epochsFile = join(dir, 'epochs.json');
  await mkdir(dir, { recursive: true });
  const config = trainerConfig(spec);
  let trainer: CctTrainer;
  if (existsSync(ckpt)) {
    // A damaged checkpoint, or one of another run, is an error: never a silent restart.
    trainer = await loadCheckpoint(ckpt);
    const other = (Object.keys(config) as (keyof typeof config)[]).filter(
      (k) => !isDeepStrictEqual(trainer.config[k], config[k]),
    );
    if (other.length > 0) {
      trainer.dispose();
      throw new Error(
        `${ckpt} is a checkpoint of another run (${other
          .map(
            (k) =>
              `${k} ${JSON.stringify(trainer.config[k])}, this run wants ${JSON.stringify(config[k])}`,
          )
          .join('; ')}): delete ${dir} to start ${spec.id} again`,
      );
    }
    hooks.log?.(`${spec.id}: resuming at epoch ${trainer.epoch + 1}`);
  } else {
    trainer = CctTrainer.create(config);
  }
  const records: EpochRecord[] = JSON.parse(
    await readFile(epochsFile, 'utf8').catch(() => '[]'),
  ).filter((r: EpochRecord) => r.epoch < trainer.epoch);
  const workers =
    spec.memberWorkers && spec.members > 1
      ? await WorkerTrainer.start(trainer, { backend: tf.getBackend() as 'wasm' })
      : undefined;
  const tally = (data: TrainingData): Promise<EvalTally> | EvalTally =>
    workers ? workers.tally(data) : trainer.tally(data);
  const evalAll = async () => {
    const h = (await tally(d.holdout.data)).predictions();
    const m = (await tally(d.disagree.data)).predictions();
    return {
      holdout: scores(d.holdout.majority, h),
      holdoutOriginal: scores(d.holdout.original, h),
      memorised: {
        ensemble: share(d.disagree.original, m.ensemble),
        members: m.members.map((p) => share(d.disagree.original, p)),
      },
      corrected: {
        ensemble: share(d.disagree.majority, m.ensemble),
        members: m.members.map((p) => share(d.disagree.majority, p)),
      },
    };
  };
  const testScores = async () => {
    const p = (await tally(d.test.data)).predictions();
    return { ferplus: scores(d.test.majority, p), original: scores(d.test.original, p) };
  };
  try {
    while (trainer.epoch < spec.epochs) {
      const t0 = performance.now();
      const onStep = (_: unknown, done: number, total: number) => hooks.onStep?.(done, total);
      const log = workers
        ? await workers.trainEpoch(d.train.data, { onStep })
        : trainer.trainEpoch(d.train.data, { onStep });
      const record: EpochRecord = {
        epoch: log.epoch,
        lambda: log.lambda,
        loss: log.meanTotal,
        seconds: (performance.now() - t0) / 1000,
        trainAccuracy: log.trainAccuracy,
        ...(await evalAll()),
      };
      await workers?.sync();
      records.push(record);
      const best = records.reduce((a, b) =>
        b.holdout.ensemble.accuracy > a.holdout.ensemble.accuracy ? b : a,
      );
      // Order for resuming: best (if this epoch is it), epochs file, then the checkpoint.
      if (best === record) await saveCheckpoint(trainer, bestDir);
      await writeFileAtomic(epochsFile, JSON.stringify(records));
      await saveCheckpoint(trainer, ckpt);
      hooks.onEpoch?.(record);
    }
    const final = await testScores();
    const selectedEpoch = records.reduce((a, b) =>
      b.holdout.ensemble.accuracy > a.holdout.ensemble.accuracy ? b : a,
    ).epoch;
    let selected = final;
    if (selectedEpoch !== records.at(-1)!.epoch) {
      const bestTrainer = await loadCheckpoint(bestDir);
      const bestWorkers = workers
        ? await WorkerTrainer.start(bestTrainer, { backend: tf.getBackend() as 'wasm' })
        : undefined;
      try {
        const p = (
          bestWorkers ? await bestWorkers.tally(d.test.data) : bestTrainer.tally(d.test.data)
        ).predictions();
        selected = { ferplus: scores(d.test.majority, p), original: scores(d.test.original, p) };
      } finally {
        await bestWorkers?.close();
        bestTrainer.dispose();
      }
    }
    const regime = records.find(
      (r) => r.trainAccuracy.reduce((a, b) => a + b, 0) / r.trainAccuracy.length > 0.7,
    );
    const result: RunResult = {
      spec,
      trainImages: d.train.data.size,
      holdoutImages: d.holdout.data.size,
      disagreeingImages: d.disagree.data.size,
      epochs: records,
      selectedEpoch,
      publicTest: { faces: d.test.data.size, final, selected },
      memorisationRegimeFrom: regime ? regime.epoch + 1 : null,
      seconds: records.reduce((a, r) => a + r.seconds, 0),
    };
    await writeFileAtomic(resultFile, JSON.stringify(result, null, 1));
    await rm(dir, { recursive: true, force: true });
    return result;
  } finally {
    await workers?.close();
    trainer.dispose();
  }
}
