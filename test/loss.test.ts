import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { cctLoss, tf } from '../src/index.ts';
import { assertClose, useTestBackend } from './helpers/backend.ts';

// Reference values computed by hand (plain float64 arithmetic, see the test's comments).
const Z1 = [
  [1, 2, 0.5],
  [0.1, -1, 2],
];
const Z2 = [
  [0.5, 0.5, 1],
  [2, 0, -1],
];
const Z3 = [
  [0, 0, 0],
  [1, 1, 3],
];
const Y = [1, 2];
// Σ_j CE_j and Σ_{j≠k} KL(p_k||p_j), each a batch mean, for members {Z1,Z2} and {Z1,Z2,Z3}.
const TWO = { sup: 2.555188029335494, cons: 2.2401718997616 };
const THREE = { sup: 3.224266556780491, cons: 4.353835165091294 };

function softmax(row: number[]): number[] {
  const m = Math.max(...row);
  const e = row.map((v) => Math.exp(v - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
}

describe('cctLoss', () => {
  before(() => useTestBackend());

  const run = (zs: number[][][], lambda: number, opts: Parameters<typeof cctLoss>[3] = {}) =>
    tf.tidy(() => {
      const r = cctLoss(
        zs.map((z) => tf.tensor2d(z)),
        tf.tensor1d(Y, 'int32'),
        lambda,
        opts,
      );
      return {
        total: r.total.dataSync()[0]!,
        sup: r.sup.dataSync()[0]!,
        cons: r.cons.dataSync()[0]!,
      };
    });

  for (const [name, zs, ref] of [
    ['2 members', [Z1, Z2], TWO],
    ['3 members', [Z1, Z2, Z3], THREE],
  ] as const) {
    describe(name, () => {
      const n = zs.length;
      for (const lambda of [0, 0.3, 0.9]) {
        it(`scale 'paper', λ=${lambda}: total = (1−λ)·sup + λ·cons`, () => {
          const r = run([...zs], lambda, { scale: 'paper' });
          assertClose(r.sup, ref.sup, 1e-5, 'sup');
          assertClose(r.cons, ref.cons, 1e-5, 'cons');
          assertClose(r.total, (1 - lambda) * ref.sup + lambda * ref.cons, 1e-5, 'total');
        });
        it(`scale 'code', λ=${lambda}: total = ((1−λ)·sup + λ·cons)/N, sup and cons unscaled`, () => {
          const r = run([...zs], lambda, { scale: 'code' });
          assertClose(r.sup, ref.sup, 1e-5, 'sup');
          assertClose(r.cons, ref.cons, 1e-5, 'cons');
          assertClose(r.total, ((1 - lambda) * ref.sup + lambda * ref.cons) / n, 1e-5, 'total');
        });
      }
      it('detachTargets does not change the value', () => {
        const a = run([...zs], 0.5, { detachTargets: true });
        const b = run([...zs], 0.5, { detachTargets: false });
        assertClose(a.total, b.total, 1e-6, 'total');
      });
    });
  }

  it('one member: cons is 0 and total is (1−λ)·CE', () => {
    const r = run([Z1], 0.5);
    assert.equal(r.cons, 0);
    assertClose(r.total, 0.5 * r.sup, 1e-6);
  });

  describe('gradient through the target side', () => {
    // With λ = 1 and 2 members, total = KL(p2||p1) + KL(p1||p2). With targets detached only the
    // predictor side remains: ∂/∂z1 = (p1 − p2)/B exactly. Without detaching, the target side adds
    // a non-zero term.
    const grad = (detach: boolean) =>
      tf.tidy(() => {
        const z1 = tf.tensor2d(Z1);
        const z2 = tf.tensor2d(Z2);
        const g = tf.grads(
          (a: tf.Tensor, b: tf.Tensor) =>
            cctLoss([a as tf.Tensor2D, b as tf.Tensor2D], tf.tensor1d(Y, 'int32'), 1, {
              detachTargets: detach,
            }).total,
        )([z1, z2]);
        return g[0]!.arraySync() as number[][];
      });
    const predictorSide = Z1.map((row, b) => {
      const p1 = softmax(row);
      const p2 = softmax(Z2[b]!);
      return p1.map((v, c) => (v - p2[c]!) / Y.length);
    });

    it('is zero when detached (only the predictor side remains)', () => {
      const g = grad(true);
      g.forEach((row, b) =>
        row.forEach((v, c) => assertClose(v, predictorSide[b]![c]!, 1e-5, `g[${b}][${c}]`)),
      );
    });

    it('is non-zero when not detached (the released code)', () => {
      const g = grad(false);
      const targetSide = g.flatMap((row, b) => row.map((v, c) => v - predictorSide[b]![c]!));
      assert.ok(Math.max(...targetSide.map(Math.abs)) > 1e-3, `target-side gradient ${targetSide}`);
    });
  });

  it('rejects mismatched shapes with a clear message', () => {
    assert.throws(
      () =>
        cctLoss(
          [tf.zeros([2, 3]) as tf.Tensor2D, tf.zeros([2, 4]) as tf.Tensor2D],
          tf.tensor1d([0, 1], 'int32'),
          0.5,
        ),
      /member 1 logits have shape \[2,4\], expected \[2,3\]/,
    );
    assert.throws(
      () => cctLoss([tf.zeros([2, 3]) as tf.Tensor2D], tf.tensor1d([0], 'int32'), 0.5),
      /labels have length 1, expected 2/,
    );
    assert.throws(() => cctLoss([], tf.tensor1d([0], 'int32'), 0.5), /at least one member/);
  });
});
