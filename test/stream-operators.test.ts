import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { TestScheduler } from 'rxjs/testing';
import { firstValueFrom, from, toArray } from 'rxjs';
import { batchFrames, classifyBatches, cropFaces, trackFaces } from '../src/stream/operators.ts';
import { TrackSmoother } from '../src/stream/smooth.ts';
import { smoothCentred } from '../src/stream/smooth-offline.ts';
import { channel } from '../src/stream/channel.ts';
import { SourceCounter, quantile } from '../src/stream/stats.ts';
import type { CropBatch, CropPrediction } from '../src/models/analyzer.ts';
import type { CropMode } from '../src/models/preprocess.ts';
import type { Frame } from '../src/video/decode.ts';

const faces = (n: number) => Array.from({ length: n }, () => ({}));

describe('batchFrames (marble tests)', () => {
  const scheduler = () => new TestScheduler((a, b) => assert.deepEqual(a, b));

  it('emits when the face count reaches maxFaces', () => {
    scheduler().run(({ cold, expectObservable }) => {
      const values = { a: { faces: faces(2) }, b: { faces: faces(2) }, c: { faces: faces(1) } };
      const src = cold('a-b-c|', values);
      expectObservable(src.pipe(batchFrames({ maxFaces: 4, maxWaitMs: 100 }))).toBe('--x--(y|)', {
        x: [values.a, values.b],
        y: [values.c],
      });
    });
  });

  it('emits a partial batch after maxWaitMs from its first frame', () => {
    scheduler().run(({ cold, expectObservable }) => {
      const values = { a: { faces: faces(1) }, b: { faces: faces(1) }, c: { faces: faces(1) } };
      const src = cold('a 3ms b 10ms c 9ms |', values);
      expectObservable(src.pipe(batchFrames({ maxFaces: 32, maxWaitMs: 5 }))).toBe(
        '5ms x 14ms y 4ms |',
        { x: [values.a, values.b], y: [values.c] },
      );
    });
  });

  it('passes a faceless frame at once when nothing is waiting', () => {
    scheduler().run(({ cold, expectObservable }) => {
      const values = { e: { faces: faces(0) }, a: { faces: faces(1) } };
      expectObservable(cold('e-a-e|', values).pipe(batchFrames({ maxWaitMs: 3 }))).toBe(
        'x----(y|)',
        { x: [values.e], y: [values.a, values.e] },
      );
    });
  });
});

function frame(sourceId: string, index: number, pts: number): Frame {
  return {
    sourceId,
    index,
    pts,
    width: 64,
    height: 64,
    data: new Uint8Array(64 * 64 * 4).fill(128),
  };
}
const det = (x: number) => ({
  box: { x, y: 10, width: 20, height: 20 },
  score: 0.9,
  keypoints: [] as [number, number][],
});

describe('trackFaces, cropFaces, classifyBatches', () => {
  it('keeps one tracker per source and splits batched predictions back per frame', async () => {
    const jobs = [
      { frame: frame('a', 0, 0), receivedAt: 0, dropped: 0, detections: [det(5), det(40)] },
      { frame: frame('b', 0, 0), receivedAt: 0, dropped: 0, detections: [det(30)] },
      { frame: frame('a', 1, 0.04), receivedAt: 0, dropped: 0, detections: [det(41), det(6)] },
      { frame: frame('b', 1, 0.04), receivedAt: 0, dropped: 0, detections: [] },
    ];
    const seen: number[] = [];
    const classifier = {
      cropInputs: [{ mode: 'box' as CropMode, size: 8 }],
      async classify(crops: Partial<Record<CropMode, CropBatch>>): Promise<CropPrediction[]> {
        const b = crops.box as CropBatch;
        seen.push(b.count);
        assert.equal(b.data.length, b.count * 8 * 8 * 3);
        // Label each face by its crop's mean brightness so the split can be checked.
        return Array.from({ length: b.count }, (_, i) => ({
          probs: [1, 0],
          labelIndex: 0,
          label: `face${i}`,
          consensus: 1,
          memberProbs: [[1, 0]],
        }));
      },
    };
    const out = await firstValueFrom(
      from(jobs).pipe(
        trackFaces(),
        cropFaces(classifier.cropInputs),
        batchFrames({ maxFaces: 3, maxWaitMs: 0 }),
        classifyBatches(classifier, () => 99),
        toArray(),
      ),
    );
    assert.deepEqual(
      out.map((f) => [f.frame.sourceId, f.frame.index, f.faces.map((x) => x.id)]),
      [
        ['a', 0, [1, 2]],
        ['b', 0, [1]],
        ['a', 1, [2, 1]],
        ['b', 1, []],
      ],
    );
    assert.ok(out.every((f) => f.analysedAt === 99 && !('crops' in f)));
    assert.equal(
      seen.reduce((s, n) => s + n, 0),
      5,
    );
  });

  it('a faceless frame that joins a waiting batch is passed through (it has no crops)', async () => {
    // Under load a frame whose faces were lost (two faces crossing) lands in a batch that is
    // still waiting; its missing crops once ended the whole chain.
    const jobs = [
      { frame: frame('a', 0, 0), receivedAt: 0, dropped: 0, detections: [det(5)] },
      { frame: frame('a', 1, 0.04), receivedAt: 0, dropped: 0, detections: [] },
      { frame: frame('a', 2, 0.08), receivedAt: 0, dropped: 0, detections: [det(6)] },
    ];
    const counts: number[] = [];
    const classifier = {
      cropInputs: [{ mode: 'box' as CropMode, size: 8 }],
      async classify(crops: Partial<Record<CropMode, CropBatch>>): Promise<CropPrediction[]> {
        const b = crops.box as CropBatch;
        counts.push(b.count);
        return Array.from({ length: b.count }, () => ({
          probs: [0, 1],
          labelIndex: 1,
          label: 'x',
          consensus: 1,
          memberProbs: [[0, 1]],
        }));
      },
    };
    const out = await firstValueFrom(
      from(jobs).pipe(
        trackFaces(),
        cropFaces(classifier.cropInputs),
        batchFrames({ maxFaces: 10, maxWaitMs: 1000 }),
        classifyBatches(classifier),
        toArray(),
      ),
    );
    assert.deepEqual(counts, [2], 'one batch of both faces');
    assert.deepEqual(
      out.map((f) => [f.frame.index, f.faces.length]),
      [
        [0, 1],
        [1, 0],
        [2, 1],
      ],
    );
  });
});

