import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  Subject,
  VirtualTimeScheduler,
  firstValueFrom,
  from,
  lastValueFrom,
  tap,
  toArray,
} from 'rxjs';
import {
  BatchingClassifier,
  classifyFaces,
  cropFaces,
  detectFaces,
  trackFaces,
} from '../src/stream/operators.ts';
import { carryDetections } from '../src/faces/carry-detections.ts';
import { analyseSource } from '../src/stream/analyse-source.ts';
import { TrackSmoother } from '../src/stream/smooth.ts';
import { smoothCentred } from '../src/stream/smooth-offline.ts';
import { channel } from '../src/stream/channel.ts';
import { SourceCounter, quantile } from '../src/stream/stats.ts';
import type { CropBatch, CropPrediction } from '../src/models/crop-types.ts';
import type { CropMode } from '../src/models/crop-modes.ts';
import type { Frame } from '../src/video/decode.ts';

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

function fakeClassifier(opts: { fail?: (count: number) => boolean } = {}) {
  const calls: number[] = [];
  return {
    calls,
    cropInputs: [{ mode: 'box' as CropMode, size: 8 }],
    classes: ['Neutral', 'Happiness'],
    async classify(crops: Partial<Record<CropMode, CropBatch>>): Promise<CropPrediction[]> {
      const b = crops.box as CropBatch;
      calls.push(b.count);
      assert.equal(b.data.length, b.count * 8 * 8 * 3);
      if (opts.fail?.(b.count)) throw new Error('inference failed');
      // Each face is labelled by its crop's first value, so a wrong split would show.
      return Array.from({ length: b.count }, (_, i) => ({
        probs: [0.25, 0.75],
        labelIndex: 1,
        label: `v${b.data[i * 8 * 8 * 3]}`,
        consensus: 1,
        memberProbs: [[0.25, 0.75]],
      }));
    },
  };
}
const boxes = (count: number, value: number): Partial<Record<CropMode, CropBatch>> => ({
  box: { data: new Float32Array(count * 8 * 8 * 3).fill(value), count },
});

describe('BatchingClassifier', () => {
  it('merges concurrent calls into one inference and gives each caller its own faces', async () => {
    const inner = fakeClassifier();
    const c = new BatchingClassifier(inner, { maxFaces: 4, maxWaitMs: 1000 });
    const [a, b] = await Promise.all([c.classify(boxes(2, 1)), c.classify(boxes(2, 2))]);
    assert.deepEqual(inner.calls, [4]);
    assert.deepEqual(
      a.map((p) => p.label),
      ['v1', 'v1'],
    );
    assert.deepEqual(
      b.map((p) => p.label),
      ['v2', 'v2'],
    );
  });

  it('runs a partial batch once its first call has waited maxWaitMs', async () => {
    const scheduler = new VirtualTimeScheduler();
    const inner = fakeClassifier();
    const c = new BatchingClassifier(inner, { maxFaces: 32, maxWaitMs: 5, scheduler });
    const p = c.classify(boxes(1, 3));
    await Promise.resolve();
    assert.deepEqual(inner.calls, [], 'nothing runs before the wait is over');
    scheduler.flush();
    assert.deepEqual(
      (await p).map((x) => x.label),
      ['v3'],
    );
    assert.deepEqual(inner.calls, [1]);
  });

  it('calls that arrive during an inference form the next batch', async () => {
    const inner = fakeClassifier();
    const c = new BatchingClassifier(inner, { maxFaces: 2, maxWaitMs: 0 });
    const first = c.classify(boxes(2, 1));
    const rest = [c.classify(boxes(1, 2)), c.classify(boxes(1, 3))];
    await Promise.all([first, ...rest]);
    assert.deepEqual(inner.calls, [2, 2]);
  });

  it('a failed inference rejects only the calls in that batch', async () => {
    const inner = fakeClassifier({ fail: (n) => n === 3 });
    const c = new BatchingClassifier(inner, { maxFaces: 3, maxWaitMs: 1000 });
    const bad = [c.classify(boxes(1, 1)), c.classify(boxes(2, 1))];
    for (const p of bad) await assert.rejects(p, /inference failed/);
    assert.deepEqual((await c.classify(boxes(4, 5))).length, 4);
  });

  it('answers an empty call without inference and refuses mismatched crops', async () => {
    const inner = fakeClassifier();
    const c = new BatchingClassifier(inner);
    assert.deepEqual(await c.classify(boxes(0, 0)), []);
    assert.deepEqual(inner.calls, []);
    assert.throws(() => c.classify({}), /no 'box' crops/);
  });
});

const job = (sourceId: string, index: number, detections: ReturnType<typeof det>[]) => ({
  frame: frame(sourceId, index, index * 0.04),
  receivedAt: 0,
  dropped: 0,
  detections,
});

