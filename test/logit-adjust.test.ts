import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createModel, tf } from '../src/index.ts';
import { classPrior, logitShift, shiftHeadBias } from '../src/train/logit-adjust.ts';
import { useTestBackend } from './helpers/backend.ts';

const close = (a: readonly number[], b: readonly number[], tol = 1e-6) =>
  a.length === b.length && a.every((v, i) => Math.abs(v - (b[i] as number)) < tol);

describe('logit adjustment', () => {
  before(() => useTestBackend());

  it('takes the class prior from hard labels, or from soft targets where the data has them', () => {
    assert.ok(close(classPrior({ labels: Int32Array.from([0, 0, 1, 2]) }, 3), [0.5, 0.25, 0.25]));
    const targets = Float32Array.from([0.5, 0.5, 0, 0, 0.2, 0.8]);
    assert.ok(
      close(classPrior({ labels: Int32Array.from([0, 2]), targets }, 3), [0.25, 0.35, 0.4]),
    );
    assert.throws(() => classPrior({ labels: new Int32Array(0) }, 3), /no training labels/);
  });

  it('shifts class c by −τ·log prior_c, and refuses a class never seen', () => {
    assert.ok(close(logitShift([0.5, 0.25, 0.25], 1), [Math.log(2), Math.log(4), Math.log(4)]));
    assert.ok(close(logitShift([0.5, 0.5], 0), [0, 0]));
    assert.throws(() => logitShift([1, 0], 0.5), /class 1 has no training labels/);
  });

  it("moves the head's bias: every logit moves by its class's shift, the rest of the net unchanged", () => {
    const net = createModel('tiny-cnn', { seed: 5, numClasses: 4 });
    const x = tf.randomUniform([3, 16, 16, 3], 0, 1, 'float32', 7) as tf.Tensor4D;
    const before = net.apply(x, false).arraySync();
    const shift = [0.5, -1, 0, 2];
    shiftHeadBias(net, shift);
    const after = net.apply(x, false).arraySync();
    before.forEach((row, i) =>
      assert.ok(
        close(
          row.map((v, c) => v + (shift[c] as number)),
          after[i]!,
          1e-5,
        ),
        `row ${i}`,
      ),
    );
    assert.throws(() => shiftHeadBias(net, [1, 2]), /expected one head bias of 2 classes/);
    net.dispose();
    x.dispose();
  });
});