describe('TrackSmoother (causal)', () => {
  it('EMA: the old estimate halves every half-life, whatever the frame spacing', () => {
    const s = new TrackSmoother({ method: 'ema', halfLifeMs: 100 });
    assert.deepEqual(s.update('t', 0, [1, 0]), [1, 0]);
    const after = s.update('t', 100, [0, 1]);
    assert.ok(Math.abs((after[0] as number) - 0.5) < 1e-12);
    // Two steps of 50 ms equal one of 100 ms.
    const s2 = new TrackSmoother({ method: 'ema', halfLifeMs: 100 });
    s2.update('t', 0, [1, 0]);
    s2.update('t', 50, [0, 1]);
    const two = s2.update('t', 100, [0, 1]);
    assert.ok(Math.abs((two[0] as number) - 0.5) < 1e-12);
  });

  it('window: the mean over the last windowMs; tracks are independent and forgotten', () => {
    const s = new TrackSmoother({ method: 'window', windowMs: 100 }, 1000);
    s.update('a', 0, [1, 0]);
    s.update('a', 40, [0, 1]);
    assert.deepEqual(s.update('a', 80, [0, 1]), [1 / 3, 2 / 3]);
    assert.deepEqual(s.update('a', 120, [0, 1]), [0, 1]);
    assert.deepEqual(s.update('b', 120, [1, 0]), [1, 0]);
    s.prune(5000);
    assert.equal(s.size, 0);
    assert.throws(() => new TrackSmoother({ method: 'ema', halfLifeMs: 0 }), /halfLifeMs/);
  });
});

describe('smoothCentred (offline)', () => {
  it('box window over frame indices, cut and renormalised at the ends and at gaps', () => {
    const pts = [0, 1, 2, 5].map((t, i) => ({ t, probs: i === 1 ? [0, 1] : [1, 0] }));
    const out = smoothCentred(pts, { method: 'box', radius: 1 });
    assert.deepEqual(out[0], [0.5, 0.5]);
    assert.deepEqual(out[1], [2 / 3, 1 / 3]);
    assert.deepEqual(out[3], [1, 0], 'frame 5 has no neighbours within 1 frame');
  });

  it('gaussian weights fall off with distance; none is the identity', () => {
    const pts = [0, 1, 2, 3, 4].map((t) => ({ t, probs: t === 2 ? [0, 1] : [1, 0] }));
    const g = smoothCentred(pts, { method: 'gaussian', sigma: 1 });
    assert.ok((g[2]![1] as number) < 1 && (g[2]![1] as number) > (g[1]![1] as number));
    assert.ok((g[1]![1] as number) > (g[0]![1] as number));
    assert.deepEqual(
      smoothCentred(pts, { method: 'none' }),
      pts.map((p) => p.probs),
    );
    assert.throws(() => smoothCentred(pts, { method: 'box', radius: 1.5 }), /whole number/);
  });
});

describe('channel and stats', () => {
  it('a push channel keeps the latest item and counts drops', async () => {
    const ch = channel<number>(1);
    ch.push(1);
    ch.push(2);
    ch.push(3);
    ch.end();
    const got: number[] = [];
    for await (const v of ch) got.push(v);
    assert.deepEqual(got, [3]);
    assert.equal(ch.dropped(), 2);
  });

  it('latency quantiles and fps', () => {
    assert.equal(quantile([1, 2, 3, 4], 0.5), 2);
    assert.equal(quantile([1, 2, 3, 4], 0.95), 4);
    const c = new SourceCounter('s');
    for (let i = 0; i <= 30; i++) c.analysed(1000 + i * 40, i, 1);
    const snap = c.snapshot(1000 + 30 * 40);
    assert.ok(Math.abs(snap.fps - 25) < 1e-9);
    assert.equal(snap.latencyMs.p50, 15);
    assert.equal(snap.faces, 31);
  });
});
