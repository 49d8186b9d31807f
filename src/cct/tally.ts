/**
 * Running totals of one training epoch and of one evaluation pass — shared by the single-thread
 * trainer and the member-worker trainer, so both report the same figures the same way.
 */
import { tf, type Tensor2D } from '../engine/tf.ts';
import { classificationReport, type ClassificationReport } from '../metrics/classification.ts';
import type { EnsembleOutput } from './ensemble.ts';

export interface StepLog {
  iteration: number;
  total: number;
  sup: number;
  cons: number;
}

export interface EvaluationReport {
  members: ClassificationReport[];
  ensemble: ClassificationReport;
  meanConsensus: number;
}

export class EpochTally {
  readonly steps: StepLog[] = [];
  readonly hits: number[];
  images = 0;
  /** Main-thread time spent reading, augmenting and normalising batches (s). */
  inputSeconds = 0;

  /** Runs `prepare`, counting its time as input preparation. */
  timeInput<T>(prepare: () => T): T {
    const t0 = performance.now();
    try {
      return prepare();
    } finally {
      this.inputSeconds += (performance.now() - t0) / 1000;
    }
  }

  constructor(members: number) {
    this.hits = new Array<number>(members).fill(0);
  }

  /** One step: its losses, and per member the arg-max prediction of each sample. */
  add(step: StepLog, preds: ArrayLike<number>[], labels: Int32Array): void {
    preds.forEach((p, j) => {
      for (let i = 0; i < labels.length; i++) if (p[i] === labels[i]) this.hits[j]! += 1;
    });
    this.images += labels.length;
    this.steps.push(step);
  }

  mean(f: (s: StepLog) => number): number {
    return this.steps.reduce((a, s) => a + f(s), 0) / Math.max(1, this.steps.length);
  }

  trainAccuracy(): number[] {
    return this.hits.map((h) => h / Math.max(1, this.images));
  }
}

export class EvalTally {
  private readonly memberPreds: Int32Array[];
  private readonly ensemblePreds: Int32Array;
  private consensusSum = 0;

  constructor(
    private readonly labels: Int32Array,
    members: number,
    private readonly numClasses: number,
  ) {
    this.memberPreds = Array.from({ length: members }, () => new Int32Array(labels.length));
    this.ensemblePreds = new Int32Array(labels.length);
  }

  /** Predictions for samples start.. (takes ownership of `out` and disposes it). */
  add(start: number, out: EnsembleOutput): void {
    out.memberProbs.forEach((p, j) => this.memberPreds[j]!.set(argmaxRows(p), start));
    this.ensemblePreds.set(argmaxRows(out.meanProbs), start);
    this.consensusSum += (out.consensus.dataSync() as Float32Array).reduce((a, b) => a + b, 0);
    tf.dispose([out.meanProbs, out.consensus, ...out.memberProbs]);
  }

  /** Arg-max predictions per member and of the ensemble, in sample order. */
  predictions(): { members: Int32Array[]; ensemble: Int32Array } {
    return { members: this.memberPreds, ensemble: this.ensemblePreds };
  }

  report(): EvaluationReport {
    const k = this.numClasses;
    return {
      members: this.memberPreds.map((p) => classificationReport(this.labels, p, k)),
      ensemble: classificationReport(this.labels, this.ensemblePreds, k),
      meanConsensus: this.consensusSum / Math.max(1, this.labels.length),
    };
  }
}

function argmaxRows(p: Tensor2D): Int32Array {
  return tf.tidy(() => tf.argMax(p, 1).dataSync() as Int32Array);
}
