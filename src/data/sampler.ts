import type { Rng } from '../util/rng.ts';

/** A shuffled pass over all indices. */
export function shuffledOrder(size: number, rng: Rng): number[] {
  return rng.shuffle(Array.from({ length: size }, (_, i) => i));
}

/**
 * Class-balanced oversampling as the CCT code's ImbalancedDatasetSampler: `size` draws with
 * replacement, each sample weighted by 1 / (count of its class).
 */
export function balancedOrder(labels: ArrayLike<number>, rng: Rng): number[] {
  const counts = new Map<number, number>();
  for (let i = 0; i < labels.length; i++)
    counts.set(labels[i] as number, (counts.get(labels[i] as number) ?? 0) + 1);
  const cumulative = new Float64Array(labels.length);
  let total = 0;
  for (let i = 0; i < labels.length; i++) {
    total += 1 / (counts.get(labels[i] as number) as number);
    cumulative[i] = total;
  }
  const out = new Array<number>(labels.length);
  for (let k = 0; k < labels.length; k++) {
    const r = rng.next() * total;
    let lo = 0;
    let hi = labels.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((cumulative[mid] as number) > r) hi = mid;
      else lo = mid + 1;
    }
    out[k] = lo;
  }
  return out;
}
