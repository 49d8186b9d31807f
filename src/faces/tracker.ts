/**
 * Stable face ids across frames: each track predicts its box with constant velocity, detections are
 * assigned greedily by IoU with the predicted boxes (falling back to centre distance), and a track
 * not seen for `memoryMs` is forgotten. Documented outcomes: a face that leaves and re-enters within
 * the memory keeps its id (if it re-enters near where it was heading); after that it gets a new id.
 */
import type { FaceDetection } from './detector.ts';

export interface TrackerOptions {
  /** Forget a track unseen for this long (default 1000 ms). */
  memoryMs?: number;
  /** Minimum IoU with a predicted box to continue a track (default 0.2). */
  minIou?: number;
  /** Or: maximum centre distance, in units of the track's box width (default 0.75). */
  maxCentreDistance?: number;
}

export interface TrackedFace extends FaceDetection {
  /** Stable id, 1, 2, 3, … in order of first appearance. */
  id: number;
}

type Box = FaceDetection['box'];

interface Track {
  id: number;
  box: Box;
  vx: number;
  vy: number;
  lastSeen: number;
}

export function iou(a: Box, b: Box): number {
  const w = Math.max(0, Math.min(a.x + a.width, b.x + b.width) - Math.max(a.x, b.x));
  const h = Math.max(0, Math.min(a.y + a.height, b.y + b.height) - Math.max(a.y, b.y));
  const inter = w * h;
  const union = a.width * a.height + b.width * b.height - inter;
  return union > 0 ? inter / union : 0;
}

export class FaceTracker {
  private tracks: Track[] = [];
  private nextId = 1;
  private lastTime = -Infinity;
  private readonly memoryMs: number;
  private readonly minIou: number;
  private readonly maxCentreDistance: number;

  constructor(options: TrackerOptions = {}) {
    this.memoryMs = options.memoryMs ?? 1000;
    this.minIou = options.minIou ?? 0.2;
    this.maxCentreDistance = options.maxCentreDistance ?? 0.75;
  }

  /** Assigns ids to one frame's detections; timestamps must increase. */
  update(detections: readonly FaceDetection[], timestampMs: number): TrackedFace[] {
    if (!(timestampMs > this.lastTime))
      throw new RangeError(
        `timestamps must increase: got ${timestampMs} ms after ${this.lastTime} ms`,
      );
    this.lastTime = timestampMs;
    this.tracks = this.tracks.filter((t) => timestampMs - t.lastSeen <= this.memoryMs);
    const predicted = this.tracks.map((t) => {
      const dt = timestampMs - t.lastSeen;
      return { ...t.box, x: t.box.x + t.vx * dt, y: t.box.y + t.vy * dt };
    });
    // Candidate pairs scored by IoU, else by (negative) normalised centre distance.
    const pairs: { t: number; d: number; score: number }[] = [];
    this.tracks.forEach((track, ti) => {
      const p = predicted[ti] as Box;
      detections.forEach((det, di) => {
        const overlap = iou(p, det.box);
        const dist =
          Math.hypot(
            p.x + p.width / 2 - (det.box.x + det.box.width / 2),
            p.y + p.height / 2 - (det.box.y + det.box.height / 2),
          ) / Math.max(1, track.box.width);
        if (overlap >= this.minIou) pairs.push({ t: ti, d: di, score: 1 + overlap });
        else if (dist <= this.maxCentreDistance)
          pairs.push({ t: ti, d: di, score: 1 - dist / this.maxCentreDistance });
      });
    });
    pairs.sort((a, b) => b.score - a.score);
    const trackFor = new Map<number, number>();
    const usedTracks = new Set<number>();
    for (const { t, d } of pairs) {
      if (usedTracks.has(t) || trackFor.has(d)) continue;
      usedTracks.add(t);
      trackFor.set(d, t);
    }
    return detections.map((det, di) => {
      const ti = trackFor.get(di);
      if (ti === undefined) {
        const track: Track = {
          id: this.nextId++,
          box: det.box,
          vx: 0,
          vy: 0,
          lastSeen: timestampMs,
        };
        this.tracks.push(track);
        return { ...det, id: track.id };
      }
      const track = this.tracks[ti] as Track;
      const dt = Math.max(1, timestampMs - track.lastSeen);
      track.vx = (det.box.x - track.box.x) / dt;
      track.vy = (det.box.y - track.box.y) / dt;
      track.box = det.box;
      track.lastSeen = timestampMs;
      return { ...det, id: track.id };
    });
  }
}

/** Faces ordered left to right by box centre — Aff-Wild2's `_left` / `_right` annotations. */
export function leftToRight<T extends { box: Box }>(faces: readonly T[]): T[] {
  return [...faces].sort((a, b) => a.box.x + a.box.width / 2 - (b.box.x + b.box.width / 2));
}
