/**
 * Seeded, recorded label-noise injection for training splits (never test splits).
 * - symmetric: a chosen sample's label moves uniformly to one of the OTHER classes;
 * - asymmetric: class-pair flips (source → target) of similar-looking classes.
 * Exactly round(rate · n) samples are flipped (per source class for asymmetric noise), so the
 * realised rate equals the requested one up to rounding.
 */
import { Rng } from '../util/rng.ts';

export type NoiseType = 'symmetric' | 'asymmetric';

export interface NoiseSpec {
  type: NoiseType;
  /** Fraction in [0, 1) of samples (of each source class, for asymmetric) whose label is changed. */
  rate: number;
  numClasses: number;
  /** For asymmetric noise: [source, target] class pairs. */
  pairs?: readonly (readonly [number, number])[];
  seed: number;
}

export interface NoisyLabels {
  spec: NoiseSpec;
  labels: Int32Array;
  /** 1 where the label was changed. */
  flipped: Uint8Array;
  /** Realised fraction of changed labels over the whole set. */
  actualRate: number;
  /** The intended transition matrix T[clean][noisy] = P(noisy | clean). */
  transition: number[][];
}

/** Natural confusions used in the co-teaching literature for MNIST (2→7, 3→8, 5↔6, 7→1). */
export const MNIST_PAIRS: readonly (readonly [number, number])[] = [
  [2, 7],
  [3, 8],
  [5, 6],
  [6, 5],
  [7, 1],
];
/** Fashion-MNIST look-alikes: shirt→T-shirt, pullover→coat, sandal→sneaker, coat→pullover, boot→sneaker. */
export const FASHION_PAIRS: readonly (readonly [number, number])[] = [
  [6, 0],
  [2, 4],
  [5, 7],
  [4, 2],
  [9, 7],
];

export function transitionMatrix(spec: NoiseSpec): number[][] {
  const k = spec.numClasses;
  const t = Array.from({ length: k }, (_, i) =>
    Array.from({ length: k }, (_, j): number => (i === j ? 1 : 0)),
  );
  if (spec.type === 'symmetric') {
    for (let i = 0; i < k; i++)
      for (let j = 0; j < k; j++) t[i]![j] = i === j ? 1 - spec.rate : spec.rate / (k - 1);
  } else {
    for (const [s, d] of spec.pairs ?? []) {
      t[s]![s] = 1 - spec.rate;
      t[s]![d] = spec.rate;
    }
  }
  return t;
}

function validate(clean: Int32Array, spec: NoiseSpec): void {
  if (!(spec.rate >= 0 && spec.rate < 1))
    throw new RangeError(`noise rate must be in [0, 1), got ${spec.rate}`);
  if (spec.numClasses < 2) throw new RangeError('noise needs at least 2 classes');
  for (let i = 0; i < clean.length; i++) {
    if (!(clean[i]! >= 0 && clean[i]! < spec.numClasses))
      throw new RangeError(`label ${clean[i]} at ${i} is outside [0, ${spec.numClasses})`);
  }
  if (spec.type === 'asymmetric') {
    const pairs = spec.pairs ?? [];
    if (pairs.length === 0) throw new RangeError('asymmetric noise needs class pairs');
    const sources = new Set<number>();
    for (const [s, d] of pairs) {
      if (s === d || s < 0 || d < 0 || s >= spec.numClasses || d >= spec.numClasses)
        throw new RangeError(`bad pair ${s}→${d}`);
      if (sources.has(s)) throw new RangeError(`class ${s} is the source of two pairs`);
      sources.add(s);
    }
  }
}

/** Picks exactly `count` distinct indices from `pool` (partial Fisher–Yates). */
function pick(pool: number[], count: number, rng: Rng): number[] {
  for (let i = 0; i < count; i++) {
    const j = i + rng.int(pool.length - i);
    [pool[i], pool[j]] = [pool[j] as number, pool[i] as number];
  }
  return pool.slice(0, count);
}

export function injectNoise(clean: Int32Array, spec: NoiseSpec): NoisyLabels {
  validate(clean, spec);
  const rng = new Rng(spec.seed);
  const labels = Int32Array.from(clean);
  const flipped = new Uint8Array(clean.length);
  if (spec.type === 'symmetric') {
    const all = Array.from({ length: clean.length }, (_, i) => i);
    for (const i of pick(all, Math.round(spec.rate * clean.length), rng)) {
      const other = rng.int(spec.numClasses - 1);
      labels[i] = other >= clean[i]! ? other + 1 : other;
      flipped[i] = 1;
    }
  } else {
    for (const [s, d] of spec.pairs ?? []) {
      const members: number[] = [];
      for (let i = 0; i < clean.length; i++) if (clean[i] === s) members.push(i);
      for (const i of pick(members, Math.round(spec.rate * members.length), rng)) {
        labels[i] = d;
        flipped[i] = 1;
      }
    }
  }
  const changed = flipped.reduce((a, b) => a + b, 0);
  return {
    spec,
    labels,
    flipped,
    actualRate: clean.length ? changed / clean.length : 0,
    transition: transitionMatrix(spec),
  };
}
