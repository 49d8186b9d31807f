import { inMemoryData, Rng, type TrainingData } from '../../src/index.ts';

/**
 * A small separable image set: class k is a bright square in quadrant k (k < 4) with pixel noise.
 * Real images are not needed to test the training mechanics; the noisy-label benchmark uses MNIST.
 */
export function quadrantData(n: number, size = 16, seed = 1): TrainingData {
  const rng = new Rng(seed);
  const half = size / 2;
  const pixels = new Float32Array(n * size * size * 3);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const y = i % 4;
    labels[i] = y;
    const qy = (y >> 1) * half;
    const qx = (y & 1) * half;
    for (let r = 0; r < size; r++) {
      for (let c = 0; c < size; c++) {
        const inside = r >= qy && r < qy + half && c >= qx && c < qx + half;
        for (let ch = 0; ch < 3; ch++) {
          const v = (inside ? 0.8 : 0.2) + 0.1 * rng.normal();
          pixels[((i * size + r) * size + c) * 3 + ch] = Math.min(1, Math.max(0, v));
        }
      }
    }
  }
  return inMemoryData(pixels, labels, [size, size, 3]);
}
