/** One noisy-label training run: subsample, inject noise, train, evaluate every epoch. */
import { CctTrainer, inMemoryData, Rng, tf, type TrainingData } from '../../src/index.ts';
import {
  loadDigitDataset,
  type DigitDatasetName,
  type LabelledImages,
} from '../../src/data/digit-datasets.ts';
import {
  FASHION_PAIRS,
  injectNoise,
  MNIST_PAIRS,
  type NoiseType,
} from '../../src/data/label-noise.ts';

export type Method = 'ce' | 'ce-ensemble' | 'cct';

export interface RunSpec {
  id: string;
  group: 'main' | 'seeds' | 'ablation-members' | 'ablation-beta';
  dataset: DigitDatasetName;
  noise: { type: NoiseType; rate: number };
  method: Method;
  members: number;
  beta: number;
  seed: number;
  epochs: number;
  trainSize: number;
  valSize: number;
  /** 0 = the whole test set. */
  testSize: number;
}

export interface EpochRecord {
  epoch: number;
  lambda: number;
  loss: number;
  /** Ensemble accuracy on the clean test labels. */
  testAcc: number;
  /** Ensemble accuracy on the noisy validation split (used for model selection). */
  valAcc: number;
}

export interface RunResult {
  spec: RunSpec;
  actualNoiseRate: number;
  epochs: EpochRecord[];
  finalTestAcc: number;
  /** Best test accuracy over epochs: an oracle, reported for reference only. */
  bestTestAcc: number;
  bestEpoch: number;
  /** Test accuracy at the epoch with the best noisy-validation accuracy. */
  selectedTestAcc: number;
  selectedEpoch: number;
  /** Final-epoch accuracy on the noisy training labels (eval mode). */
  finalTrainAccNoisy: number;
  /** Fraction of label-flipped training samples the final model predicts as their noisy label. */
  memorised: number;
  seconds: number;
}

const datasets = new Map<string, { train: LabelledImages; test: LabelledImages }>();

async function load(name: DigitDatasetName) {
  let d = datasets.get(name);
  if (!d) {
    d = {
      train: await loadDigitDataset(name, 'train'),
      test: await loadDigitDataset(name, 'test'),
    };
    datasets.set(name, d);
  }
  return d;
}

function subset(src: LabelledImages, indices: number[], labels?: Int32Array): TrainingData {
  const per = 28 * 28;
  const pixels = new Uint8Array(indices.length * per);
  indices.forEach((idx, k) => pixels.set(src.pixels.subarray(idx * per, (idx + 1) * per), k * per));
  return inMemoryData(
    pixels,
    labels ?? Int32Array.from(indices, (i) => src.labels[i]!),
    [28, 28, 1],
  );
}

export async function runExperiment(
  spec: RunSpec,
  onEpoch?: (r: EpochRecord) => void,
): Promise<RunResult> {
  const started = performance.now();
  const { train, test } = await load(spec.dataset);
  // The subsample and the noise depend on (dataset, seed) only: every method sees the same data.
  const order = new Rng(1000 + spec.seed).shuffle(
    Array.from({ length: train.labels.length }, (_, i) => i),
  );
  const pool = order.slice(0, spec.trainSize + spec.valSize);
  const clean = Int32Array.from(pool, (i) => train.labels[i]!);
  const noisy = injectNoise(clean, {
    type: spec.noise.type,
    rate: spec.noise.rate,
    numClasses: 10,
    pairs: spec.dataset === 'mnist' ? MNIST_PAIRS : FASHION_PAIRS,
    seed: 2000 + spec.seed,
  });
  const trainIdx = pool.slice(0, spec.trainSize);
  const trainData = subset(train, trainIdx, noisy.labels.slice(0, spec.trainSize));
  const valData = subset(train, pool.slice(spec.trainSize), noisy.labels.slice(spec.trainSize));
  const testIdx = Array.from({ length: spec.testSize || test.labels.length }, (_, i) => i);
  const testData = subset(test, testIdx);

  const trainer = CctTrainer.create({
    arch: 'mlp',
    numClasses: 10,
    members: spec.members,
    consistency: spec.method === 'cct',
    beta: spec.beta,
    maxEpochs: spec.epochs,
    batchSize: 128,
    // From-scratch MLP: one learning rate for all layers (the paper's 10× head rate is for a new
    // head on a pretrained backbone); the paper's ×0.95 decay per epoch is kept.
    lrBackbone: 1e-3,
    lrHead: 1e-3,
    augment: null,
    seed: spec.seed,
  });
  const epochs: EpochRecord[] = [];
  try {
    for (let e = 0; e < spec.epochs; e++) {
      const log = trainer.trainEpoch(trainData);
      const rec: EpochRecord = {
        epoch: e,
        lambda: log.lambda,
        loss: log.meanTotal,
        testAcc: trainer.evaluate(testData, 1000).ensemble.accuracy,
        valAcc: trainer.evaluate(valData, 1000).ensemble.accuracy,
      };
      epochs.push(rec);
      onEpoch?.(rec);
    }
    const final = epochs[epochs.length - 1]!;
    const best = epochs.reduce((a, b) => (b.testAcc > a.testAcc ? b : a));
    const selected = epochs.reduce((a, b) => (b.valAcc > a.valAcc ? b : a));
    // Memorisation: predictions of the final model on the training set, against the noisy labels.
    const preds = new Int32Array(spec.trainSize);
    for (let s = 0; s < spec.trainSize; s += 1000) {
      const idx = Array.from({ length: Math.min(1000, spec.trainSize - s) }, (_, i) => s + i);
      const images = trainData.images(idx);
      const out = trainer.predict(images);
      preds.set(
        tf.tidy(() => tf.argMax(out.meanProbs, 1).dataSync() as Int32Array),
        s,
      );
      tf.dispose([images, out.meanProbs, out.consensus, ...out.memberProbs]);
    }
    let fitNoisy = 0;
    let flipped = 0;
    let fitAll = 0;
    for (let i = 0; i < spec.trainSize; i++) {
      if (preds[i] === trainData.labels[i]) fitAll++;
      if (noisy.flipped[i]) {
        flipped++;
        if (preds[i] === trainData.labels[i]) fitNoisy++;
      }
    }
    return {
      spec,
      actualNoiseRate: noisy.actualRate,
      epochs,
      finalTestAcc: final.testAcc,
      bestTestAcc: best.testAcc,
      bestEpoch: best.epoch,
      selectedTestAcc: selected.testAcc,
      selectedEpoch: selected.epoch,
      finalTrainAccNoisy: fitAll / spec.trainSize,
      memorised: flipped ? fitNoisy / flipped : 0,
      seconds: (performance.now() - started) / 1000,
    };
  } finally {
    trainer.dispose();
  }
}
