import {
  tf,
  type Scalar,
  type Tensor,
  type Tensor1D,
  type Tensor2D,
  type Tensor4D,
} from '../engine/tf.ts';
import { augmentBatch } from '../data/augment.ts';
import type { TrainingData } from '../data/dataset.ts';
import { balancedOrder, shuffledOrder } from '../data/sampler.ts';
import { classificationReport, type ClassificationReport } from '../metrics/classification.ts';
import { createModel } from '../models/registry.ts';
import type { Network } from '../models/network.ts';
import { Rng } from '../util/rng.ts';
import { GroupAdam } from './adam.ts';
import { parseTrainerConfig, type TrainerConfig, type TrainerConfigInput } from './config.ts';
import { ensemblePredict, type EnsembleOutput } from './ensemble.ts';
import { cctLoss } from './loss.ts';
import { rampLambda } from './ramp.ts';

export interface StepLog {
  iteration: number;
  total: number;
  sup: number;
  cons: number;
}

export interface EpochLog {
  /** 0-based epoch index that was trained. */
  epoch: number;
  lambda: number;
  /** Learning rates used during this epoch, per group. */
  lrs: Record<string, number>;
  iterations: number;
  images: number;
  meanTotal: number;
  meanSup: number;
  meanCons: number;
  /** Per member: fraction of training samples whose (possibly noisy) label it predicted, in training mode. */
  trainAccuracy: number[];
  steps: StepLog[];
  seconds: number;
}

export interface EvaluationReport {
  members: ClassificationReport[];
  ensemble: ClassificationReport;
  meanConsensus: number;
}

export interface EpochOptions {
  onStep?: (step: StepLog, done: number, total: number) => void;
}

const IMAGENET_MEAN = [0.485, 0.456, 0.406];
const IMAGENET_STD = [0.229, 0.224, 0.225];

/** Mutable training state beyond the networks' and optimiser's tensors; stored in checkpoints. */
export interface TrainerState {
  /** The next epoch to train (0-based). */
  epoch: number;
  /** RNG state for data order and augmentation, taken at the epoch boundary. */
  rngState: number;
}

/**
 * Trains N networks of one architecture jointly with Consensual Collaborative Training:
 * (1−λ)·Σ CE + λ·Σ KL between members, λ ramped per epoch, one Adam over all members with a
 * backbone and a head learning-rate group, both decayed per epoch.
 */
export class CctTrainer {
  readonly config: TrainerConfig;
  readonly members: Network[];
  readonly optimizer: GroupAdam;
  private rng: Rng;
  private epochIndex: number;
  private readonly mean: number[];
  private readonly std: number[];

  private constructor(config: TrainerConfig) {
    this.config = config;
    const seeds = new Rng(config.seed);
    this.members = Array.from({ length: config.members }, () =>
      createModel(config.arch, {
        seed: seeds.int(2 ** 31),
        numClasses: config.numClasses,
        ...(config.inputSize !== undefined && { inputSize: config.inputSize }),
        ...(config.inChannels !== undefined && { inChannels: config.inChannels }),
      }),
    );
    const channels = (this.members[0] as Network).config.inChannels;
    this.mean = config.mean ?? (channels === 3 ? IMAGENET_MEAN : new Array(channels).fill(0.5));
    this.std = config.std ?? (channels === 3 ? IMAGENET_STD : new Array(channels).fill(0.5));
    if (this.mean.length !== channels || this.std.length !== channels) {
      throw new RangeError(`mean/std must have ${channels} entries (one per input channel)`);
    }
    const group = (g: 'backbone' | 'head') =>
      this.members.flatMap((m) =>
        m.params.filter((p) => p.trainable && p.group === g).map((p) => p.variable),
      );
    this.optimizer = new GroupAdam([
      { name: 'backbone', lr: config.lrBackbone, variables: group('backbone') },
      { name: 'head', lr: config.lrHead, variables: group('head') },
    ]);
    this.rng = new Rng((config.seed ^ 0x9e3779b9) >>> 0);
    this.epochIndex = 0;
  }

  /** Validates the config (errors name the field) and builds the members with distinct seeds. */
  static create(config: TrainerConfigInput): CctTrainer {
    return new CctTrainer(parseTrainerConfig(config));
  }

  get epoch(): number {
    return this.epochIndex;
  }

  get inputShape(): [number, number, number] {
    const c = (this.members[0] as Network).config;
    return [c.inputSize, c.inputSize, c.inChannels];
  }

