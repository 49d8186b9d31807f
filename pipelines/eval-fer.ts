/**
 * `cctfer eval fer`: a bundle scored on a FER2013 split, directly on the 48×48 faces (no detection):
 * each face goes to every crop input the bundle has, resized bilinearly to that input's size, grey
 * replicated to RGB (a member's own grey conversion gets the pixel back: the weights sum to 1).
 * Scored against the FER+ majority (rows with a strict plurality among the 7 classes) and against
 * the original FER2013 labels, per member and for the ensemble, plus accuracy vs coverage by the
 * ensemble's consensus (consensus as an uncertainty signal).
 */
import { tf } from '../src/engine/tf.ts';
import { ExpressionAnalyzer, type InferenceEngine } from '../src/models/analyzer.ts';
import type { CropMode } from '../src/models/preprocess.ts';
import {
  FER_SIDE,
  ferplusMajority,
  type FerData,
  type FerSplit,
} from '../src/data/readers/ferplus.ts';
import { classificationReport, type ClassificationReport } from '../src/metrics/classification.ts';
import { DEFAULT_BUNDLE } from '../src/package-paths.ts';

export interface FerEvalOptions {
  bundle?: string;
  split: FerSplit;
  engine?: InferenceEngine;
  threads?: number;
  /** Faces per classify() call. */
  batch?: number;
  onProgress?: (done: number, total: number) => void;
}

export interface CoveragePoint {
  /** Share of faces kept (those with the highest consensus). */
  coverage: number;
  faces: number;
  accuracy: number;
}

export interface FerLabelReport {
  /** Which labels: the FER+ majority or the original FER2013 label. */
  against: 'ferplus-majority' | 'fer2013';
  ensemble: ClassificationReport;
  members: ClassificationReport[];
  /** Ensemble accuracy on the X% of faces with the highest consensus, X = 10…100. */
  coverage: CoveragePoint[];
}

export interface FerEvalReport {
  bundle: string;
  bundleName: string;
  split: FerSplit;
  source: string;
  /** Faces of the split. */
  faces: number;
  reports: FerLabelReport[];
}

/**
 * FER faces as a bundle's direct input: one crop batch per crop input, [n, S, S, 3] float32 in
 * [0,1], S the input's size (bilinear resize, grey replicated to RGB).
 */
export function directCrops(
  data: FerData,
  rows: readonly number[],
  inputs: readonly { mode: CropMode; size: number }[],
): Partial<Record<CropMode, { data: Float32Array; count: number }>> {
  const n = rows.length;
  const px = FER_SIDE * FER_SIDE;
  const grey = new Float32Array(n * px);
  rows.forEach((r, i) => {
    const src = data.pixels.subarray(r * px, (r + 1) * px);
    for (let p = 0; p < px; p++) grey[i * px + p] = (src[p] as number) / 255;
  });
  const out: Partial<Record<CropMode, { data: Float32Array; count: number }>> = {};
  for (const { mode, size } of inputs) {
    out[mode] = {
      count: n,
      data: tf.tidy(() => {
        let x = tf.tensor4d(grey, [n, FER_SIDE, FER_SIDE, 1]);
        if (size !== FER_SIDE) x = tf.image.resizeBilinear(x, [size, size], false, true);
        return tf.tile(x, [1, 1, 1, 3]).dataSync() as Float32Array;
      }),
    };
  }
  return out;
}

/** Accuracy of the most-confident X% (by consensus), X = 10, 20, …, 100. */
export function accuracyVsCoverage(
  consensus: readonly number[],
  correct: readonly boolean[],
): CoveragePoint[] {
  const order = consensus.map((c, i) => [c, i] as const).sort((a, b) => b[0] - a[0]);
  return Array.from({ length: 10 }, (_, q) => {
    const coverage = (q + 1) / 10;
    const keep = Math.max(1, Math.round(coverage * order.length));
    let right = 0;
    for (let i = 0; i < keep; i++) if (correct[order[i]![1]]) right++;
    return { coverage, faces: keep, accuracy: order.length ? right / keep : 0 };
  });
}

export async function evaluateFer(data: FerData, o: FerEvalOptions): Promise<FerEvalReport> {
  const rows = data.rows.flatMap((r, i) => (r.usage === o.split ? [i] : []));
  if (rows.length === 0)
    throw new Error(
      `${data.source}: no faces in split '${o.split}' (splits present: ${[...new Set(data.rows.map((r) => r.usage))].join(', ')})`,
    );
  const bundle = o.bundle ?? DEFAULT_BUNDLE;
  const analyzer = await ExpressionAnalyzer.create(bundle, {
    engine: o.engine ?? 'onnx',
    threads: o.threads ?? 1,
  });
  try {
    if (analyzer.classes.length !== 7)
      throw new Error(
        `${bundle}: FER scoring needs the 7 Aff-Wild2 classes; the bundle has ${analyzer.classes.length}`,
      );
    const batch = o.batch ?? 128;
    const ensemble: number[] = [];
    const members: number[][] = analyzer.manifest.members.map(() => []);
    const consensus: number[] = [];
    for (let start = 0; start < rows.length; start += batch) {
      const part = rows.slice(start, start + batch);
      const preds = await analyzer.classify(directCrops(data, part, analyzer.cropInputs));
      for (const p of preds) {
        ensemble.push(p.labelIndex);
        consensus.push(p.consensus);
        p.memberProbs.forEach((probs, j) => members[j]!.push(probs.indexOf(Math.max(...probs))));
      }
      o.onProgress?.(Math.min(start + batch, rows.length), rows.length);
    }
    const against = (name: FerLabelReport['against']): FerLabelReport => {
      const truthOf = (i: number) =>
        name === 'fer2013' ? data.rows[i]!.fer2013 : ferplusMajority(data.rows[i]!.votes);
      const kept = rows.flatMap((r, k) => (truthOf(r) === null ? [] : [k]));
      const truth = kept.map((k) => truthOf(rows[k]!) as number);
      const pick = (preds: number[]) => kept.map((k) => preds[k]!);
      const ens = pick(ensemble);
      return {
        against: name,
        ensemble: classificationReport(truth, ens, 7),
        members: members.map((m) => classificationReport(truth, pick(m), 7)),
        coverage: accuracyVsCoverage(
          kept.map((k) => consensus[k]!),
          ens.map((p, i) => p === truth[i]),
        ),
      };
    };
    return {
      bundle,
      bundleName: analyzer.manifest.name,
      split: o.split,
      source: data.source,
      faces: rows.length,
      reports: [against('ferplus-majority'), against('fer2013')],
    };
  } finally {
    await analyzer.dispose();
  }
}
