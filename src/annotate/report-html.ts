/**
 * report.html: one self-contained page per annotated video (no script, no network: styles, the
 * timeline SVG and the thumbnails are inline), so it opens anywhere, offline, and can be mailed.
 */
import type { VideoSummary } from './records.ts';
import type { Thumbnail } from './track-thumbnails.ts';
import { EXPRESSION_COLOURS } from './timeline.ts';

const esc = (s: string) => s.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
const pct = (v: number) => `${(100 * v).toFixed(0)}%`;

export interface ReportInput {
  summary: VideoSummary;
  classes: readonly string[];
  model: string;
  smoothing: string;
  timelineSvg: string;
  thumbnails: ReadonlyMap<number, readonly Thumbnail[]>;
}

export function reportHtml(r: ReportInput): string {
  const s = r.summary;
  const rows = s.faces
    .map((f) => {
      const thumbs = (r.thumbnails.get(f.id) ?? [])
        .map(
          (t) =>
            `<figure><img alt="face #${f.id}, frame ${t.frame}" src="data:image/jpeg;base64,${t.jpeg.toString('base64')}"><figcaption>frame ${t.frame} · ${esc(t.label)} ${pct(t.confidence)}</figcaption></figure>`,
        )
        .join('');
      const shares = r.classes.map((c) => `<td class="num">${pct(f.share[c] ?? 0)}</td>`).join('');
      return (
        `<tr data-face-id="${f.id}"><td>#${f.id}</td><td class="num">${f.frames}</td>` +
        `<td class="num">${f.firstFrame}–${f.lastFrame}</td>` +
        `<td><span class="swatch" style="background:${EXPRESSION_COLOURS[f.dominant] ?? '#607d8b'}"></span>${esc(f.dominant)}</td>` +
        `<td class="num">${f.meanConsensus.toFixed(2)}</td>${shares}<td class="thumbs">${thumbs}</td></tr>`
      );
    })
    .join('\n');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>cctfer report: ${esc(s.id)}</title>
<style>
body { font-family: system-ui, 'DejaVu Sans', sans-serif; margin: 1.5rem; color: #222; }
h1 { font-size: 1.3rem; margin: 0 0 0.3rem; }
.meta { color: #555; font-size: 0.85rem; margin: 0 0 1rem; }
table { border-collapse: collapse; font-size: 0.85rem; margin-bottom: 1.5rem; }
th, td { border-bottom: 1px solid #ddd; padding: 0.3rem 0.5rem; text-align: left; vertical-align: middle; white-space: nowrap; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.swatch { display: inline-block; width: 0.7rem; height: 0.7rem; border-radius: 2px; margin-right: 0.3rem; }
.thumbs { display: flex; gap: 0.4rem; }
figure { margin: 0; text-align: center; font-size: 0.7rem; color: #555; }
figure img { display: block; width: 72px; height: 72px; border-radius: 4px; }
.timeline svg { max-width: 100%; height: auto; }
</style>
</head>
<body>
<h1>${esc(s.id)}</h1>
<p class="meta">${esc(s.input)} · ${s.frames} frames, ${s.framesWithFaces} with faces · ${s.faces.length} face track(s) · model ${esc(r.model)} · smoothing ${esc(r.smoothing)}</p>
<table>
<thead><tr><th>face</th><th>frames</th><th>span</th><th>dominant</th><th>agreement</th>${r.classes.map((c) => `<th>${esc(c)}</th>`).join('')}<th>most confident frames</th></tr></thead>
<tbody>
${rows}
</tbody>
</table>
<div class="timeline">${r.timelineSvg}</div>
</body>
</html>
`;
}
