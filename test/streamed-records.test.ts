import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { CentredSmoothingStream } from '../src/annotate/centred-stream.ts';
import {
  smoothOffline,
  summarise,
  SummaryBuilder,
  type FaceRecord,
  type FrameRecord,
  type VideoAnalysis,
} from '../src/annotate/records.ts';
import { csvHeaderLine, csvRows, jsonLine, toCsv, toJsonLines } from '../src/annotate/tables.ts';
import type { CentredSmoothing } from '../src/stream/smooth-offline.ts';
import { TrackKeeper } from '../src/annotate/track-keeper.ts';
import { TimelineSeries } from '../src/annotate/timeline.ts';

const CLASSES = ['Neutral', 'Happiness', 'Sadness'];

/** A video with tracks that start, stop, skip frames and overlap, from a seeded generator. */
function video(frames: number, seed: number): VideoAnalysis {
  let s = seed;
  const rnd = () => (s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const records: FrameRecord[] = [];
  for (let i = 0; i < frames; i++) {
    const faces: FaceRecord[] = [];
    for (const id of [1, 2, 3]) {
      // Track 1 always there but with gaps, 2 in the middle, 3 flickering.
      const present = id === 1 ? rnd() > 0.1 : id === 2 ? i > 20 && i < 70 : rnd() > 0.6;
      if (!present) continue;
      const raw = CLASSES.map(() => rnd() + 0.01);
      const sum = raw.reduce((a, b) => a + b, 0);
      const probs = raw.map((v) => v / sum);
      faces.push({
        id,
        box: { x: id * 10, y: 5, width: 40, height: 40 },
        score: 0.9,
        probs,
        smoothed: probs,
        label: CLASSES[probs.indexOf(Math.max(...probs))]!,
        smoothedLabel: CLASSES[0]!,
        consensus: rnd(),
      });
    }
    records.push({ index: i, pts: i / 25, faces });
  }
  return { id: 'v', input: 'v.mp4', width: 640, height: 480, classes: CLASSES, frames: records };
}

describe('streamed annotation records', () => {
  for (const o of [
    { method: 'gaussian', sigma: 3 },
    { method: 'box', radius: 2 },
    { method: 'none' },
  ] as CentredSmoothing[]) {
    it(`centred ${o.method} smoothing streamed gives exactly what the whole-video pass gives`, () => {
      for (const seed of [1, 2, 3]) {
        const v = video(100, seed);
        const whole = smoothOffline(v, o).frames;
        const stream = new CentredSmoothingStream(o, CLASSES);
        const streamed: FrameRecord[] = [];
        for (const f of v.frames) streamed.push(...stream.push(f));
        streamed.push(...stream.flush());
        assert.deepEqual(streamed, whole);
      }
    });
  }

  it('holds only a window of frames, however long the video', () => {
    const stream = new CentredSmoothingStream({ method: 'gaussian', sigma: 3 }, CLASSES);
    const v = video(2000, 7);
    let out = 0;
    for (const f of v.frames) {
      out += stream.push(f).length;
      // r = 9: at most 2r+1 frames held.
      assert.ok((stream as unknown as { held: unknown[] }).held.length <= 19);
    }
    assert.equal(out + stream.flush().length, 2000);
  });

  it('tables and summary written frame by frame equal the whole-video ones', () => {
    const v = smoothOffline(video(60, 5), { method: 'gaussian', sigma: 3 });
    const csv = csvHeaderLine(CLASSES) + v.frames.map((f) => csvRows(f, CLASSES.length)).join('');
    assert.equal(csv, toCsv(v));
    assert.equal(v.frames.map(jsonLine).join(''), toJsonLines(v));
    const b = new SummaryBuilder(CLASSES);
    for (const f of v.frames) b.add(f);
    assert.deepEqual(b.result('v', 'v.mp4'), summarise(v));
  });

  it('a video that keeps making tracks keeps only the longest ones (bounded), the current ones never forgotten', () => {
    const keeper = new TrackKeeper(2, 10);
    const held = new Set<number>();
    // 50 tracks one after another, 20 s each; track 7 lasts 60 s, track 30 40 s.
    let t = 0;
    for (let id = 1; id <= 50; id++) {
      const seconds = id === 7 ? 60 : id === 30 ? 40 : 20;
      for (let k = 0; k < seconds; k++, t++) {
        held.add(id);
        for (const gone of keeper.see(id, t)) held.delete(gone);
        assert.ok(held.size <= 5, `at most 2 × keep (+ the new one) held, got ${held.size}`);
        assert.ok(held.has(id), 'the track on screen is kept');
      }
    }
    assert.equal(keeper.total, 50);
    assert.deepEqual(keeper.longest(), [7, 30]);
    const series = new TimelineSeries(2000, 2);
    for (let i = 0; i < 3000; i++)
      series.add({
        index: i,
        pts: i,
        faces: [{ ...video(1, 1).frames[0]!.faces[0]!, id: 1 + Math.floor(i / 30) }],
      });
    assert.equal(series.series.size, 2);
  });
});
