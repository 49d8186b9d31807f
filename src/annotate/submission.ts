/**
 * ABAW expression-challenge submissions: which face an entry means (`<video>_left` / `_right` pick
 * by horizontal position; otherwise the largest face), one label per decoded frame with faceless
 * frames given the nearest frame's prediction, the two file formats, and the validator.
 */
import { leftToRight } from '../faces/tracker.ts';
import { argmax } from '../stream/smooth.ts';
import { AFFWILD2_CLASSES } from '../data/classes.ts';
import type { FaceRecord, VideoAnalysis } from './records.ts';

export const SUBMISSION_HEADER = AFFWILD2_CLASSES.join(',');
/** The later single-CSV format's header (8 classes, with Other). */
export const CSV_HEADER = `image_location,${AFFWILD2_CLASSES.join(',')},Other`;

export interface Entry {
  name: string;
  video: string;
  side?: 'left' | 'right';
}

export function parseEntry(name: string): Entry {
  const m = /^(.*)_(left|right)$/.exec(name);
  return m
    ? { name, video: m[1] as string, side: m[2] as 'left' | 'right' }
    : { name, video: name };
}

/** The face an entry means in one frame, if any. */
export function pickFace<F extends Pick<FaceRecord, 'box'>>(
  faces: readonly F[],
  side: Entry['side'],
  frameWidth: number,
): F | undefined {
  if (faces.length === 0) return undefined;
  if (!side)
    return faces.reduce((a, b) =>
      b.box.width * b.box.height > a.box.width * a.box.height ? b : a,
    );
  if (faces.length === 1) {
    // One face: it is the left person if it sits in the left half of the frame.
    const f = faces[0] as F;
    const left = f.box.x + f.box.width / 2 < frameWidth / 2;
    return (side === 'left') === left ? f : undefined;
  }
  const ordered = leftToRight(faces);
  return side === 'left' ? ordered[0] : ordered.at(-1);
}

/**
 * One Aff-Wild2 class index per frame (0..6) for an entry. Frames where the entry's face was not
 * found take the label of the nearest frame where it was (the earlier one on a tie); a video with
 * no face at all is Neutral throughout. `filled` counts the frames that borrowed a label.
 */
export function entryLabels(
  video: VideoAnalysis,
  entry: Entry,
): { labels: number[]; filled: number } {
  const toAffWild = video.classes.map((c) => {
    const i = (AFFWILD2_CLASSES as readonly string[]).indexOf(c);
    if (i < 0)
      throw new Error(
        `the model's class '${c}' is not one of Aff-Wild2's ${AFFWILD2_CLASSES.join(', ')}`,
      );
    return i;
  });
  const own = video.frames.map((f) => {
    const face = pickFace(f.faces, entry.side, video.width);
    return face ? (toAffWild[argmax(face.smoothed)] as number) : undefined;
  });
  const n = own.length;
  const prev = new Array<number>(n).fill(-1);
  const next = new Array<number>(n).fill(-1);
  for (let i = 0, p = -1; i < n; i++) prev[i] = own[i] !== undefined ? (p = i) : p;
  for (let i = n - 1, q = -1; i >= 0; i--) next[i] = own[i] !== undefined ? (q = i) : q;
  let filled = 0;
  const labels = own.map((l, i) => {
    if (l !== undefined) return l;
    filled++;
    const p = prev[i] as number;
    const q = next[i] as number;
    const pick = p >= 0 && (q < 0 || i - p <= q - i) ? p : q;
    return pick >= 0 ? (own[pick] as number) : 0;
  });
  return { labels, filled };
}

export function formatTxt(labels: readonly number[]): string {
  return `${SUBMISSION_HEADER}\n${labels.join('\n')}\n`;
}

export function csvRows(name: string, labels: readonly number[]): string[] {
  return labels.map((l, i) => `${name}/${String(i + 1).padStart(5, '0')}.jpg,${l}`);
}

/** Problems with one `<entry>.txt` (empty when valid): header, one integer label 0..6 per line, line count. */
export function checkTxt(file: string, text: string, expectedFrames?: number): string[] {
  const problems: string[] = [];
  if (text.trim() === '')
    return [
      `${file}: the file is empty: expected the header '${SUBMISSION_HEADER}' and then one label per frame`,
    ];
  if (text.charCodeAt(0) === 0xfeff) {
    // Editors on Windows add one; the header then looks right but is not.
    problems.push(
      `${file}:1: the file starts with a byte-order mark (BOM, U+FEFF) before the header; save it as UTF-8 without BOM`,
    );
    text = text.slice(1);
  }
  const lines = text.split(/\r?\n/);
  if (lines.at(-1) === '') lines.pop();
  if (lines[0] !== SUBMISSION_HEADER)
    problems.push(
      `${file}:1: header must be '${SUBMISSION_HEADER}', got '${(lines[0] ?? '').slice(0, 80)}'`,
    );
  let bad = 0;
  for (let i = 1; i < lines.length; i++) {
    const v = lines[i] as string;
    if (!/^\d+$/.test(v) || Number(v) > 6) {
      if (bad++ < 5)
        problems.push(`${file}:${i + 1}: label must be an integer 0..6, got '${v.slice(0, 20)}'`);
    }
  }
  if (bad > 5) problems.push(`${file}: ${bad - 5} more bad labels`);
  const count = lines.length - 1;
  if (expectedFrames !== undefined && count !== expectedFrames)
    problems.push(
      `${file}: ${count} label lines, but the video decodes to ${expectedFrames} frames`,
    );
  return problems;
}
