import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { rampLambda } from '../src/index.ts';
import { assertClose } from './helpers/backend.ts';

describe('rampLambda', () => {
  const maxEpochs = 30;
  const er = 0.9 * maxEpochs; // 27
  for (const beta of [0.65, 4]) {
    describe(`β = ${beta}`, () => {
      it('e = 0: λmax·exp(−β)', () =>
        assertClose(rampLambda(0, { maxEpochs, beta }), 0.9 * Math.exp(-beta), 1e-12));
      it('e = e_r/2: λmax·exp(−β/4)', () =>
        assertClose(rampLambda(er / 2, { maxEpochs, beta }), 0.9 * Math.exp(-beta / 4), 1e-12));
      it('e = e_r: λmax', () => assertClose(rampLambda(er, { maxEpochs, beta }), 0.9, 1e-12));
      it('e = max_epochs: not clamped, λmax·exp(−β(1 − 30/27)²)', () =>
        assertClose(
          rampLambda(maxEpochs, { maxEpochs, beta }),
          0.9 * Math.exp(-beta * (1 - 30 / 27) ** 2),
          1e-12,
        ));
    });
  }
  it('honours lambdaMax and rampFraction', () => {
    assertClose(rampLambda(5, { maxEpochs: 10, lambdaMax: 0.5, rampFraction: 0.5 }), 0.5, 1e-12);
  });
  it('β = 4 ramps slower than β = 0.65 at the start', () => {
    assert.ok(rampLambda(0, { maxEpochs, beta: 4 }) < rampLambda(0, { maxEpochs, beta: 0.65 }));
  });
  it('rejects a bad epoch or maxEpochs', () => {
    assert.throws(() => rampLambda(-1, { maxEpochs }), /epoch must be >= 0/);
    assert.throws(() => rampLambda(0, { maxEpochs: 0 }), /maxEpochs must be > 0/);
  });
});
