import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ensemblePredict, tf } from '../src/index.ts';
import { assertClose, useTestBackend } from './helpers/backend.ts';

describe('ensemblePredict', () => {
  before(() => useTestBackend());

  it('mean of member softmaxes', () => {
    const out = ensemblePredict([tf.tensor2d([[0, 0]]), tf.tensor2d([[Math.log(3), 0]])]);
    const mean = out.meanProbs.arraySync()[0]!;
    assertClose(mean[0]!, (0.5 + 0.75) / 2, 1e-6);
    assertClose(mean[1]!, (0.5 + 0.25) / 2, 1e-6);
    assert.equal(out.memberProbs.length, 2);
  });

  it('consensus 1 for identical members, ~0 for confident disjoint members, in [0,1]', () => {
    const out = ensemblePredict([
      tf.tensor2d([
        [1, 2, 3],
        [30, 0, 0],
      ]),
      tf.tensor2d([
        [1, 2, 3],
        [0, 30, 0],
      ]),
    ]);
    const c = out.consensus.dataSync();
    assertClose(c[0]!, 1, 1e-6);
    assert.ok(c[1]! >= 0 && c[1]! < 1e-3, `consensus ${c[1]}`);
  });

  it('consensus = 1 − mean pairwise JSD (base 2), checked by hand for three members', () => {
    const p = [
      [0.5, 0.5],
      [1, 0],
      [0.5, 0.5],
    ];
    const h = (q: number[]) => -q.reduce((a, v) => a + (v > 0 ? v * Math.log2(v) : 0), 0);
    const jsd = (a: number[], b: number[]) =>
      h(a.map((v, i) => (v + b[i]!) / 2)) - (h(a) + h(b)) / 2;
    const expected = 1 - (jsd(p[0]!, p[1]!) + jsd(p[0]!, p[2]!) + jsd(p[1]!, p[2]!)) / 3;
    const logits = p.map((q) => tf.tensor2d([q.map((v) => Math.log(Math.max(v, 1e-30)))]));
    assertClose(ensemblePredict(logits).consensus.dataSync()[0]!, expected, 1e-5);
  });

  it('a single member has consensus 1', () => {
    assert.equal(ensemblePredict([tf.tensor2d([[1, 2]])]).consensus.dataSync()[0], 1);
  });
});
