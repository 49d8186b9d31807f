import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { initBackend, tf } from '../src/index.ts';

type Shape4 = [number, number, number, number];
type Pad = 'same' | 'valid' | number;

/** d/dx and d/dw of Σ conv(x, w)² · m (m a fixed weighting so every output position matters differently). */
function convGrads(
  xs: Shape4,
  ws: Shape4,
  stride: number,
  pad: Pad,
): { dx: Float32Array; dw: Float32Array } {
  return tf.tidy(() => {
    const n = (s: number[]) => s.reduce((a, b) => a * b, 1);
    const x = tf.tensor4d(
      Float32Array.from({ length: n(xs) }, (_, i) => Math.sin(i * 1.37)),
      xs,
    );
    const w = tf.tensor4d(
      Float32Array.from({ length: n(ws) }, (_, i) => Math.cos(i * 0.71)),
      ws,
    );
    const f = (a: tf.Tensor, b: tf.Tensor) => {
      const y = tf.conv2d(
        a as tf.Tensor4D,
        b as tf.Tensor4D,
        stride,
        pad,
        'NHWC',
        1,
        typeof pad === 'number' ? 'floor' : undefined,
      );
      const m = tf.sin(tf.reshape(tf.range(0, y.size), y.shape));
      return tf.sum(tf.mul(tf.square(y), m));
    };
    const [dx, dw] = tf.grads(f)([x, w]);
    return { dx: dx!.dataSync() as Float32Array, dw: dw!.dataSync() as Float32Array };
  }) as unknown as { dx: Float32Array; dw: Float32Array };
}

function maxRelErr(a: Float32Array, b: Float32Array): number {
  assert.equal(a.length, b.length);
  let scale = 0;
  let err = 0;
  for (let i = 0; i < a.length; i++) {
    scale = Math.max(scale, Math.abs(a[i]!));
    err = Math.max(err, Math.abs(a[i]! - b[i]!));
  }
  return err / scale;
}

describe('wasm Conv2D gradient kernels match the cpu backend', () => {
  const cases: [string, Shape4, Shape4, number, Pad][] = [
    ['3×3 stride 1 same', [2, 8, 8, 3], [3, 3, 3, 5], 1, 'same'],
    ['3×3 stride 2 same, odd size', [2, 7, 9, 3], [3, 3, 3, 4], 2, 'same'],
    ['7×7 stride 2 pad 3 (ResNet stem)', [1, 11, 10, 2], [7, 7, 2, 3], 2, 3],
    ['1×1 stride 2 valid (downsample)', [2, 9, 9, 4], [1, 1, 4, 6], 2, 'valid'],
    ['3×3 stride 2 valid, odd size', [1, 9, 8, 2], [3, 3, 2, 2], 2, 'valid'],
    ['3×3 stride 2 pad 1, even size', [2, 8, 8, 3], [3, 3, 3, 4], 2, 1],
    ['3×3 stride 3 same', [1, 10, 10, 2], [3, 3, 2, 2], 3, 'same'],
    ['5×5 stride 1 pad 2, batch 1', [1, 6, 5, 1], [5, 5, 1, 2], 1, 2],
  ];
  for (const [name, xs, ws, stride, pad] of cases) {
    it(name, async () => {
      await initBackend({ backend: 'cpu' });
      const ref = convGrads(xs, ws, stride, pad);
      await initBackend({ backend: 'wasm' });
      const got = convGrads(xs, ws, stride, pad);
      const ex = maxRelErr(ref.dx, got.dx);
      const ew = maxRelErr(ref.dw, got.dw);
      assert.ok(ex < 1e-5, `input gradient relative error ${ex}`);
      assert.ok(ew < 1e-5, `filter gradient relative error ${ew}`);
    });
  }

  it('the kernels are registered on wasm and leak no tensors', async () => {
    await initBackend({ backend: 'wasm' });
    assert.ok(tf.getKernel('Conv2DBackpropFilter', 'wasm'));
    const before = tf.memory().numTensors;
    const bytesBefore = tf.memory().numBytes;
    convGrads([2, 8, 8, 3], [3, 3, 3, 4], 2, 'same');
    assert.equal(tf.memory().numTensors, before);
    assert.equal(tf.memory().numBytes, bytesBefore);
  });
});
