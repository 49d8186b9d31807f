/**
 * Training on Aff-Wild2, read directly: ingest (decode → detect → align, the serving stages, into
 * the crop cache) → CCT epochs (pipelines share src/cct) with validation every epoch → checkpoint
 * every epoch, resumable → log, plots → the best-by-validation ensemble exported as a bundle.
 *
 *   <out>/checkpoint/      the latest epoch (resume point)
 *   <out>/best/            the best epoch by the ensemble's ABAW 2021 score on the validation set
 *   <out>/train-log.jsonl  one line per epoch: losses, λ, learning rates, validation per member and ensemble
 *   <out>/plots/*.svg      loss, λ, validation score per epoch; the best epoch's confusion matrix
 *   <out>/bundle/          the exported bundle (serve/annotate/submit --bundle <out>/bundle)
 */
import { appendFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import {
  CctTrainer,
  type EpochLog,
  type EvaluationReport,
  type StepLog,
} from '../src/cct/trainer.ts';
import { loadCheckpoint, saveCheckpoint } from '../src/cct/checkpoint.ts';
import { WorkerTrainer } from '../src/cct/worker-trainer.ts';
import { tf } from '../src/engine/tf.ts';
import { readAffWild2Set } from '../src/data/readers/affwild2.ts';
import { ingestEntry, type IngestResult } from '../src/train/ingest.ts';
import { loadCropCache } from '../src/train/crop-cache.ts';
import { concatData, imageSamplesData, readImageSet } from '../src/train/image-sets.ts';
import { confusionChart, lineChart } from '../src/train/plots.ts';
import { exportTrainerBundle, FER_LICENCE, type TrainProvenance } from '../src/train/export.ts';
import { loadPretrained, readPretrained } from '../src/models/pretrained.ts';
import { classPrior, logitShift, shiftHeadBias } from '../src/train/logit-adjust.ts';
import { DetectorWorker } from '../src/stream/detector-worker.ts';
import type { FrameDetector } from '../src/stream/operators.ts';
import { wholeImageDetector } from '../src/video/image-frames.ts';
import { writeFileAtomic } from '../src/util/atomic.ts';
import { shownPath } from '../src/util/shown-path.ts';
import { AFFWILD2_CLASSES } from '../src/data/classes.ts';
import type { Affwild2Data, TrainRun } from '../src/train/config.ts';
import type { TrainingData } from '../src/data/dataset.ts';
import { loadFerSets, type FerDataConfig } from '../src/train/fer-sets.ts';
import { getArch } from '../src/models/registry.ts';
import type { FfmpegBinary } from '../src/video/ffmpeg-binary.ts';

export interface TrainHooks {
  ffmpeg?: FfmpegBinary;
  onIngest?: (set: string, r: IngestResult) => void;
  onIngestProgress?: (entry: string, done: number, total: number) => void;
  onStep?: (epoch: number, step: StepLog, done: number, total: number) => void;
  onEpoch?: (line: EpochLine) => void;
  log?: (line: string) => void;
  /** The command line that started the run, recorded in the bundle's provenance. */
  command?: string;
  /** Train no further: export the best epoch so far (a run stopped early). */
  exportOnly?: boolean;
}

export interface EpochLine extends Omit<EpochLog, 'steps'> {
  seconds: number;
  imagesPerSecond: number;
  val: {
    ensemble: EvaluationReport['ensemble'];
    members: Pick<EvaluationReport['ensemble'], 'accuracy' | 'macroF1' | 'abaw2021'>[];
    meanConsensus: number;
  };
}

export async function ingestRun(
  run: TrainRun & { data: Affwild2Data },
  hooks: TrainHooks = {},
): Promise<{ train: string; val: string }> {
  const d = run.data;
  const size = d.size ?? run.trainer.inputSize ?? 112;
  // Started on the first frame that needs it: a resumed run whose entries are all cached starts
  // no detector (about 1 s of CPU).
  let worker: Promise<DetectorWorker> | undefined;
  const lazyDetector: FrameDetector = {
    detect: async (frame) =>
      (await (worker ??= DetectorWorker.create({ refine: d.crop === 'aligned' }))).detect(frame),
  };
  try {
    for (const [set, dir] of [
      ['train', d.train],
      ['val', d.val],
    ] as const) {
      const results: IngestResult[] = [];
      for (const a of await readAffWild2Set(dir)) {
        const r = await ingestEntry(a, {
          videosDir: d.videos,
          cacheDir: join(d.cache, set),
          detector: d.croppedAligned ? wholeImageDetector : lazyDetector,
          crop: d.crop,
          size,
          everyNth: d.everyNth,
          ...(d.croppedAligned && { framesRoot: d.croppedAligned }),
          ...(hooks.ffmpeg && { ffmpeg: hooks.ffmpeg }),
          ...(hooks.onIngestProgress && { onProgress: hooks.onIngestProgress }),
        });
        results.push(r);
        hooks.onIngest?.(set, r);
      }
      if (!results.some((r) => r.status !== 'failed'))
        throw new Error(`${dir}: no entry could be ingested`);
    }
  } finally {
    await (await worker?.catch(() => undefined))?.close();
  }
  return { train: join(d.cache, 'train'), val: join(d.cache, 'val') };
}

/** The Aff-Wild2 crop caches (ingested first) plus any still-image sets: training and validation data. */
async function affwild2Sets(
  run: TrainRun & { data: Affwild2Data },
  hooks: TrainHooks,
): Promise<{ train: TrainingData; val: TrainingData }> {
  const caches = await ingestRun(run, hooks);
  const cache = await loadCropCache(caches.train);
  const size0 = cache.data.imageShape[0];
  // Still-image datasets join the Aff-Wild2 crops (labels already in Aff-Wild2 order).
  const extras = [];
  for (const set of run.data.extra) {
    const { samples, dropped } = await readImageSet(set);
    hooks.log?.(
      `${set.format} ${set.labels}: ${samples.length} images${dropped ? ` (${dropped} dropped by the label table)` : ''}`,
    );
    extras.push(await imageSamplesData(samples, size0));
  }
  const train = extras.length ? concatData([cache, ...extras], size0) : cache.data;
  return { train, val: (await loadCropCache(caches.val)).data };
}

const isFer = (run: TrainRun): run is TrainRun & { data: FerDataConfig } => 'fer' in run.data;

export async function trainRun(
  run: TrainRun,
  hooks: TrainHooks = {},
): Promise<{ bundle: string; best: number }> {
  let sets: { train: TrainingData; val: TrainingData };
  let provenance: TrainProvenance;
  if (isFer(run)) {
    // FER images go in at the configured size and channels (default: the arch's, 48² grey).
    const spec = getArch(run.trainer.arch).defaults;
    const fer = await loadFerSets(
      run.data,
      run.trainer.inputSize ?? spec.inputSize,
      run.trainer.inChannels ?? spec.inChannels,
    );
    hooks.log?.(fer.summary);
    sets = fer;
    provenance = {
      data: fer.summary,
      labels: `${run.data.labels}; best epoch selected on the hold-out against the FER+ majority`,
      licence: FER_LICENCE,
    };
  } else {
    const aw = run.data as Affwild2Data;
    sets = await affwild2Sets({ ...run, data: aw }, hooks);
    provenance = {
      data: `Aff-Wild2 ${aw.train} (${sets.train.size} crops${aw.extra.length ? ' with still-image sets' : ''}), validation ${aw.val}`,
      labels: 'Aff-Wild2 expression annotations (7 classes)',
      licence: 'as the training data allows (Aff-Wild2: its EULA, non-commercial research)',
    };
  }
  if (hooks.command) provenance.command = hooks.command;
  const train = { data: sets.train };
  const val = { data: sets.val };
  const size = train.data.imageShape[0];
  await mkdir(join(run.out, 'plots'), { recursive: true });
  const ckpt = join(run.out, 'checkpoint');
  const logFile = join(run.out, 'train-log.jsonl');
  let trainer: CctTrainer;
  try {
    trainer = await loadCheckpoint(ckpt);
    hooks.log?.(`resuming from ${ckpt} at epoch ${trainer.epoch + 1}`);
  } catch (err) {
    if (!/ENOENT|no such file|missing/i.test((err as Error).message)) throw err;
    trainer = run.continueFrom
      ? await continued(run.continueFrom, size, train.data.imageShape[2], hooks)
      : CctTrainer.create({
          ...run.trainer,
          inputSize: size,
          inChannels: train.data.imageShape[2],
        });
    if (run.pretrained) {
      const tensors = await readPretrained(run.pretrained);
      for (const member of trainer.members) {
        const r = loadPretrained(member, tensors, run.pretrained, { skipHead: true });
        hooks.log?.(
          `pretrained ${run.pretrained}: ${r.loaded.length} tensors loaded${r.skipped.length ? `; kept our own ${r.skipped.map((s) => `${s.name} (${s.reason})`).join(', ')}` : ''}`,
        );
      }
    }
  }
  const backend = tf.getBackend();
  const useWorkers =
    run.memberWorkers === 'auto'
      ? backend === 'wasm' && trainer.config.members > 1
      : run.memberWorkers;
  let workers: WorkerTrainer | undefined;
  try {
    if (useWorkers) {
      if (backend !== 'wasm' && backend !== 'cpu' && backend !== 'tensorflow')
        throw new Error(`memberWorkers: the ${backend} backend cannot run in worker threads`);
      workers = await WorkerTrainer.start(trainer, { backend });
    }
    hooks.log?.(
      workers
        ? `training ${trainer.config.members} members in ${trainer.config.members} worker threads (${backend} backend, one heap each)`
        : `training ${trainer.config.members} members in one thread (${backend} backend)`,
    );
    // Epochs after the checkpoint (a run killed between log and checkpoint) are trained again.
    const previous = (await readFile(logFile, 'utf8').catch(() => ''))
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as EpochLine)
      .filter((l) => l.epoch < trainer.epoch);
    await writeFileAtomic(logFile, previous.map((l) => JSON.stringify(l) + '\n').join(''));
    const lines = [...previous];
    // The best so far is what best/ holds (best.json is written after it, atomically).
    const bestFile = join(run.out, 'best.json');
    let best =
      JSON.parse(await readFile(bestFile, 'utf8').catch(() => '{"score":null}')).score ?? -Infinity;
    if (hooks.exportOnly && lines.length === 0)
      throw new Error(`${run.out}: no trained epoch to export yet`);
    const lastEpoch = Math.min(trainer.config.maxEpochs, run.stopAfterEpoch ?? Infinity);
    while (!hooks.exportOnly && trainer.epoch < lastEpoch) {
      const epoch = trainer.epoch;
      const t0 = performance.now();
      const onStep = (s: StepLog, done: number, total: number) =>
        hooks.onStep?.(epoch, s, done, total);
      const { steps: _steps, ...log } = workers
        ? await workers.trainEpoch(train.data, { onStep })
        : trainer.trainEpoch(train.data, { onStep });
      void _steps;
      const seconds = (performance.now() - t0) / 1000;
      const report = workers ? await workers.evaluate(val.data) : trainer.evaluate(val.data);
      // Checkpoints and export read the trainer: bring the workers' weights back first.
      await workers?.sync();
      const line: EpochLine = {
        ...log,
        seconds,
        imagesPerSecond: log.images / seconds,
        val: {
          ensemble: report.ensemble,
          members: report.members.map(({ accuracy, macroF1, abaw2021 }) => ({
            accuracy,
            macroF1,
            abaw2021,
          })),
          meanConsensus: report.meanConsensus,
        },
      };
      lines.push(line);
      // Order matters for resuming: log, then best, then the checkpoint. A run killed in between
      // retrains this epoch (deterministically, to the same numbers) and rewrites both.
      await appendFile(logFile, JSON.stringify(line) + '\n');
      if (report.ensemble.abaw2021 > best) {
        best = report.ensemble.abaw2021;
        await saveCheckpoint(trainer, join(run.out, 'best'));
        await writeFileAtomic(bestFile, JSON.stringify({ epoch, score: best }));
        await writeFile(
          join(run.out, 'plots', 'confusion.svg'),
          confusionChart(
            `validation confusion, epoch ${epoch + 1} (best)`,
            report.ensemble.confusion,
            AFFWILD2_CLASSES,
          ),
        );
      }
      await saveCheckpoint(trainer, ckpt);
      await writePlots(run.out, lines);
      hooks.onEpoch?.(line);
    }
    if (lines.length === 0)
      throw new Error(
        `${run.out}: no epoch left to train: the checkpoint is at epoch ${trainer.epoch} of ${trainer.config.maxEpochs}${run.stopAfterEpoch ? ` (stopAfterEpoch ${run.stopAfterEpoch})` : ''}`,
      );
    const bestLine = lines.reduce((a, b) =>
      b.val.ensemble.abaw2021 > a.val.ensemble.abaw2021 ? b : a,
    );
    // What `cctfer model export --provenance` records for bundles made from this run's checkpoints.
    const recorded: TrainProvenance = {
      ...provenance,
      metrics: {
        valAbaw2021: bestLine.val.ensemble.abaw2021,
        valMacroF1: bestLine.val.ensemble.macroF1,
        valAccuracy: bestLine.val.ensemble.accuracy,
        bestEpoch: bestLine.epoch + 1,
      },
    };
    await writeFileAtomic(join(run.out, 'provenance.json'), JSON.stringify(recorded, null, 2));
    const bestTrainer = await loadCheckpoint(join(run.out, 'best'));
    try {
      const bundle = join(run.out, 'bundle');
      await exportTrainerBundle(bestTrainer, bundle, {
        name: run.bundleName ?? basename(run.out),
        crop: run.data.crop,
        source: `cctfer train, ${shownPath(run.out)}, best epoch ${bestLine.epoch + 1} of ${lines.length}`,
        provenance: run.logitAdjust
          ? adjustForExport(bestTrainer, run.logitAdjust, train.data, val.data, recorded, hooks)
          : recorded,
      });
      return { bundle, best };
    } finally {
      bestTrainer.dispose();
    }
  } finally {
    await workers?.close();
    trainer.dispose();
  }
}

