/**
 * The per-video timeline: for each face track, the probability of each class over time and the
 * smoothed label, drawn with vega-lite to a self-contained SVG. The series is fed one frame record
 * at a time and stays bounded (≤ maxPoints per track: when a track fills up, every other point is
 * dropped and the stride doubles), so a long video costs no more memory than a short one.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { WEB_ROOT } from '../package-paths.ts';
import type { FrameRecord } from './records.ts';
import { TrackKeeper } from './track-keeper.ts';

/** The page's colour table (web/expression-colours.json): one set of colours everywhere. */
export const EXPRESSION_COLOURS = JSON.parse(
  readFileSync(join(WEB_ROOT, 'expression-colours.json'), 'utf8'),
) as Record<string, string>;

interface Point {
  t: number;
  smoothed: number[];
  label: string;
}

interface Track {
  points: Point[];
  stride: number;
  seen: number;
}

export class TimelineSeries {
  private readonly tracks = new Map<number, Track>();
  /** Bounds the number of tracks held (a long video keeps making new ones). */
  readonly keeper: TrackKeeper;

  constructor(
    readonly maxPoints = 2000,
    maxTracks = 12,
  ) {
    if (!(maxPoints >= 2)) throw new RangeError(`maxPoints must be ≥ 2, got ${maxPoints}`);
    this.keeper = new TrackKeeper(maxTracks);
  }

  add(record: FrameRecord): void {
    for (const f of record.faces) {
      for (const gone of this.keeper.see(f.id, record.pts)) this.tracks.delete(gone);
      let t = this.tracks.get(f.id);
      if (!t) this.tracks.set(f.id, (t = { points: [], stride: 1, seen: 0 }));
      if (t.seen++ % t.stride !== 0) continue;
      t.points.push({ t: record.pts, smoothed: f.smoothed, label: f.smoothedLabel });
      if (t.points.length > this.maxPoints) {
        t.points = t.points.filter((_, i) => i % 2 === 0);
        t.stride *= 2;
      }
    }
  }

  /** Points per track id, in time order: the longest tracks (at most `maxTracks`). */
  get series(): ReadonlyMap<number, readonly Point[]> {
    return new Map(this.keeper.longest().map((id) => [id, this.tracks.get(id)?.points ?? []]));
  }
}

/** The timeline as SVG: one panel per track (label strip + class probabilities). */
export async function timelineSvg(
  series: TimelineSeries,
  classes: readonly string[],
): Promise<string> {
  // Loaded only when a timeline is drawn: vega is large, and most commands never need it.
  const [vega, { compile }] = await Promise.all([import('vega'), import('vega-lite')]);
  const colour = {
    domain: [...classes],
    range: classes.map((c) => EXPRESSION_COLOURS[c] ?? '#607d8b'),
  };
  const panels = [...series.series]
    .sort(([a], [b]) => a - b)
    .map(([id, pts]) => ({
      id,
      lines: pts.flatMap((p) => classes.map((c, i) => ({ t: p.t, cls: c, p: p.smoothed[i] }))),
      strips: pts.map((p, i) => ({
        t: p.t,
        // A point stands for the time until the next one (the last for one sampling step).
        t2: pts[i + 1]?.t ?? p.t + (i > 0 ? p.t - (pts[i - 1]?.t ?? p.t) : 0.04),
        label: p.label,
      })),
    }));
  // One time axis for every face: panels line up, and a short track shows where it was.
  // (A loop, not Math.max(...): a long video's points would overflow the argument list.)
  let end = 0.04;
  for (const panel of panels) end = Math.max(end, panel.strips.at(-1)?.t2 ?? 0);
  const x = {
    field: 't',
    type: 'quantitative' as const,
    title: 'time (s)',
    scale: { domain: [0, end], nice: false },
  };
  const color = {
    field: 'cls',
    type: 'nominal' as const,
    title: 'expression',
    scale: colour,
  };
  const spec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: !panels.length
      ? 'No faces found'
      : series.keeper.total > panels.length
        ? `Expression probabilities per face: the ${panels.length} longest of ${series.keeper.total} tracks`
        : 'Expression probabilities per face',
    vconcat: panels.length
      ? panels.map(({ id, lines, strips }) => ({
          title: { text: `Face #${id}`, anchor: 'start' as const, fontSize: 12 },
          vconcat: [
            {
              width: 640,
              height: 12,
              data: { values: strips },
              mark: { type: 'rect' as const },
              encoding: {
                x: { ...x, axis: null },
                x2: { field: 't2' },
                color: {
                  field: 'label',
                  type: 'nominal' as const,
                  title: 'expression',
                  scale: colour,
                },
              },
            },
            {
              width: 640,
              height: 120,
              data: { values: lines },
              mark: { type: 'line' as const, strokeWidth: 1.5, interpolate: 'monotone' as const },
              encoding: {
                x,
                y: {
                  field: 'p',
                  type: 'quantitative' as const,
                  title: 'probability',
                  scale: { domain: [0, 1] },
                  axis: { format: '.0%', tickCount: 5 },
                },
                color,
              },
            },
          ],
        }))
      : [{ data: { values: [] }, mark: 'point' as const }],
    resolve: { scale: { color: 'shared' as const } },
    config: { font: 'DejaVu Sans, sans-serif' },
  };
  const view = new vega.View(vega.parse(compile(spec as never).spec), { renderer: 'none' });
  const svg = await view.toSVG();
  view.finalize();
  return svg;
}
