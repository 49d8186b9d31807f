import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { CctTrainer, tf, type TrainerConfigInput } from '../src/index.ts';
import { useTestBackend } from './helpers/backend.ts';
import { quadrantData } from './helpers/synthetic.ts';

const base: TrainerConfigInput = {
  arch: 'tiny-cnn',
  inputSize: 16,
  numClasses: 4,
  batchSize: 32,
  maxEpochs: 8,
  lrBackbone: 1e-2,
  lrHead: 1e-2,
};

function run(config: TrainerConfigInput, epochs: number, n = 128): number[] {
  const data = quadrantData(n);
  const t = CctTrainer.create(config);
  const losses: number[] = [];
  for (let e = 0; e < epochs; e++) losses.push(...t.trainEpoch(data).steps.map((s) => s.total));
  t.dispose();
  return losses;
}

describe('CctTrainer', () => {
  before(() => useTestBackend());

  it('3 tiny CNNs reach ≥ 95% training accuracy on a separable set within 8 epochs', () => {
    const data = quadrantData(256);
    const t = CctTrainer.create({ ...base, members: 3, augment: null });
    let acc = 0;
    let epochs = 0;
    while (epochs < 8 && acc < 0.95) {
      t.trainEpoch(data);
      epochs++;
      acc = t.evaluate(data).ensemble.accuracy;
    }
    t.dispose();
    assert.ok(acc >= 0.95, `ensemble training accuracy ${acc} after ${epochs} epochs`);
  });

  it('trains with augmentation on, λ follows the ramp and the lrs decay per epoch', () => {
    const data = quadrantData(64);
    const t = CctTrainer.create({ ...base, members: 2, maxEpochs: 10 });
    const a = t.trainEpoch(data);
    const b = t.trainEpoch(data);
    assert.equal(a.epoch, 0);
    assert.equal(b.epoch, 1);
    assert.ok(b.lambda > a.lambda);
    assert.ok(Math.abs(b.lrs.backbone! - a.lrs.backbone! * 0.95) < 1e-12);
    assert.ok(Math.abs(b.lrs.head! - 1e-2 * 0.95) < 1e-12);
    assert.equal(a.iterations, 2);
    assert.ok(Number.isFinite(a.meanTotal) && a.meanCons > 0);
    t.dispose();
  });

  it('the CE-only ablation and N = 1 run through the same code path', () => {
    const data = quadrantData(64);
    const ce = CctTrainer.create({ ...base, members: 3, consistency: false });
    const logCe = ce.trainEpoch(data);
    assert.equal(logCe.lambda, 0);
    assert.ok(logCe.meanCons > 0, 'cons is still measured');
    assert.ok(Math.abs(logCe.meanTotal - logCe.meanSup) < 1e-5, 'total = sup when λ = 0');
    ce.dispose();
    const one = CctTrainer.create({ ...base, members: 1 });
    const logOne = one.trainEpoch(data);
    assert.equal(logOne.meanCons, 0);
    assert.equal(logOne.trainAccuracy.length, 1);
    one.dispose();
  });

  it('same seed → identical loss sequence; different seed → different', () => {
    const a = run({ ...base, members: 2, seed: 7 }, 2, 96);
    const b = run({ ...base, members: 2, seed: 7 }, 2, 96);
    const c = run({ ...base, members: 2, seed: 8 }, 2, 96);
    assert.deepEqual(a, b);
    assert.notDeepEqual(a, c);
  });

  it('iterationsPerEpoch fixes the epoch length, oversampling balances classes', () => {
    const data = quadrantData(48);
    const t = CctTrainer.create({
      ...base,
      members: 1,
      iterationsPerEpoch: 5,
      batchSize: 16,
      oversample: true,
    });
    const log = t.trainEpoch(data);
    assert.equal(log.iterations, 5);
    assert.equal(log.images, 80);
    t.dispose();
  });

  it('leaks no tensors across epochs', () => {
    const data = quadrantData(64);
    const t = CctTrainer.create({ ...base, members: 2 });
    t.trainEpoch(data);
    const before = tf.memory().numTensors;
    t.trainEpoch(data);
    t.evaluate(data);
    assert.equal(tf.memory().numTensors, before);
    t.dispose();
  });

  it('rejects bad configs and mismatched data with the field named', () => {
    assert.throws(
      () => CctTrainer.create({ ...base, members: 5 }),
      /invalid trainer config: members:/,
    );
    assert.throws(() => CctTrainer.create({ ...base, beta: -1 }), /beta:/);
    assert.throws(
      () => CctTrainer.create({ ...base, bogus: 1 } as TrainerConfigInput),
      /Unrecognized key/,
    );
    const t = CctTrainer.create({ ...base, members: 1, inputSize: 8 });
    assert.throws(
      () => t.trainEpoch(quadrantData(8)),
      /training images are \[16,16,3\], the members expect \[8,8,3\]/,
    );
    t.dispose();
    const u = CctTrainer.create({ ...base, members: 1, numClasses: 3 });
    assert.throws(() => u.trainEpoch(quadrantData(8)), /label 3 of sample 3 is outside \[0, 3\)/);
    u.dispose();
  });
});

describe('gradient accumulation', () => {
  before(() => useTestBackend());

  it('k micro-batches give the same step as the whole batch (a net without BatchNorm)', () => {
    const config: TrainerConfigInput = {
      arch: 'mlp',
      inputSize: 16,
      inChannels: 3,
      numClasses: 4,
      members: 2,
      batchSize: 32,
      maxEpochs: 2,
      iterationsPerEpoch: 3,
      augment: null,
      seed: 4,
    };
    const data = quadrantData(96);
    const whole = CctTrainer.create(config);
    const split = CctTrainer.create({ ...config, accumulate: 4 });
    const a = whole.trainEpoch(data);
    const b = split.trainEpoch(data);
    a.steps.forEach((s, i) =>
      assert.ok(
        Math.abs(s.total - b.steps[i]!.total) < 1e-5,
        `step ${i}: ${s.total} vs ${b.steps[i]!.total}`,
      ),
    );
    whole.members.forEach((net, j) =>
      net.params.forEach((p, q) => {
        const diff = tf.tidy(
          () =>
            tf
              .max(tf.abs(tf.sub(p.variable, split.members[j]!.params[q]!.variable)))
              .dataSync()[0] as number,
        );
        assert.ok(diff < 1e-5, `${p.name}: ${diff}`);
      }),
    );
    assert.deepEqual(a.trainAccuracy, b.trainAccuracy);
    whole.dispose();
    split.dispose();
    assert.throws(
      () => CctTrainer.create({ ...config, accumulate: 5 }),
      /accumulate: accumulate must divide batchSize/,
    );
  });
});
