import {
  tf,
  type Scalar,
  type Tensor,
  type Tensor1D,
  type Tensor2D,
  type Tensor4D,
} from '../engine/tf.ts';
import { augmentBatch } from '../data/augment.ts';
import { targetRows, type TrainingData } from '../data/dataset.ts';
import { balancedOrder, shuffledOrder } from '../data/sampler.ts';
import { createModel } from '../models/registry.ts';
import type { Network } from '../models/network.ts';
import { Rng } from '../util/rng.ts';
import type { GroupAdam } from './adam.ts';
import { addGradients, groupAdam } from './optimiser-groups.ts';
import { parseTrainerConfig, type TrainerConfig, type TrainerConfigInput } from './config.ts';
import { ensemblePredict, type EnsembleOutput } from './ensemble.ts';
import { cctLoss } from './loss.ts';
import { rampLambda } from './ramp.ts';
import { EpochTally, EvalTally, type EvaluationReport, type StepLog } from './tally.ts';

export type { EvaluationReport, StepLog } from './tally.ts';

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
  /**
   * Of `seconds`, the main thread's time preparing batches (cache read, augmentation,
   * normalisation). With member workers it overlaps the workers' compute.
   */
  inputSeconds: number;
}

/** One epoch's fixed settings and batch order, drawn by {@link CctTrainer.planEpoch}. */
export interface EpochPlan {
  epoch: number;
  lambda: number;
  lrs: Record<string, number>;
  batches: number[][];
  started: number;
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
    this.optimizer = groupAdam(this.members, { backbone: config.lrBackbone, head: config.lrHead });
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

  /**
   * Per member, the positions of its trainable variables in the optimiser's moment list (which
   * holds every member's backbone variables, then every member's head variables), in the order
   * backbone then head — the order of a single member's own optimiser.
   */
  memberMomentIndices(): number[][] {
    const perMember = this.members.map(() => [] as number[]);
    let i = 0;
    for (const g of ['backbone', 'head'] as const)
      this.members.forEach((m, j) => {
        for (const p of m.params) if (p.trainable && p.group === g) perMember[j]!.push(i++);
      });
    return perMember;
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

  checkData(data: TrainingData): void {
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
    const { batchSize, iterationsPerEpoch, oversample, accumulate } = this.config;
    const iterations = iterationsPerEpoch ?? Math.ceil(data.size / batchSize);
    const batches: number[][] = [];
    while (batches.length < iterations) {
      const order = oversample
        ? balancedOrder(data.labels, this.rng)
        : shuffledOrder(data.size, this.rng);
      for (let i = 0; i < order.length && batches.length < iterations; i += batchSize) {
        let batch = order.slice(i, i + batchSize);
        // A trailing short batch is cut to a multiple of the micro-batch count; BatchNorm needs
        // ≥ 2 samples per (micro-)batch, so a smaller remainder is dropped.
        batch = batch.slice(0, batch.length - (batch.length % accumulate));
        if (batch.length >= 2 * accumulate) batches.push(batch);
      }
      if (data.size < 2) throw new RangeError('training needs at least 2 samples');
    }
    return batches;
  }

  /** One training step on a prepared batch; returns the loss parts and per-member predictions. */
  private step(
    x: Tensor4D,
    y: Tensor1D | Tensor2D,
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
      const ys =
        k === 1
          ? y
          : y.rank === 2
            ? tf.slice(y as Tensor2D, [m * micro, 0], [micro, -1])
            : tf.slice(y as Tensor1D, [m * micro], [micro]);
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
      summed = addGradients(summed, grads);
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

  /**
   * Starts an epoch: checks the data, fixes λ and the learning rates, and draws the batch order
   * (from the trainer's RNG, so every execution — one thread or member workers — sees the same).
   */
  planEpoch(data: TrainingData): EpochPlan {
    this.checkData(data);
    const epoch = this.epochIndex;
    return {
      epoch,
      lambda: this.lambda(epoch),
      lrs: this.optimizer.learningRates,
      batches: this.epochBatches(data),
      started: performance.now(),
    };
  }

  /** A batch's network input: augmented (when configured, from the RNG) and normalised. */
  batchInput(data: TrainingData, indices: number[]): Tensor4D {
    return tf.tidy(() => {
      const raw = data.images(indices);
      if (!this.config.augment) return this.normalise(raw);
      const aug = augmentBatch(raw, this.rng, this.config.augment);
      return aug.erase(this.normalise(aug.images));
    });
  }

  /** Ends an epoch: decays the learning rates, advances the epoch counter, summarises. */
  finishEpoch(plan: EpochPlan, tally: EpochTally): EpochLog {
    this.optimizer.scaleLearningRates(this.config.lrDecay);
    this.epochIndex++;
    return {
      epoch: plan.epoch,
      lambda: plan.lambda,
      lrs: plan.lrs,
      iterations: tally.steps.length,
      images: tally.images,
      meanTotal: tally.mean((s) => s.total),
      meanSup: tally.mean((s) => s.sup),
      meanCons: tally.mean((s) => s.cons),
      trainAccuracy: tally.trainAccuracy(),
      steps: tally.steps,
      seconds: (performance.now() - plan.started) / 1000,
      inputSeconds: tally.inputSeconds,
    };
  }

  /** Trains one epoch (λ and learning rates fixed for it), then decays the learning rates. */
  trainEpoch(data: TrainingData, options: EpochOptions = {}): EpochLog {
    const plan = this.planEpoch(data);
    const tally = new EpochTally(this.members.length);
    plan.batches.forEach((indices, iteration) => {
      const labels = Int32Array.from(indices, (i) => data.labels[i] as number);
      const x = tally.timeInput(() => this.batchInput(data, indices));
      const y = batchTargets(data, indices, labels);
      const { log, preds } = this.step(x, y, plan.lambda);
      tf.dispose([x, y]);
      const stepLog = { iteration, ...log };
      tally.add(stepLog, preds, labels);
      options.onStep?.(stepLog, iteration + 1, plan.batches.length);
    });
    return this.finishEpoch(plan, tally);
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
    return this.tally(data, batchSize).report();
  }

  /** Every sample's predictions (per member and ensemble), tallied against the data's labels. */
  tally(data: TrainingData, batchSize = 256): EvalTally {
    this.checkData(data);
    const tally = new EvalTally(data.labels, this.members.length, this.config.numClasses);
    for (let start = 0; start < data.size; start += batchSize) {
      const raw = data.images(batchIndices(start, batchSize, data.size));
      tally.add(start, this.predict(raw));
      raw.dispose();
    }
    return tally;
  }

  dispose(): void {
    for (const m of this.members) m.dispose();
    this.optimizer.dispose();
  }
}

/** A batch's CE targets: the soft target rows when the data has them, else the integer labels. */
function batchTargets(
  data: TrainingData,
  indices: readonly number[],
  labels: Int32Array,
): Tensor1D | Tensor2D {
  if (!data.targets) return tf.tensor1d(labels, 'int32');
  const t = targetRows(data.targets, data.size, indices);
  return tf.tensor2d(t, [indices.length, t.length / indices.length]);
}

/** The indices start, start+1, … of one evaluation batch. */
export function batchIndices(start: number, batchSize: number, size: number): number[] {
  return Array.from({ length: Math.min(batchSize, size - start) }, (_, i) => start + i);
}
