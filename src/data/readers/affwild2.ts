/**
 * Aff-Wild2 expression annotations: `<set>/<entry>.txt` with the header
 * `Neutral,Anger,Disgust,Fear,Happiness,Sadness,Surprise[,Other]`, then one integer per frame
 * (line i+1 ↔ frame i, 0-based here); -1 = not annotated. `<video>_left` / `_right` entries share
 * `<video>.<ext>`; the face is picked by horizontal position.
 */
import { readdir, readFile } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import { AFFWILD2_CLASSES } from '../classes.ts';
import { DatasetError } from './label-map.ts';

export interface AffWild2Annotation {
  entry: string;
  /** The video's name (entry without `_left`/`_right`). */
  video: string;
  side?: 'left' | 'right';
  file: string;
  /** One label per frame: 0..6 (0..7 with Other), or -1 where not annotated. */
  labels: Int8Array;
  classes: number;
}

const HEADER7 = AFFWILD2_CLASSES.join(',');
const HEADER8 = `${HEADER7},Other`;

export function parseAffWild2Annotation(file: string, text: string): AffWild2Annotation {
  const lines = text.split(/\r?\n/);
  if (lines.at(-1) === '') lines.pop();
  const header = (lines[0] ?? '').trim();
  if (header !== HEADER7 && header !== HEADER8)
    throw new DatasetError(
      `${file}:1`,
      `header must be '${HEADER7}' (optionally ',Other'), got '${header.slice(0, 80)}'`,
    );
  const classes = header === HEADER8 ? 8 : 7;
  const labels = new Int8Array(lines.length - 1);
  for (let i = 1; i < lines.length; i++) {
    const raw = (lines[i] as string).trim();
    if (!/^-?\d+$/.test(raw))
      throw new DatasetError(
        `${file}:${i + 1}`,
        `expected an integer label, got '${raw.slice(0, 20)}'`,
      );
    const v = Number(raw);
    if (v < -1 || v >= classes)
      throw new DatasetError(
        `${file}:${i + 1}`,
        `label ${v} out of range (-1 or 0..${classes - 1})`,
      );
    labels[i - 1] = v;
  }
  const entry = basename(file, extname(file));
  const m = /^(.*)_(left|right)$/.exec(entry);
  return {
    entry,
    video: m ? (m[1] as string) : entry,
    ...(m && { side: m[2] as 'left' | 'right' }),
    file,
    labels,
    classes,
  };
}

export async function readAffWild2Set(dir: string): Promise<AffWild2Annotation[]> {
  const names = (
    await readdir(dir).catch((err: NodeJS.ErrnoException) => {
      throw new DatasetError(dir, `cannot read the annotation folder (${err.code ?? err.message})`);
    })
  )
    .filter((n) => n.endsWith('.txt'))
    .sort();
  if (names.length === 0) throw new DatasetError(dir, 'no .txt annotation files');
  return Promise.all(
    names.map(async (n) =>
      parseAffWild2Annotation(join(dir, n), await readFile(join(dir, n), 'utf8')),
    ),
  );
}

/**
 * Reconciles label lines with the decoded frame count: a difference of one frame is tolerated
 * (container counts are approximate; the extra labels/frames are cut and reported), more stops
 * the video with a clear message. Labels are never shifted.
 */
export function reconcileFrames(
  a: AffWild2Annotation,
  decodedFrames: number,
): { labels: Int8Array; note?: string } {
  const diff = decodedFrames - a.labels.length;
  if (Math.abs(diff) > 1)
    throw new DatasetError(
      a.file,
      `${a.labels.length} label lines but the video decodes to ${decodedFrames} frames (more than one frame apart: check that the annotation belongs to this video)`,
    );
  if (diff === 0) return { labels: a.labels };
  return {
    labels: a.labels.subarray(0, Math.min(a.labels.length, decodedFrames)),
    note: `${a.file}: ${a.labels.length} label lines, ${decodedFrames} decoded frames; using the first ${Math.min(a.labels.length, decodedFrames)}`,
  };
}
