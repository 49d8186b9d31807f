import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { CctTrainer, tf } from '../src/index.ts';
import { MemberWorkers } from '../src/cct/member-workers.ts';
import { useTestBackend } from './helpers/backend.ts';
import { quadrantData } from './helpers/synthetic.ts';

describe('CCT with one member per worker thread', () => {
  before(() => useTestBackend());

  it('takes exactly the steps of the single-thread trainer (same seeds, same batches)', async () => {
    const config = {
      arch: 'tiny-cnn',
      inputSize: 16,
      numClasses: 4,
      members: 3,
      batchSize: 16,
      seed: 7,
      lrBackbone: 1e-2,
      lrHead: 1e-2,
      augment: null,
      maxEpochs: 1,
      iterationsPerEpoch: 3,
    };
    const data = quadrantData(48);
    const trainer = CctTrainer.create(config);
    const mw = await MemberWorkers.create({
      ...config,
      inChannels: 3,
      maxBatch: 16,
      backend: 'wasm',
    });
    try {
      // The trainer's epoch order is seeded; replay the same batches, normalised the same way.
      const epoch = trainer.trainEpoch(data);
      const reference = CctTrainer.create(config);
      const order = (
        reference as unknown as { epochBatches(d: typeof data): number[][] }
      ).epochBatches(data);
      const lambda = epoch.lambda;
      for (const [i, indices] of order.entries()) {
        const x = tf.tidy(
          () =>
            (reference as unknown as { normalise(t: tf.Tensor4D): tf.Tensor4D })
              .normalise(data.images(indices))
              .dataSync() as Float32Array,
        );
        const labels = Int32Array.from(indices, (j) => data.labels[j] as number);
        const log = await mw.step(x, labels, lambda);
        assert.ok(
          Math.abs(log.total - epoch.steps[i]!.total) < 1e-4,
          `step ${i}: ${log.total} vs ${epoch.steps[i]!.total}`,
        );
      }
      reference.dispose();
      const weights = await mw.weights();
      trainer.members.forEach((net, j) =>
        net.params.forEach((p, q) => {
          const w = weights[j]![q]!;
          assert.equal(w.name, p.name);
          const ours = p.variable.dataSync() as Float32Array;
          const worst = ours.reduce(
            (m, v, t) => Math.max(m, Math.abs(v - (w.data[t] as number))),
            0,
          );
          assert.ok(worst < 1e-4, `member ${j} ${p.name}: ${worst}`);
        }),
      );
    } finally {
      trainer.dispose();
      await mw.close();
    }
  });
});
