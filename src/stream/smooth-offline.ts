/**
 * Non-causal smoothing for offline work, where the whole track is known: a centred window (box or
 * Gaussian) over each track's per-frame probabilities. Windows are in frames and are cut at the
 * track's ends (renormalised), so the first and last frames are not pulled toward zero.
 */
export type CentredSmoothing =
  { method: 'none' } | { method: 'box'; radius: number } | { method: 'gaussian'; sigma: number };

/** The window's weights, 2r+1 of them, centred. */
export function kernel(o: CentredSmoothing): number[] {
  if (o.method === 'none') return [1];
  if (o.method === 'box') {
    if (!(Number.isInteger(o.radius) && o.radius >= 0))
      throw new RangeError(`box radius must be a whole number ≥ 0, got ${o.radius}`);
    return new Array<number>(2 * o.radius + 1).fill(1);
  }
  if (!(o.sigma > 0)) throw new RangeError(`gaussian sigma must be > 0, got ${o.sigma}`);
  const r = Math.ceil(3 * o.sigma);
  return Array.from({ length: 2 * r + 1 }, (_, i) =>
    Math.exp(-((i - r) ** 2) / (2 * o.sigma ** 2)),
  );
}

/**
 * Smooths one track: `points` in increasing frame order, each with its frame index `t`. The window
 * is over frame indices, so frames where the face was missing count as gaps, not as neighbours.
 */
export function smoothCentred(
  points: readonly { t: number; probs: readonly number[] }[],
  o: CentredSmoothing,
): number[][] {
  const k = kernel(o);
  const r = (k.length - 1) / 2;
  let lo = 0;
  return points.map((p) => {
    while ((points[lo] as { t: number }).t < p.t - r) lo++;
    const out = new Array<number>(p.probs.length).fill(0);
    let wsum = 0;
    for (let j = lo; j < points.length && (points[j] as { t: number }).t <= p.t + r; j++) {
      const q = points[j] as { t: number; probs: readonly number[] };
      const w = k[q.t - p.t + r] as number;
      wsum += w;
      for (let c = 0; c < out.length; c++) out[c] = (out[c] as number) + w * (q.probs[c] as number);
    }
    return out.map((v) => v / wsum);
  });
}