  /** Per-channel normalisation applied to [0,1] images before the members. */
  get normalisation(): { mean: number[]; std: number[] } {
    return { mean: [...this.mean], std: [...this.std] };
  }

  getState(): TrainerState {
    return { epoch: this.epochIndex, rngState: this.rng.getState() };
  }

  setState(state: TrainerState): void {
    this.epochIndex = state.epoch;
    this.rng = Rng.fromState(state.rngState);
  }

  /** λ for the given (default: next) epoch; 0 in the CE-only ablation. */
  lambda(epoch = this.epochIndex): number {
    if (!this.config.consistency) return 0;
    const { maxEpochs, lambdaMax, beta, rampFraction } = this.config;
    return rampLambda(epoch, { maxEpochs, lambdaMax, beta, rampFraction });
  }

  /** Normalises [0,1] images with the configured per-channel mean/std. */
  normalise(x: Tensor4D): Tensor4D {
    return tf.tidy(
      () => tf.div(tf.sub(x, tf.tensor1d(this.mean)), tf.tensor1d(this.std)) as Tensor4D,
    );
  }

  private checkData(data: TrainingData): void {
    const [h, w, c] = data.imageShape;
    const [eh, ew, ec] = this.inputShape;
    if (h !== eh || w !== ew || c !== ec) {
      throw new RangeError(
        `training images are [${data.imageShape}], the members expect [${this.inputShape}]`,
      );
    }
    for (let i = 0; i < data.labels.length; i++) {
      const y = data.labels[i] as number;
      if (!(y >= 0 && y < this.config.numClasses)) {
        throw new RangeError(`label ${y} of sample ${i} is outside [0, ${this.config.numClasses})`);
      }
    }
  }

  /** The sample order of one epoch: enough passes for `iterations` batches. */
  private epochBatches(data: TrainingData): number[][] {
    const { batchSize, iterationsPerEpoch, oversample } = this.config;
    const iterations = iterationsPerEpoch ?? Math.ceil(data.size / batchSize);
    const batches: number[][] = [];
    while (batches.length < iterations) {
      const order = oversample
        ? balancedOrder(data.labels, this.rng)
        : shuffledOrder(data.size, this.rng);
      for (let i = 0; i < order.length && batches.length < iterations; i += batchSize) {
        const batch = order.slice(i, i + batchSize);
        // BatchNorm needs ≥ 2 samples; a trailing singleton batch is dropped.
        if (batch.length >= 2) batches.push(batch);
      }
      if (data.size < 2) throw new RangeError('training needs at least 2 samples');
    }
    return batches;
  }

  /** One training step on a prepared batch; returns the loss parts and per-member predictions. */
  private step(
    x: Tensor4D,
    y: Tensor1D,
    lambda: number,
  ): { log: Omit<StepLog, 'iteration'>; preds: Int32Array[] } {
    const vars = this.members.flatMap((m) => m.trainableVariables());
    const k = this.config.accumulate;
    const n = x.shape[0];
    if (n % k !== 0)
      throw new RangeError(`a batch of ${n} cannot be split into ${k} micro-batches`);
    const micro = n / k;
    // Each micro-batch's mean loss is scaled by 1/k, so the summed gradients are those of the
    // whole batch's mean loss (BatchNorm statistics aside).
    let summed: Record<string, Tensor> | undefined;
    const log = { total: 0, sup: 0, cons: 0 };
    const preds: Int32Array[] = this.members.map(() => new Int32Array(n));
    for (let m = 0; m < k; m++) {
      const xs = k === 1 ? x : tf.slice(x, [m * micro, 0, 0, 0], [micro, -1, -1, -1]);
      const ys = k === 1 ? y : tf.slice(y, [m * micro], [micro]);
      let parts: Tensor[] = [];
      const { value, grads } = tf.variableGrads(() => {
        const logits = this.members.map((net) => net.apply(xs, true));
        const loss = cctLoss(logits, ys, lambda, {
          detachTargets: this.config.detachTargets,
          scale: this.config.scale,
        });
        parts = [
          tf.keep(loss.sup),
          tf.keep(loss.cons),
          ...logits.map((z) => tf.keep(tf.argMax(z, 1))),
        ];
        return k === 1 ? loss.total : tf.div(loss.total, k);
      }, vars);
      if (!summed) summed = grads;
      else {
        const prev: Record<string, Tensor> = summed;
        summed = Object.fromEntries(
          Object.entries(grads).map(([name, g]) => [name, tf.add(prev[name] as Tensor, g)]),
        );
        tf.dispose([...Object.values(prev), ...Object.values(grads)]);
      }
      const [sup, cons, ...argmaxes] = parts;
      log.total += (value.dataSync() as Float32Array)[0] as number;
      log.sup += ((sup as Scalar).dataSync()[0] as number) / k;
      log.cons += ((cons as Scalar).dataSync()[0] as number) / k;
      argmaxes.forEach((t, j) =>
        (preds[j] as Int32Array).set(t.dataSync() as Int32Array, m * micro),
      );
      tf.dispose([value, ...parts]);
      if (k > 1) tf.dispose([xs, ys]);
    }
    this.optimizer.apply(summed as Record<string, Tensor>);
    tf.dispose(Object.values(summed as Record<string, Tensor>));
    return { log, preds };
  }

