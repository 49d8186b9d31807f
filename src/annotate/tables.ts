/** Frame records as CSV (one row per frame per face; a faceless frame is one row without a face) and JSON lines. */
import { stringify } from 'csv-stringify/sync';
import { faceCsvHeader, faceCsvRow, faceJson, r4 } from '../stream/face-record.ts';
import type { VideoAnalysis } from './records.ts';

export { faceCsvHeader as csvHeader };

export function toCsv(video: VideoAnalysis): string {
  const k = video.classes.length;
  const rows: (string | number)[][] = [];
  for (const f of video.frames) {
    if (f.faces.length === 0) rows.push(faceCsvRow(f.index, f.pts, undefined, k));
    for (const face of f.faces) rows.push(faceCsvRow(f.index, f.pts, face, k));
  }
  return stringify(rows, { header: true, columns: faceCsvHeader(video.classes) });
}

/** One JSON object per frame: {frame, pts, faces: [...]}. */
export function toJsonLines(video: VideoAnalysis): string {
  return video.frames
    .map((f) => JSON.stringify({ frame: f.index, pts: r4(f.pts), faces: f.faces.map(faceJson) }))
    .join('\n')
    .concat('\n');
}
