import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { CctTrainer, tf } from '../src/index.ts';
import { MemberWorkers } from '../src/cct/member-workers.ts';
import { WorkerTrainer } from '../src/cct/worker-trainer.ts';
import { loadCheckpoint, saveCheckpoint } from '../src/cct/checkpoint.ts';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
      const states = await mw.getStates();
      trainer.members.forEach((net, j) =>
        net.params.forEach((p, q) => {
          const w = states[j]!.params[q]!;
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

  it('trains epochs, evaluates, syncs and resumes like the single-thread trainer (augmentation, accumulation)', async () => {
    const config = {
      arch: 'tiny-cnn',
      inputSize: 16,
      numClasses: 4,
      members: 3,
      batchSize: 12,
      accumulate: 2,
      seed: 11,
      lrBackbone: 5e-3,
      lrHead: 1e-2,
      maxEpochs: 3,
      // 40 samples: the last batch of a pass (4 samples) is two micro-batches of 2.
    };
    const data = quadrantData(40);
    const val = quadrantData(20, 16, 9);
    const single = CctTrainer.create(config);
    const parallelTrainer = CctTrainer.create(config);
    const dir = await mkdtemp(join(tmpdir(), 'cctfer-wt-'));
    let wt = await WorkerTrainer.start(parallelTrainer, { backend: 'wasm' });
    const close = (a: number, b: number, what: string) =>
      assert.ok(Math.abs(a - b) < 1e-4, `${what}: ${a} vs ${b}`);
    try {
      for (let epoch = 0; epoch < 3; epoch++) {
        const a = single.trainEpoch(data);
        const b = await wt.trainEpoch(data);
        assert.equal(a.iterations, 4);
        assert.equal(b.iterations, a.iterations);
        assert.deepEqual(b.lrs, a.lrs);
        a.steps.forEach((s, i) => close(b.steps[i]!.total, s.total, `epoch ${epoch} step ${i}`));
        b.trainAccuracy.forEach((acc, j) => close(acc, a.trainAccuracy[j]!, `member ${j} acc`));
        const ra = single.evaluate(val);
        const rb = await wt.evaluate(val);
        assert.deepEqual(rb.ensemble.confusion, ra.ensemble.confusion);
        close(rb.meanConsensus, ra.meanConsensus, 'consensus');
        if (epoch === 1) {
          // Checkpoint the worker run, stop its workers, resume from the checkpoint.
          await wt.sync();
          await saveCheckpoint(parallelTrainer, dir);
          await wt.close();
          const resumed = await loadCheckpoint(dir);
          assert.equal(resumed.epoch, 2);
          wt = await WorkerTrainer.start(resumed, { backend: 'wasm' });
        }
      }
      await wt.sync();
      const optA = single.optimizer.getState();
      const optB = wt.trainer.optimizer.getState();
      assert.equal(optB.step, optA.step);
      assert.deepEqual(optB.lrs, optA.lrs);
      const worst = (x: tf.Tensor, y: tf.Tensor) => {
        const u = x.dataSync() as Float32Array;
        const v = y.dataSync() as Float32Array;
        return u.reduce((m, e, t) => Math.max(m, Math.abs(e - (v[t] as number))), 0);
      };
      optA.m.forEach((m, i) => assert.ok(worst(m, optB.m[i]!) < 1e-4, `adam m ${i}`));
      single.members.forEach((net, j) =>
        net.params.forEach((p, q) => {
          const d = worst(p.variable, wt.trainer.members[j]!.params[q]!.variable);
          assert.ok(d < 1e-4, `member ${j} ${p.name}: ${d}`);
        }),
      );
    } finally {
      single.dispose();
      wt.trainer.dispose();
      if (wt.trainer !== parallelTrainer) parallelTrainer.dispose();
      await wt.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