  /** Trains one epoch (λ and learning rates fixed for it), then decays the learning rates. */
  trainEpoch(data: TrainingData, options: EpochOptions = {}): EpochLog {
    this.checkData(data);
    const started = performance.now();
    const epoch = this.epochIndex;
    const lambda = this.lambda(epoch);
    const lrs = this.optimizer.learningRates;
    const batches = this.epochBatches(data);
    const steps: StepLog[] = [];
    const hits = new Array<number>(this.members.length).fill(0);
    let images = 0;
    batches.forEach((indices, iteration) => {
      const labels = Int32Array.from(indices, (i) => data.labels[i] as number);
      const x = tf.tidy(() => {
        const raw = data.images(indices);
        if (!this.config.augment) return this.normalise(raw);
        const aug = augmentBatch(raw, this.rng, this.config.augment);
        return aug.erase(this.normalise(aug.images));
      });
      const y = tf.tensor1d(labels, 'int32');
      const { log, preds } = this.step(x, y, lambda);
      tf.dispose([x, y]);
      preds.forEach((p, j) => {
        for (let i = 0; i < p.length; i++) if (p[i] === labels[i]) hits[j]! += 1;
      });
      images += indices.length;
      const stepLog = { iteration, ...log };
      steps.push(stepLog);
      options.onStep?.(stepLog, iteration + 1, batches.length);
    });
    this.optimizer.scaleLearningRates(this.config.lrDecay);
    this.epochIndex++;
    const mean = (f: (s: StepLog) => number) =>
      steps.reduce((a, s) => a + f(s), 0) / Math.max(1, steps.length);
    return {
      epoch,
      lambda,
      lrs,
      iterations: steps.length,
      images,
      meanTotal: mean((s) => s.total),
      meanSup: mean((s) => s.sup),
      meanCons: mean((s) => s.cons),
      trainAccuracy: hits.map((h) => h / Math.max(1, images)),
      steps,
      seconds: (performance.now() - started) / 1000,
    };
  }

  /** Inference on [0,1] images: member and mean probabilities plus consensus. Caller disposes. */
  predict(images: Tensor4D): EnsembleOutput {
    const logits = tf.tidy(() => {
      const x = this.normalise(images);
      return this.members.map((m) => m.apply(x, false));
    });
    const out = ensemblePredict(logits);
    tf.dispose(logits);
    return out;
  }

  /** Accuracy/F1/ABAW score per member and for the ensemble over the whole set. */
  evaluate(data: TrainingData, batchSize = 256): EvaluationReport {
    this.checkData(data);
    const memberPreds = this.members.map(() => new Int32Array(data.size));
    const ensemblePreds = new Int32Array(data.size);
    let consensusSum = 0;
    for (let start = 0; start < data.size; start += batchSize) {
      const indices = Array.from(
        { length: Math.min(batchSize, data.size - start) },
        (_, i) => start + i,
      );
      const raw = data.images(indices);
      const out = this.predict(raw);
      out.memberProbs.forEach((p, j) => (memberPreds[j] as Int32Array).set(argmaxRows(p), start));
      ensemblePreds.set(argmaxRows(out.meanProbs), start);
      consensusSum += (out.consensus.dataSync() as Float32Array).reduce((a, b) => a + b, 0);
      tf.dispose([raw, out.meanProbs, out.consensus, ...out.memberProbs]);
    }
    const k = this.config.numClasses;
    return {
      members: memberPreds.map((p) => classificationReport(data.labels, p, k)),
      ensemble: classificationReport(data.labels, ensemblePreds, k),
      meanConsensus: consensusSum / Math.max(1, data.size),
    };
  }

  dispose(): void {
    for (const m of this.members) m.dispose();
    this.optimizer.dispose();
  }
}

function argmaxRows(p: Tensor2D): Int32Array {
  return tf.tidy(() => tf.argMax(p, 1).dataSync() as Int32Array);
}
