import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { FaceTracker, leftToRight } from '../src/faces/tracker.ts';
import type { FaceDetection } from '../src/faces/detector.ts';

const face = (x: number, y: number, w = 60): FaceDetection => ({
  box: { x, y, width: w, height: w },
  score: 0.9,
  keypoints: [],
});

describe('FaceTracker', () => {
  it('keeps ids while two faces cross each other', () => {
    const tracker = new FaceTracker();
    const seen: Record<number, number[]> = {};
    for (let i = 0; i <= 40; i++) {
      const t = i * 40;
      // A moves right, B moves left; they overlap around i = 20 (with a small vertical offset).
      const frame = [face(20 + 10 * i, 100), face(420 - 10 * i, 115)];
      const tracked = tracker.update(i % 2 ? [...frame].reverse() : frame, t);
      for (const f of tracked) (seen[f.id] ??= []).push(f.box.x);
    }
    assert.deepEqual(Object.keys(seen).sort(), ['1', '2']);
    const a = seen[1]!;
    const b = seen[2]!;
    assert.ok(
      a.every((x, i) => i === 0 || x > a[i - 1]!),
      'track 1 always moves right',
    );
    assert.ok(
      b.every((x, i) => i === 0 || x < b[i - 1]!),
      'track 2 always moves left',
    );
  });

  it('a face that leaves and re-enters within the memory keeps its id; after it, gets a new one', () => {
    const tracker = new FaceTracker({ memoryMs: 500 });
    assert.equal(tracker.update([face(100, 100)], 0)[0]!.id, 1);
    assert.equal(tracker.update([face(102, 100)], 40)[0]!.id, 1);
    tracker.update([], 80);
    assert.equal(tracker.update([face(104, 101)], 400)[0]!.id, 1, 'back after 360 ms');
    tracker.update([], 440);
    assert.equal(tracker.update([face(104, 101)], 1200)[0]!.id, 2, 'back after 800 ms: a new id');
  });

  it('a new face far away gets a new id; timestamps must increase', () => {
    const tracker = new FaceTracker();
    tracker.update([face(10, 10)], 0);
    const [a, b] = tracker.update([face(12, 10), face(300, 200)], 40);
    assert.deepEqual([a!.id, b!.id], [1, 2]);
    assert.throws(() => tracker.update([], 40), /timestamps must increase/);
  });

  it('orders faces left to right by box centre', () => {
    const ordered = leftToRight([face(300, 0), face(10, 0, 100), face(100, 0, 10)]);
    assert.deepEqual(
      ordered.map((f) => f.box.x),
      [10, 100, 300],
    );
  });
});