describe('trackFaces, cropFaces, classifyFaces', () => {
  it('keeps one tracker per subscription: two sources never share track ids', async () => {
    const classifier = new BatchingClassifier(fakeClassifier(), { maxWaitMs: 0 });
    const run = (id: string, x: number) =>
      firstValueFrom(
        from([job(id, 0, [det(x), det(x + 35)]), job(id, 1, [det(x + 36), det(x + 1)])]).pipe(
          trackFaces(),
          cropFaces(classifier.cropInputs),
          classifyFaces(classifier, () => 99),
          toArray(),
        ),
      );
    const [a, b] = await Promise.all([run('a', 5), run('b', 5)]);
    for (const out of [a, b]) {
      assert.deepEqual(
        out.map((f) => f.faces.map((x) => x.id)),
        [
          [1, 2],
          [2, 1],
        ],
      );
      assert.ok(out.every((f) => f.analysedAt === 99 && !('crops' in f)));
    }
  });

  it('frames that wait during an inference share the next batch; results keep their order', async () => {
    const inner = fakeClassifier();
    const classifier = new BatchingClassifier(inner, { maxFaces: 32, maxWaitMs: 0 });
    const out = await firstValueFrom(
      from([
        job('a', 0, [det(5)]),
        job('a', 1, [det(6)]),
        job('a', 2, []),
        job('a', 3, [det(7)]),
      ]).pipe(trackFaces(), cropFaces(classifier.cropInputs), classifyFaces(classifier), toArray()),
    );
    assert.deepEqual(inner.calls, [1, 2], 'frame 0 alone, then frames 1 and 3 together');
    assert.deepEqual(
      out.map((f) => f.frame.index),
      [0, 1, 2, 3],
    );
  });

  it('a faceless frame passes without inference', async () => {
    const inner = fakeClassifier();
    const classifier = new BatchingClassifier(inner, { maxWaitMs: 0 });
    const out = await firstValueFrom(
      from([job('a', 0, [det(5)]), job('a', 1, []), job('a', 2, [det(6)])]).pipe(
        trackFaces(),
        cropFaces(classifier.cropInputs),
        classifyFaces(classifier),
        toArray(),
      ),
    );
    assert.deepEqual(inner.calls, [1, 1]);
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

describe('detectFaces every k-th frame', () => {
  const jobs = (n: number) =>
    Array.from({ length: n }, (_, i) => ({
      frame: frame('s', i, i * 0.04),
      receivedAt: 0,
      dropped: 0,
    }));
  // A face moving 5 px per frame (40 ms) to the right, with its keypoints.
  const moving = (f: Frame) => [
    { ...det(10 + 5 * f.index), keypoints: [[20 + 5 * f.index, 15]] as [number, number][] },
  ];

  it('detects frames 0, k, 2k… and moves the faces on between them with their measured speed', async () => {
    const detected: number[] = [];
    const out = await lastValueFrom(
      from(jobs(7)).pipe(
        detectFaces({ detect: (f: Frame) => (detected.push(f.index), moving(f)) }, { every: 3 }),
        toArray(),
      ),
    );
    assert.deepEqual(detected, [0, 3, 6]);
    // Frames 1, 2: one detection so far, no speed yet: the box stays. Frames 4, 5: 5 px a frame.
    assert.deepEqual(
      out.map((j) => j.detections[0]!.box.x),
      [10, 10, 10, 25, 30, 35, 40],
    );
    assert.deepEqual(out[5]!.detections[0]!.keypoints, [[45, 15]]);
  });

  it('keeps its frame count per subscription, passes errors on, and stops on unsubscribe', async () => {
    const detected: number[] = [];
    const op = detectFaces(
      {
        detect: (f: Frame) => {
          if (f.index === 4) throw new Error('detector exploded at 4');
          detected.push(f.index);
          return moving(f);
        },
      },
      { every: 2 },
    );
    await lastValueFrom(from(jobs(3)).pipe(op, toArray()));
    await lastValueFrom(from(jobs(3)).pipe(op, toArray()));
    assert.deepEqual(detected, [0, 2, 0, 2], 'each run starts at its own frame 0');
    await assert.rejects(lastValueFrom(from(jobs(6)).pipe(op)), /detector exploded at 4/);
    assert.deepEqual(await lastValueFrom(from(jobs(0)).pipe(op, toArray())), []);
    const input = new Subject<ReturnType<typeof jobs>[number]>();
    const sub = input.pipe(op).subscribe();
    sub.unsubscribe();
    assert.equal(input.observed, false);
  });

  it('refuses a k that is not a whole number ≥ 1', () => {
    assert.throws(() => detectFaces({ detect: () => [] }, { every: 0 }), /whole number ≥ 1, got 0/);
    assert.throws(() => detectFaces({ detect: () => [] }, { every: 1.5 }), /got 1.5/);
  });

  it('carryDetections: each face with its own speed; a new face stays put', () => {
    const a = { ...det(10), box: { x: 10, y: 10, width: 20, height: 20 } };
    const b = { ...det(100), box: { x: 100, y: 50, width: 30, height: 30 } };
    const prev = { t: 0, detections: [a, b] };
    const last = {
      t: 40,
      detections: [
        { ...b, box: { ...b.box, x: 96, y: 52 } },
        { ...a, box: { ...a.box, x: 14 } },
        { ...det(300), box: { x: 300, y: 300, width: 20, height: 20 } },
      ],
    };
    const moved = carryDetections(prev, last, 60).map((d) => [d.box.x, d.box.y]);
    assert.deepEqual(moved, [
      [94, 53],
      [16, 10],
      [300, 300],
    ]);
  });
});

describe('analyseSource', () => {
  const frames = (id: string, n: number) =>
    Array.from({ length: n }, (_, i) => ({
      frame: frame(id, i, i * 0.04),
      receivedAt: 0,
      dropped: 0,
    }));
  const detector = (failAt?: number) => ({
    detect: (f: Frame) => {
      if (f.index === failAt) throw new Error(`detector exploded at ${f.index}`);
      return [det(10)];
    },
  });

  it('an empty source completes with no results and no inference', async () => {
    const inner = fakeClassifier();
    const classifier = new BatchingClassifier(inner, { maxWaitMs: 0 });
    const out = await lastValueFrom(
      from([] as ReturnType<typeof frames>).pipe(
        analyseSource({ detector: detector(), classifier }),
        toArray(),
      ),
    );
    assert.deepEqual(out, []);
    assert.deepEqual(inner.calls, []);
  });

  it('an error ends that source only: another source on the same classifier carries on', async () => {
    const classifier = new BatchingClassifier(fakeClassifier(), { maxWaitMs: 0 });
    const seen: number[] = [];
    const broken = lastValueFrom(
      from(frames('bad', 5)).pipe(
        analyseSource({ detector: detector(2), classifier }),
        tap((r) => seen.push(r.frame.index)),
      ),
    );
    const healthy = lastValueFrom(
      from(frames('good', 5)).pipe(analyseSource({ detector: detector(), classifier }), toArray()),
    );
    await assert.rejects(broken, /detector exploded at 2/);
    // Frames before the failing one may still be in analysis when it fails: a prefix comes out.
    assert.deepEqual(seen, [0, 1].slice(0, seen.length));
    const good = await healthy;
    assert.equal(good.length, 5);
    assert.ok(good.every((r) => r.faces.length === 1 && r.faces[0]?.smoothedLabel === 'Happiness'));
  });

  it('unsubscribing stops the source: no frames are detected after it', async () => {
    const classifier = new BatchingClassifier(fakeClassifier(), { maxWaitMs: 0 });
    const detected: number[] = [];
    const input = new Subject<ReturnType<typeof frames>[number]>();
    const all = frames('s', 4);
    const sub = input
      .pipe(
        analyseSource({
          detector: { detect: (f: Frame) => (detected.push(f.index), [det(10)]) },
          classifier,
        }),
      )
      .subscribe();
    input.next(all[0]!);
    input.next(all[1]!);
    sub.unsubscribe();
    input.next(all[2]!);
    input.next(all[3]!);
    assert.deepEqual(detected, [0], 'frame 1 waits behind frame 0 and is dropped on unsubscribe');
    assert.equal(input.observed, false);
  });

  it('smoothing state is per subscription: a second run starts from its own first frame', async () => {
    let k = 0;
    const alternating = {
      ...fakeClassifier(),
      async classify(crops: Partial<Record<CropMode, CropBatch>>) {
        const n = (crops.box as CropBatch).count;
        return Array.from({ length: n }, () => {
          const probs = k++ % 2 === 0 ? [1, 0] : [0, 1];
          return {
            probs,
            labelIndex: probs.indexOf(1),
            label: '',
            consensus: 1,
            memberProbs: [probs],
          };
        });
      },
    };
    const classifier = new BatchingClassifier(alternating, { maxWaitMs: 0 });
    const op = analyseSource({
      detector: detector(),
      classifier,
      smoothing: { method: 'ema', halfLifeMs: 1000 },
    });
    for (let run = 0; run < 2; run++) {
      const out = await lastValueFrom(from(frames('x', 3)).pipe(op, toArray()));
      const [first, second] = out.map((r) => r.faces[0]!);
      assert.deepEqual(first!.smoothed, first!.probs, `run ${run}: a fresh smoother`);
      assert.notDeepEqual(second!.smoothed, second!.probs, `run ${run}: smoothing is on`);
    }
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
