/** Frame records as CSV (one row per frame per face; a faceless frame is one row without a face) and JSON lines. */
import { stringify } from 'csv-stringify/sync';
import { faceCsvHeader, faceCsvRow, faceJson, r4 } from '../stream/face-record.ts';
import type { FrameRecord, VideoAnalysis } from './records.ts';

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

/** The CSV's header line (what `toCsv` starts with). */
export function csvHeaderLine(classes: readonly string[]): string {
  return stringify([faceCsvHeader(classes)]);
}

/** One frame's CSV rows, without the header (what `toCsv` writes for that frame). */
export function csvRows(f: FrameRecord, classCount: number): string {
  const rows =
    f.faces.length === 0
      ? [faceCsvRow(f.index, f.pts, undefined, classCount)]
      : f.faces.map((face) => faceCsvRow(f.index, f.pts, face, classCount));
  return stringify(rows);
}

/** One frame's JSON line (what `toJsonLines` writes for that frame). */
export function jsonLine(f: FrameRecord): string {
  return `${JSON.stringify({ frame: f.index, pts: r4(f.pts), faces: f.faces.map(faceJson) })}\n`;
}
