/**
 * Faces between full detections. Detection is the costliest stage per frame (BlazeFace full-range
 * in its worker bounds one video's fps), and at video rates faces move a few pixels a frame, so a
 * frame that is not detected gets the last detected faces moved on: each box and its keypoints
 * travel with the velocity measured between the last two detections, where that face is matched
 * by IoU (or, failing that, by centre distance). bench/detect-every.ts measures how well this
 * matches full detection.
 */
import type { FaceDetection } from './detector.ts';
import { iou } from './tracker.ts';

export interface TimedDetections {
  /** Milliseconds (the frame's presentation time). */
  t: number;
  detections: readonly FaceDetection[];
}

/**
 * Detect on every k-th frame by default. k = 2 halves detection's cost; bench/detect-every.ts
 * measures the carried boxes against full detection on those frames.
 */
export const DEFAULT_DETECT_EVERY = 2;

/**
 * Two detections of one face: IoU at least this, or else centres at most MAX_CENTRE_SHIFT box
 * widths apart (a small face moving fast overlaps little between detections k frames apart).
 */
const MIN_MATCH_IOU = 0.3;
const MAX_CENTRE_SHIFT = 1;

/** How alike two boxes are as one face seen twice: > 1 by IoU, (0, 1] by centre distance, else 0. */
function likeness(a: FaceDetection['box'], b: FaceDetection['box']): number {
  const overlap = iou(a, b);
  if (overlap >= MIN_MATCH_IOU) return 1 + overlap;
  const shift =
    Math.hypot(a.x + a.width / 2 - (b.x + b.width / 2), a.y + a.height / 2 - (b.y + b.height / 2)) /
    Math.max(1, a.width);
  return shift <= MAX_CENTRE_SHIFT ? 1 - shift / (MAX_CENTRE_SHIFT + 1e-9) + 1e-9 : 0;
}

/** For each face in `last`, its index in `prev` (greedy, most alike first), or -1. */
function match(prev: readonly FaceDetection[], last: readonly FaceDetection[]): number[] {
  const pairs: { p: number; l: number; score: number }[] = [];
  last.forEach((l, li) =>
    prev.forEach((p, pi) => {
      const score = likeness(p.box, l.box);
      if (score > 0) pairs.push({ p: pi, l: li, score });
    }),
  );
  pairs.sort((a, b) => b.score - a.score);
  const out = last.map(() => -1);
  const used = new Set<number>();
  for (const { p, l } of pairs) {
    if (used.has(p) || out[l] !== -1) continue;
    used.add(p);
    out[l] = p;
  }
  return out;
}

/**
 * The faces of `last` moved on to time `t` (ms) with the per-face velocity from `prev` to `last`
 * (zero for a face not in `prev`). Size and score are kept.
 */
export function carryDetections(
  prev: TimedDetections | undefined,
  last: TimedDetections,
  t: number,
): FaceDetection[] {
  const span = prev ? last.t - prev.t : 0;
  const matched = prev && span > 0 ? match(prev.detections, last.detections) : [];
  const ahead = t - last.t;
  return last.detections.map((d, i) => {
    const from =
      prev && (matched[i] ?? -1) >= 0 ? prev.detections[matched[i] as number] : undefined;
    const dx = from ? ((d.box.x - from.box.x) / span) * ahead : 0;
    const dy = from ? ((d.box.y - from.box.y) / span) * ahead : 0;
    return {
      box: { ...d.box, x: d.box.x + dx, y: d.box.y + dy },
      score: d.score,
      keypoints: d.keypoints.map(([x, y]) => [x + dx, y + dy] as [number, number]),
    };
  });
}