/**
 * Bakes the logit adjustment into the best epoch's members (a copy loaded for export: the
 * checkpoint stays as trained) and re-scores them on the validation set for the manifest.
 */
function adjustForExport(
  trainer: CctTrainer,
  tau: number,
  train: TrainingData,
  val: TrainingData,
  recorded: TrainProvenance,
  hooks: TrainHooks,
): TrainProvenance {
  const prior = classPrior(train, trainer.config.numClasses);
  const shift = logitShift(prior, tau);
  for (const member of trainer.members) shiftHeadBias(member, shift);
  const report = trainer.evaluate(val);
  const pct = (x: number) => (100 * x).toFixed(1);
  hooks.log?.(
    `logit adjustment τ = ${tau}: validation accuracy ${pct(recorded.metrics?.valAccuracy ?? NaN)}% → ${pct(report.ensemble.accuracy)}%, macro-F1 ${pct(recorded.metrics?.valMacroF1 ?? NaN)}% → ${pct(report.ensemble.macroF1)}%`,
  );
  return {
    ...recorded,
    labels: `${recorded.labels}; logit adjustment τ = ${tau} against the training labels' class prior (${prior.map((p) => p.toFixed(3)).join(', ')})`,
    metrics: {
      ...recorded.metrics,
      valAbaw2021: report.ensemble.abaw2021,
      valMacroF1: report.ensemble.macroF1,
      valAccuracy: report.ensemble.accuracy,
      logitAdjustTau: tau,
    },
  };
}

