/**
 * One analysed face as it leaves cctfer, in one place: the same fields and rounding for WebSocket
 * frame messages, frames.jsonl and frames.csv.
 */
import type { AnalysedFace } from './types.ts';

/** What every output carries for a face (member probabilities stay internal). */
export type FaceFields = Pick<
  AnalysedFace,
  'id' | 'box' | 'score' | 'probs' | 'smoothed' | 'label' | 'smoothedLabel' | 'consensus'
>;

export const r4 = (v: number) => Math.round(v * 1e4) / 1e4;
export const r1 = (v: number) => Math.round(v * 10) / 10;

/** The face as a JSON object: boxes to 0.1 px, probabilities, score and consensus to 1e-4. */
export function faceJson(face: FaceFields) {
  return {
    id: face.id,
    box: {
      x: r1(face.box.x),
      y: r1(face.box.y),
      width: r1(face.box.width),
      height: r1(face.box.height),
    },
    score: r4(face.score),
    label: face.label,
    smoothedLabel: face.smoothedLabel,
    // 1 − JSD can come out a hair outside [0,1] in float arithmetic.
    consensus: r4(Math.min(1, Math.max(0, face.consensus))),
    probs: face.probs.map(r4),
    smoothed: face.smoothed.map(r4),
  };
}

export function faceCsvHeader(classes: readonly string[]): string[] {
  return [
    'frame',
    'pts',
    'face',
    'x',
    'y',
    'width',
    'height',
    'score',
    'label',
    'smoothed_label',
    'consensus',
    ...classes.map((c) => `p_${c}`),
    ...classes.map((c) => `s_${c}`),
  ];
}

/** One CSV row: a frame and one of its faces, or (no face) the frame alone with empty face cells. */
export function faceCsvRow(
  frame: number,
  pts: number,
  face: FaceFields | undefined,
  classCount: number,
): (string | number)[] {
  if (!face) return [frame, r4(pts), ...new Array<string>(9 + 2 * classCount).fill('')];
  const j = faceJson(face);
  return [
    frame,
    r4(pts),
    j.id,
    j.box.x,
    j.box.y,
    j.box.width,
    j.box.height,
    j.score,
    j.label,
    j.smoothedLabel,
    j.consensus,
    ...j.probs,
    ...j.smoothed,
  ];
}
