import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  affine,
  augmentBatch,
  balancedOrder,
  colorJitter,
  DEFAULT_AUGMENT,
  erase,
  flipSome,
  Rng,
  shuffledOrder,
  tf,
} from '../src/index.ts';
import { useTestBackend } from './helpers/backend.ts';

const ramp = () =>
  tf.tensor4d(
    Float32Array.from({ length: 2 * 4 * 4 * 3 }, (_, i) => (i % 48) / 48),
    [2, 4, 4, 3],
  );

describe('augmentation', () => {
  before(() => useTestBackend());

  it('flipSome mirrors only flagged samples', () => {
    const x = ramp();
    const y = flipSome(x, [true, false]);
    const xs = x.arraySync();
    const ys = y.arraySync();
    assert.deepEqual(ys[0]![1]![0], xs[0]![1]![3]);
    assert.deepEqual(ys[1], xs[1]);
  });

  it('colorJitter with factors 1 is the identity; brightness scales and clips', () => {
    const x = ramp();
    const same = colorJitter(x, [1, 1], [1, 1], [1, 1]);
    assert.ok(tf.max(tf.abs(tf.sub(same, x))).dataSync()[0]! < 1e-6);
    const bright = colorJitter(x, [2, 1], [1, 1], [1, 1]);
    const v = bright.arraySync()[0]![0]![1]!;
    const src = x.arraySync()[0]![0]![1]!;
    v.forEach((c, i) => assert.ok(Math.abs(c - Math.min(1, 2 * src[i]!)) < 1e-6));
  });

  it('affine with scale 1 and no shift is the identity; a 1-px shift moves content by one pixel', () => {
    const x = ramp();
    const id = affine(x, [1, 1], [0, 0], [0, 0]);
    assert.ok(tf.max(tf.abs(tf.sub(id, x))).dataSync()[0]! < 1e-6);
    const shifted = affine(x, [1, 1], [1, 0], [0, 0]).arraySync();
    const xs = x.arraySync();
    assert.deepEqual(shifted[0]![2]![2], xs[0]![2]![1]);
    assert.deepEqual(shifted[0]![2]![0], [0, 0, 0], 'zero fill');
  });

  it('erase zeroes exactly the box', () => {
    const x = tf.ones([1, 4, 4, 1]) as tf.Tensor4D;
    const y = erase(x, [{ top: 1, left: 2, h: 2, w: 1 }]).dataSync();
    assert.equal(Array.from(y).filter((v) => v === 0).length, 2);
    assert.equal(y[1 * 4 + 2], 0);
    assert.equal(y[2 * 4 + 2], 0);
  });

  it('augmentBatch is deterministic under a seed and keeps shape and range', () => {
    const x = ramp();
    const cfg = { ...DEFAULT_AUGMENT, eraseP: 1 };
    const a = augmentBatch(x, new Rng(5), cfg);
    const b = augmentBatch(x, new Rng(5), cfg);
    assert.deepEqual(a.images.shape, x.shape);
    assert.deepEqual(Array.from(a.images.dataSync()), Array.from(b.images.dataSync()));
    const mn = tf.min(a.images).dataSync()[0]!;
    const mx = tf.max(a.images).dataSync()[0]!;
    assert.ok(mn >= 0 && mx <= 1);
    assert.ok(
      Array.from(a.erase(tf.onesLike(x) as tf.Tensor4D).dataSync()).some((v) => v === 0),
      'erasing applied',
    );
  });
});

describe('samplers', () => {
  it('shuffledOrder is a seeded permutation', () => {
    const a = shuffledOrder(50, new Rng(1));
    assert.deepEqual(
      [...a].sort((p, q) => p - q),
      Array.from({ length: 50 }, (_, i) => i),
    );
    assert.deepEqual(a, shuffledOrder(50, new Rng(1)));
  });

  it('balancedOrder draws each class about equally often from imbalanced labels', () => {
    const labels = Int32Array.from({ length: 1000 }, (_, i) => (i < 900 ? 0 : i < 990 ? 1 : 2));
    const counts = [0, 0, 0];
    for (let rep = 0; rep < 10; rep++)
      for (const i of balancedOrder(labels, new Rng(rep))) counts[labels[i]!]! += 1;
    for (const c of counts)
      assert.ok(Math.abs(c / 10000 - 1 / 3) < 0.03, `class share ${c / 10000}`);
  });
});