/** A fine-tuning stage's start: the other run's checkpoint, checked against this run's data. */
async function continued(
  dir: string,
  size: number,
  channels: number,
  hooks: TrainHooks,
): Promise<CctTrainer> {
  let trainer: CctTrainer;
  try {
    trainer = await loadCheckpoint(dir);
  } catch (err) {
    throw new Error(`continueFrom ${dir}: ${(err as Error).message}`);
  }
  const { inputSize, inChannels } = trainer.config;
  if (inputSize !== size || inChannels !== channels) {
    trainer.dispose();
    throw new Error(
      `continueFrom ${dir}: its nets take ${inputSize}×${inputSize}×${inChannels} input, this run's data is ${size}×${size}×${channels}`,
    );
  }
  hooks.log?.(
    `continuing ${dir} at epoch ${trainer.epoch + 1} of ${trainer.config.maxEpochs} (its trainer settings; this config's are not used)`,
  );
  return trainer;
}

async function writePlots(out: string, lines: EpochLine[]): Promise<void> {
  const dir = join(out, 'plots');
  await writeFile(
    join(dir, 'loss.svg'),
    lineChart('training loss', 'epoch', [
      { name: 'total', values: lines.map((l) => l.meanTotal) },
      { name: 'CE', values: lines.map((l) => l.meanSup) },
      { name: 'KL', values: lines.map((l) => l.meanCons) },
    ]),
  );
  await writeFile(
    join(dir, 'lambda.svg'),
    lineChart('λ (consistency weight)', 'epoch', [
      { name: 'λ', values: lines.map((l) => l.lambda) },
    ]),
  );
  await writeFile(
    join(dir, 'validation.svg'),
    lineChart('validation', 'epoch', [
      { name: 'ABAW score', values: lines.map((l) => l.val.ensemble.abaw2021) },
      { name: 'macro F1', values: lines.map((l) => l.val.ensemble.macroF1) },
      { name: 'accuracy', values: lines.map((l) => l.val.ensemble.accuracy) },
      ...(lines[0]?.val.members ?? []).map((_, j) => ({
        name: `member ${j + 1}`,
        values: lines.map((l) => l.val.members[j]?.abaw2021 ?? NaN),
      })),
    ]),
  );
}
