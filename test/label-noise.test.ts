import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { FASHION_PAIRS, injectNoise, transitionMatrix } from '../src/data/label-noise.ts';

const clean = Int32Array.from({ length: 10000 }, (_, i) => i % 10);

describe('label-noise injection', () => {
  it('symmetric: exactly round(rate·n) labels change, each to a different class', () => {
    const r = injectNoise(clean, { type: 'symmetric', rate: 0.4, numClasses: 10, seed: 1 });
    const changed = r.labels.reduce((a, y, i) => a + (y !== clean[i] ? 1 : 0), 0);
    assert.equal(changed, 4000);
    assert.equal(
      r.flipped.reduce((a, b) => a + b, 0),
      4000,
    );
    assert.equal(r.actualRate, 0.4);
  });

  it('symmetric: the empirical transition matrix matches T within sampling error', () => {
    const r = injectNoise(clean, { type: 'symmetric', rate: 0.4, numClasses: 10, seed: 2 });
    const counts = Array.from({ length: 10 }, () => new Array(10).fill(0) as number[]);
    clean.forEach((y, i) => counts[y]![r.labels[i]!]!++);
    for (let i = 0; i < 10; i++) {
      for (let j = 0; j < 10; j++) {
        const expected = r.transition[i]![j]!;
        const got = counts[i]![j]! / 1000;
        assert.ok(Math.abs(got - expected) < 0.035, `T[${i}][${j}] = ${got}, expected ${expected}`);
      }
    }
    assert.ok(
      Math.abs(r.transition[0]![0]! - 0.6) < 1e-12 &&
        Math.abs(r.transition[0]![1]! - 0.4 / 9) < 1e-12,
    );
  });

  it('asymmetric: only source classes change, each exactly rate·count, always to its target', () => {
    const r = injectNoise(clean, {
      type: 'asymmetric',
      rate: 0.4,
      numClasses: 10,
      pairs: FASHION_PAIRS,
      seed: 3,
    });
    const sources = new Map(FASHION_PAIRS.map(([s, d]) => [s, d]));
    const perClass = new Array(10).fill(0) as number[];
    clean.forEach((y, i) => {
      if (r.labels[i] !== y) {
        assert.equal(r.labels[i], sources.get(y), `sample ${i}`);
        perClass[y]!++;
      }
    });
    for (let c = 0; c < 10; c++) assert.equal(perClass[c], sources.has(c) ? 400 : 0, `class ${c}`);
    const t = transitionMatrix({
      type: 'asymmetric',
      rate: 0.4,
      numClasses: 10,
      pairs: FASHION_PAIRS,
      seed: 0,
    });
    assert.equal(t[6]![0], 0.4);
    assert.equal(t[6]![6], 0.6);
    assert.equal(t[1]![1], 1);
  });

  it('is seeded: same seed same labels, different seed different labels', () => {
    const spec = { type: 'symmetric' as const, rate: 0.2, numClasses: 10 };
    const a = injectNoise(clean, { ...spec, seed: 5 }).labels;
    const b = injectNoise(clean, { ...spec, seed: 5 }).labels;
    const c = injectNoise(clean, { ...spec, seed: 6 }).labels;
    assert.deepEqual(a, b);
    assert.notDeepEqual(a, c);
  });

  it('never modifies its input (test labels passed elsewhere stay clean)', () => {
    const copy = Int32Array.from(clean);
    injectNoise(clean, { type: 'symmetric', rate: 0.6, numClasses: 10, seed: 1 });
    assert.deepEqual(clean, copy);
  });

  it('rejects bad specs with a clear message', () => {
    assert.throws(
      () => injectNoise(clean, { type: 'symmetric', rate: 1, numClasses: 10, seed: 1 }),
      /noise rate must be in \[0, 1\)/,
    );
    assert.throws(
      () => injectNoise(clean, { type: 'asymmetric', rate: 0.2, numClasses: 10, seed: 1 }),
      /needs class pairs/,
    );
    assert.throws(
      () =>
        injectNoise(clean, {
          type: 'asymmetric',
          rate: 0.2,
          numClasses: 10,
          pairs: [[1, 1]],
          seed: 1,
        }),
      /bad pair 1→1/,
    );
    assert.throws(
      () =>
        injectNoise(Int32Array.from([12]), {
          type: 'symmetric',
          rate: 0.2,
          numClasses: 10,
          seed: 1,
        }),
      /label 12 at 0 is outside \[0, 10\)/,
    );
  });
});
