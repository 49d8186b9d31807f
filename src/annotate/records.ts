/**
 * Per-video analysis results as plain records (no pixels), offline smoothing over whole tracks, and
 * the per-face summary (dominant expression, time share per class).
 */
import { argmax } from '../stream/smooth.ts';
import { smoothCentred, type CentredSmoothing } from '../stream/smooth-offline.ts';
import type { AnalysedFrame } from '../stream/types.ts';

export interface FaceRecord {
  id: number;
  box: { x: number; y: number; width: number; height: number };
  score: number;
  probs: number[];
  /** Smoothed probabilities: causal (as served live) until offline smoothing replaces them. */
  smoothed: number[];
  label: string;
  smoothedLabel: string;
  consensus: number;
  /** Each member's probabilities (kept for evaluation; not written to the tables). */
  memberProbs?: number[][];
}

export interface FrameRecord {
  index: number;
  pts: number;
  faces: FaceRecord[];
}

export interface VideoAnalysis {
  id: string;
  input: string;
  width: number;
  height: number;
  classes: string[];
  frames: FrameRecord[];
}

export function toRecord(r: AnalysedFrame): FrameRecord {
  return {
    index: r.frame.index,
    pts: r.frame.pts,
    faces: r.faces.map((f) => ({
      id: f.id,
      box: { ...f.box },
      score: f.score,
      probs: f.probs,
      smoothed: f.smoothed,
      label: f.label,
      smoothedLabel: f.smoothedLabel,
      consensus: f.consensus,
      memberProbs: f.memberProbs,
    })),
  };
}

/** Replaces every face's `smoothed` with a centred window over its track (in frame indices). */
export function smoothOffline(video: VideoAnalysis, o: CentredSmoothing): VideoAnalysis {
  const tracks = new Map<number, { t: number; face: FaceRecord }[]>();
  for (const f of video.frames)
    for (const face of f.faces) {
      let list = tracks.get(face.id);
      if (!list) tracks.set(face.id, (list = []));
      list.push({ t: f.index, face });
    }
  const smoothed = new Map<FaceRecord, number[]>();
  for (const list of tracks.values()) {
    const out = smoothCentred(
      list.map(({ t, face }) => ({ t, probs: face.probs })),
      o,
    );
    list.forEach(({ face }, i) => smoothed.set(face, out[i] as number[]));
  }
  return {
    ...video,
    frames: video.frames.map((f) => ({
      ...f,
      faces: f.faces.map((face) => {
        const s = smoothed.get(face) as number[];
        return { ...face, smoothed: s, smoothedLabel: video.classes[argmax(s)] as string };
      }),
    })),
  };
}

export interface FaceSummary {
  id: number;
  frames: number;
  firstFrame: number;
  lastFrame: number;
  dominant: string;
  /** Share of this face's frames per (smoothed) label, in class order. */
  share: Record<string, number>;
  meanConsensus: number;
}

export interface VideoSummary {
  id: string;
  input: string;
  frames: number;
  framesWithFaces: number;
  faces: FaceSummary[];
}

/** The per-face summary, built one frame record at a time (nothing kept per frame). */
export class SummaryBuilder {
  private readonly byId = new Map<
    number,
    { frames: number; first: number; last: number; counts: number[]; consensus: number }
  >();
  private frames = 0;
  private framesWithFaces = 0;

  constructor(private readonly classes: readonly string[]) {}

  add(f: FrameRecord): void {
    this.frames++;
    if (f.faces.length > 0) this.framesWithFaces++;
    for (const face of f.faces) {
      let s = this.byId.get(face.id);
      if (!s)
        this.byId.set(
          face.id,
          (s = {
            frames: 0,
            first: f.index,
            last: f.index,
            counts: new Array<number>(this.classes.length).fill(0),
            consensus: 0,
          }),
        );
      s.frames++;
      s.last = f.index;
      s.counts[this.classes.indexOf(face.smoothedLabel)]!++;
      s.consensus += face.consensus;
    }
  }

  result(id: string, input: string): VideoSummary {
    return {
      id,
      input,
      frames: this.frames,
      framesWithFaces: this.framesWithFaces,
      faces: [...this.byId.entries()]
        .sort(([a], [b]) => a - b)
        .map(([faceId, s]) => ({
          id: faceId,
          frames: s.frames,
          firstFrame: s.first,
          lastFrame: s.last,
          dominant: this.classes[argmax(s.counts)] as string,
          share: Object.fromEntries(
            this.classes.map((c, i) => [c, (s.counts[i] as number) / s.frames]),
          ),
          meanConsensus: s.consensus / s.frames,
        })),
    };
  }
}

export function summarise(video: VideoAnalysis): VideoSummary {
  const b = new SummaryBuilder(video.classes);
  for (const f of video.frames) b.add(f);
  return b.result(video.id, video.input);
}

/** The summary as a text table, one row per face. */
export function summaryTable(
  summaries: readonly VideoSummary[],
  classes: readonly string[],
): string {
  const short = classes.map((c) => c.slice(0, 5));
  const head = ['video', 'face', 'frames', 'dominant', 'consensus', ...short];
  const rows: string[][] = [];
  for (const s of summaries) {
    if (s.faces.length === 0)
      rows.push([s.id, '-', `0/${s.frames}`, 'no face', '-', ...classes.map(() => '-')]);
    for (const f of s.faces)
      rows.push([
        s.id,
        String(f.id),
        `${f.frames}/${s.frames}`,
        f.dominant,
        f.meanConsensus.toFixed(2),
        ...classes.map((c) => `${Math.round((f.share[c] ?? 0) * 100)}%`),
      ]);
  }
  const widths = head.map((h, i) =>
    Math.max(h.length, ...rows.map((r) => (r[i] as string).length)),
  );
  const line = (r: string[]) =>
    r.map((v, i) => (i < 2 ? v.padEnd(widths[i]!) : v.padStart(widths[i]!))).join('  ');
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}
