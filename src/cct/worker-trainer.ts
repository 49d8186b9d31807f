/**
 * Runs a CctTrainer's epochs with one member per worker thread (member-workers.ts): each member
 * gets its own wasm heap (4 GB each instead of 4 GB for all) and its own core, with the exact
 * joint CCT gradient. The CctTrainer stays the one owner of everything else — configuration, RNG
 * (so batch order and augmentation are the single-thread run's), epoch counter — and of the state
 * that checkpoints and export read: its weights and Adam moments are pushed to the workers at the
 * start and pulled back by `sync()`.
 *
 * The main thread prepares batch i+1 (decode from the cache, augment, normalise) while the
 * workers compute batch i, so data loading is off the critical path.
 */
import { tf, type Tensor2D } from '../engine/tf.ts';
import { targetRows, type TrainingData } from '../data/dataset.ts';
import { ensemblePredict } from './ensemble.ts';
import { assignParamValues, paramValues } from '../models/network.ts';
import { MemberWorkers } from './member-workers.ts';
import type { MemberState, MemberWorkerData } from './member-worker.ts';
import { EpochTally, EvalTally, type EvaluationReport } from './tally.ts';
import { batchIndices, type CctTrainer, type EpochLog, type EpochOptions } from './trainer.ts';

export interface WorkerTrainerOptions {
  backend: MemberWorkerData['backend'];
}

export class WorkerTrainer {
  private constructor(
    readonly trainer: CctTrainer,
    private readonly workers: MemberWorkers,
  ) {}

  /** Starts one worker per member and loads the trainer's current weights and Adam state. */
  static async start(trainer: CctTrainer, options: WorkerTrainerOptions): Promise<WorkerTrainer> {
    const c = trainer.config;
    const [inputSize, , inChannels] = trainer.inputShape;
    const lrs = trainer.optimizer.learningRates;
    const workers = await MemberWorkers.create({
      arch: c.arch,
      members: c.members,
      seed: c.seed,
      numClasses: c.numClasses,
      inputSize,
      inChannels,
      lrBackbone: lrs.backbone ?? c.lrBackbone,
      lrHead: lrs.head ?? c.lrHead,
      maxBatch: c.batchSize,
      detachTargets: c.detachTargets,
      scale: c.scale,
      backend: options.backend,
    });
    try {
      await workers.setStates(memberStates(trainer));
    } catch (err) {
      await workers.close();
      throw err;
    }
    return new WorkerTrainer(trainer, workers);
  }

  /** One epoch, as CctTrainer.trainEpoch, with the members in the workers. */
  async trainEpoch(data: TrainingData, options: EpochOptions = {}): Promise<EpochLog> {
    const t = this.trainer;
    const plan = t.planEpoch(data);
    const tally = new EpochTally(t.members.length);
    const input = (indices: number[]) =>
      tally.timeInput(() => {
        const x = t.batchInput(data, indices);
        const values = x.dataSync() as Float32Array;
        x.dispose();
        return values;
      });
    let next = plan.batches.length ? input(plan.batches[0]!) : undefined;
    for (const [iteration, indices] of plan.batches.entries()) {
      const labels = Int32Array.from(indices, (i) => data.labels[i] as number);
      // step() copies the batch into shared memory and posts before its first await.
      const targets = data.targets && targetRows(data.targets, data.size, indices);
      const running = this.workers.step(next!, labels, plan.lambda, t.config.accumulate, targets);
      const following = plan.batches[iteration + 1];
      let prepared: Float32Array | Error | undefined;
      try {
        prepared = following ? input(following) : undefined;
      } catch (err) {
        prepared = err as Error; // thrown after the running step settles
      }
      const r = await running;
      if (prepared instanceof Error) throw prepared;
      next = prepared;
      const stepLog = { iteration, total: r.total, sup: r.sup, cons: r.cons };
      tally.add(stepLog, r.preds, labels);
      options.onStep?.(stepLog, iteration + 1, plan.batches.length);
    }
    await this.workers.scaleLearningRates(t.config.lrDecay);
    return t.finishEpoch(plan, tally);
  }

  /** As CctTrainer.evaluate, in batches of one micro-batch (what fits a worker's memory). */
  async evaluate(data: TrainingData): Promise<EvaluationReport> {
    return (await this.tally(data)).report();
  }

  /** As CctTrainer.tally: every sample's predictions, members computed in their workers. */
  async tally(data: TrainingData): Promise<EvalTally> {
    const t = this.trainer;
    t.checkData(data);
    const k = t.config.numClasses;
    const batchSize = t.config.batchSize / t.config.accumulate;
    const tally = new EvalTally(data.labels, t.members.length, k);
    for (let start = 0; start < data.size; start += batchSize) {
      const indices = batchIndices(start, batchSize, data.size);
      const x = tf.tidy(() => t.normalise(data.images(indices)));
      const values = x.dataSync() as Float32Array;
      x.dispose();
      const n = indices.length;
      const logits = await this.workers.predict(values, n);
      const z = logits.map((l) => tf.tensor2d(l, [n, k]) as Tensor2D);
      tally.add(start, ensemblePredict(z));
      tf.dispose(z);
    }
    return tally;
  }

  /** Copies the workers' weights and Adam state into the trainer (before a checkpoint). */
  async sync(): Promise<void> {
    const t = this.trainer;
    const states = await this.workers.getStates();
    const moments = t.memberMomentIndices();
    const total = moments.reduce((a, m) => a + m.length, 0);
    const m = new Array<Float32Array>(total);
    const v = new Array<Float32Array>(total);
    states.forEach((s, j) => {
      assignParamValues(t.members[j]!, s.params);
      moments[j]!.forEach((at, q) => {
        m[at] = s.adam.m[q]!;
        v[at] = s.adam.v[q]!;
      });
    });
    const first = states[0]!.adam;
    t.optimizer.setState({ step: first.step, lrs: first.lrs, m, v });
  }

  async close(): Promise<void> {
    await this.workers.close();
  }
}

/** The trainer's per-member state, in each member optimiser's own order. */
function memberStates(t: CctTrainer): MemberState[] {
  const opt = t.optimizer.getState();
  const moments = t.memberMomentIndices();
  return t.members.map((net, j) => ({
    params: paramValues(net),
    adam: {
      step: opt.step,
      lrs: opt.lrs,
      m: moments[j]!.map((at) => opt.m[at]!.dataSync() as Float32Array),
      v: moments[j]!.map((at) => opt.v[at]!.dataSync() as Float32Array),
    },
  }));
}
