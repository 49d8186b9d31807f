import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  abaw2021Score,
  accuracy,
  classificationReport,
  confusionMatrix,
  macroF1,
  perClassF1,
} from '../src/index.ts';
import { assertClose } from './helpers/backend.ts';

describe('metrics', () => {
  // 4 classes; class 3 never occurs in truth or predictions.
  const truth = [0, 0, 0, 1, 1, 2, 2, 2];
  const pred = [0, 0, 1, 1, 2, 2, 2, 0];
  // By hand: class 0 tp2 fp1 fn1 → F1 = 4/6; class 1 tp1 fp1 fn1 → 2/4; class 2 tp2 fp1 fn1 → 4/6; class 3 → 0.
  const f1 = [4 / 6, 0.5, 4 / 6, 0];

  it('confusion matrix counts truth × prediction', () => {
    assert.deepEqual(confusionMatrix(truth, pred, 4), [
      [2, 1, 0, 0],
      [0, 1, 1, 0],
      [1, 0, 2, 0],
      [0, 0, 0, 0],
    ]);
  });
  it('accuracy', () => assert.equal(accuracy(truth, pred), 5 / 8));
  it('per-class F1, 0 for a class with neither true nor predicted samples', () => {
    perClassF1(confusionMatrix(truth, pred, 4)).forEach((v, c) =>
      assertClose(v, f1[c]!, 1e-12, `F1[${c}]`),
    );
  });
  it('macro F1 over every class by default (sklearn labels=all, zero_division=0)', () =>
    assertClose(macroF1(truth, pred, 4), (4 / 6 + 0.5 + 4 / 6 + 0) / 4, 1e-12));
  it("macro F1 over present classes only with average: 'present'", () =>
    assertClose(macroF1(truth, pred, 4, { average: 'present' }), (4 / 6 + 0.5 + 4 / 6) / 3, 1e-12));
  it('a class predicted but never true counts as present and scores 0', () => {
    assertClose(macroF1([0, 0], [0, 1], 3, { average: 'present' }), (2 / 3 + 0) / 2, 1e-12);
  });
  it('ABAW 2021 score = 0.67·F1 + 0.33·Acc', () => {
    const r = classificationReport(truth, pred, 4);
    assertClose(r.abaw2021, 0.67 * ((4 / 6 + 0.5 + 4 / 6) / 4) + 0.33 * (5 / 8), 1e-12);
    assertClose(abaw2021Score(0.5, 0.8), 0.599, 1e-12);
    assert.equal(r.count, 8);
  });
  it('computed over the whole set, not averaged per batch', () => {
    const whole = macroF1(truth, pred, 4);
    const perBatch =
      (macroF1(truth.slice(0, 4), pred.slice(0, 4), 4) +
        macroF1(truth.slice(4), pred.slice(4), 4)) /
      2;
    assert.notEqual(whole, perBatch);
  });
  it('rejects bad input with the index and expected range', () => {
    assert.throws(() => accuracy([0, 1], [0]), /truth has 2 labels but predictions have 1/);
    assert.throws(
      () => confusionMatrix([0, 7], [0, 1], 7),
      /truth\[1\] = 7 is not a class id in \[0, 7\)/,
    );
    assert.throws(() => macroF1([0], [-1], 3), /predictions\[0\] = -1/);
  });
});
