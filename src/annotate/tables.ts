/** Frame records as CSV (one row per frame per face; a faceless frame is one row without a face) and JSON lines. */
import { stringify } from 'csv-stringify/sync';
import type { VideoAnalysis } from './records.ts';

const r4 = (v: number) => Math.round(v * 1e4) / 1e4;
const r1 = (v: number) => Math.round(v * 10) / 10;

export function csvHeader(classes: readonly string[]): string[] {
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

export function toCsv(video: VideoAnalysis): string {
  const rows: (string | number)[][] = [];
  for (const f of video.frames) {
    if (f.faces.length === 0)
      rows.push([f.index, r4(f.pts), ...new Array<string>(9 + 2 * video.classes.length).fill('')]);
    for (const face of f.faces)
      rows.push([
        f.index,
        r4(f.pts),
        face.id,
        r1(face.box.x),
        r1(face.box.y),
        r1(face.box.width),
        r1(face.box.height),
        r4(face.score),
        face.label,
        face.smoothedLabel,
        r4(face.consensus),
        ...face.probs.map(r4),
        ...face.smoothed.map(r4),
      ]);
  }
  return stringify(rows, { header: true, columns: csvHeader(video.classes) });
}

/** One JSON object per frame: {frame, pts, faces: [...]}. */
export function toJsonLines(video: VideoAnalysis): string {
  return video.frames
    .map((f) =>
      JSON.stringify({
        frame: f.index,
        pts: r4(f.pts),
        faces: f.faces.map((face) => ({
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
          consensus: r4(face.consensus),
          probs: face.probs.map(r4),
          smoothed: face.smoothed.map(r4),
        })),
      }),
    )
    .join('\n')
    .concat('\n');
}
