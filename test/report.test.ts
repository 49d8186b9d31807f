import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { TimelineSeries, timelineSvg } from '../src/annotate/timeline.ts';
import { reportHtml } from '../src/annotate/report-html.ts';
import { TrackThumbnails } from '../src/annotate/track-thumbnails.ts';
import type { FrameRecord } from '../src/annotate/records.ts';
import type { AnalysedFrame } from '../src/stream/types.ts';

const CLASSES = ['Neutral', 'Happiness', 'Sadness'];

function record(index: number, faces: number[]): FrameRecord {
  return {
    index,
    pts: index / 25,
    faces: faces.map((id) => {
      const happy = (index % 100) / 100;
      const smoothed = [1 - happy, happy, 0];
      return {
        id,
        box: { x: 10 * id, y: 10, width: 40, height: 40 },
        score: 0.9,
        probs: smoothed,
        smoothed,
        label: happy > 0.5 ? 'Happiness' : 'Neutral',
        smoothedLabel: happy > 0.5 ? 'Happiness' : 'Neutral',
        consensus: 0.8,
      };
    }),
  };
}

describe('timeline and report', () => {
  it('keeps at most maxPoints per track over a long video, spread over the whole of it', () => {
    const series = new TimelineSeries(2000);
    for (let i = 0; i < 100_000; i++) series.add(record(i, i < 500 ? [1, 2] : [1]));
    const one = series.series.get(1)!;
    const two = series.series.get(2)!;
    assert.ok(one.length <= 2000 && one.length > 1000, `${one.length} points`);
    assert.equal(two.length, 500, 'a short track keeps every point');
    assert.equal(one[0]!.t, 0);
    assert.ok(one.at(-1)!.t > 0.99 * (99_999 / 25), 'the end of the video is still there');
    const steps = new Set(one.slice(1).map((p, i) => Math.round((p.t - one[i]!.t) * 25)));
    assert.equal(steps.size, 1, 'evenly spaced');
  });

  it('draws one panel per track: a label strip and a line per class', async () => {
    const series = new TimelineSeries();
    for (let i = 0; i < 200; i++) series.add(record(i, i < 120 ? [1, 3] : [1]));
    const svg = await timelineSvg(series, CLASSES);
    assert.match(svg, /^<svg/);
    assert.match(svg, /Face #1/);
    assert.match(svg, /Face #3/);
    // Two panels × three classes of lines.
    assert.ok((svg.match(/<path[^>]*stroke-width="1.5"/g) ?? []).length >= 6);
    assert.doesNotMatch(svg, /https?:\/\/(?!www\.w3\.org)/, 'nothing fetched from elsewhere');
  });

  it('keeps the most confident crops of each track and writes a self-contained page', async () => {
    const thumbs = new TrackThumbnails(3, 32);
    const data = new Uint8Array(64 * 48 * 4).fill(200);
    for (let i = 0; i < 20; i++) {
      const r = record(i, [1]);
      thumbs.add({
        frame: { sourceId: 'v', index: i, pts: i / 25, width: 64, height: 48, data },
        receivedAt: 0,
        analysedAt: 0,
        dropped: 0,
        faces: r.faces.map((f) => ({ ...f, probs: [0.5 - i / 100, 0.5 + i / 100, 0] })),
      } as unknown as AnalysedFrame);
    }
    const jpegs = await thumbs.jpegs();
    assert.deepEqual(
      jpegs.get(1)!.map((t) => t.frame),
      [19, 18, 17],
    );
    const html = reportHtml({
      summary: {
        id: 'clip',
        input: '/videos/<clip>.mp4',
        frames: 20,
        framesWithFaces: 20,
        faces: [
          {
            id: 1,
            frames: 20,
            firstFrame: 0,
            lastFrame: 19,
            dominant: 'Happiness',
            share: { Happiness: 1 },
            meanConsensus: 0.8,
          },
        ],
      },
      classes: CLASSES,
      model: 'default',
      smoothing: 'gaussian sigma 3 (centred)',
      timelineSvg: '<svg></svg>',
      thumbnails: jpegs,
    });
    assert.match(html, /&#60;clip&#62;\.mp4/, 'names are escaped');
    assert.equal((html.match(/<img /g) ?? []).length, 3);
    assert.doesNotMatch(html, /<script|<link|src="http/);
  });
});
