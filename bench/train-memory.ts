/**
 * bench/train-memory: many CCT training steps of 3 × ResNet-18 at 224×224, batch 16, on one thread,
 * printing per-step time, the wasm heap size and the process's resident memory — to show memory
 * stays flat and within the wasm backend's 4 GB heap. Random images (speed and memory do not depend
 * on the data).
 *
 *   npx tsx bench/train-memory.ts [--steps 100] [--size 224] [--batch 16] [--members 3]
 */
import { Command } from 'commander';
import { CctTrainer, initBackend, inMemoryData, tf } from '../src/index.ts';

const o = new Command('train-memory')
  .option('--steps <n>', 'training steps', '100')
  .option('--size <px>', 'input size', '224')
  .option('--batch <n>', 'batch size', '16')
  .option('--members <n>', 'members', '3')
  .option('--backend <name>', 'tfjs backend', 'wasm')
  .option('--workers', 'one member per worker thread (src/cct/member-workers.ts)', false)
  .parse()
  .opts<{
    steps: string;
    size: string;
    batch: string;
    members: string;
    backend: string;
    workers: boolean;
  }>();

const size = Number(o.size);
const batch = Number(o.batch);
const steps = Number(o.steps);
await initBackend({ backend: o.backend as 'wasm', log: console.log });
// One epoch = `steps` batches over a small random pool (no augmentation cost in the figures).
const mb = (n: number) => (n / 2 ** 20).toFixed(0);
const pool = 4 * batch;
const pixels = new Uint8Array(pool * size * size * 3);
for (let i = 0; i < pixels.length; i++) pixels[i] = (i * 2654435761) >>> 24;
const labels = Int32Array.from({ length: pool }, (_, i) => i % 7);
const data = inMemoryData(pixels, labels, [size, size, 3]);
if (o.workers) {
  // Each member in its own worker thread and wasm heap; the main thread holds only the batch.
  const { MemberWorkers } = await import('../src/cct/member-workers.ts');
  const mw = await MemberWorkers.create({
    arch: 'resnet18',
    members: Number(o.members),
    seed: 0,
    numClasses: 7,
    inputSize: size,
    inChannels: 3,
    lrBackbone: 1e-3,
    lrHead: 1e-2,
    maxBatch: batch,
    backend: o.backend as 'wasm',
  });
  const per = size * size * 3;
  const times: number[] = [];
  for (let step = 0; step < steps; step++) {
    const idx = Array.from({ length: batch }, (_, i) => (step * batch + i) % pool);
    const x = new Float32Array(batch * per);
    idx.forEach((j, i) => {
      for (let t = 0; t < per; t++) x[i * per + t] = (pixels[j * per + t] as number) / 255 - 0.45;
    });
    const t0 = performance.now();
    const log = await mw.step(
      x,
      Int32Array.from(idx, (j) => labels[j] as number),
      0.5,
    );
    times.push(performance.now() - t0);
    console.log(
      `step ${step + 1}/${steps}: ${(times.at(-1)! / 1000).toFixed(2)} s, loss ${log.total.toFixed(3)}, worker wasm heaps ${log.heapBytes.map(mb).join(' / ')} MB, tensors ${log.tensors.join(' / ')}, main rss ${mb(process.memoryUsage().rss)} MB`,
    );
  }
  await mw.close();
  const sorted = [...times].sort((a, b) => a - b);
  const med = sorted[sorted.length >> 1]!;
  console.log(
    `${steps} steps of ${o.members} × ResNet-18 @ ${size}², batch ${batch}, one member per worker: median ${(med / 1000).toFixed(2)} s/step (${((batch * 1000) / med).toFixed(2)} images/s)`,
  );
  process.exit(0);
}

const trainer = CctTrainer.create({
  arch: 'resnet18',
  inputSize: size,
  members: Number(o.members),
  batchSize: batch,
  maxEpochs: 1,
  iterationsPerEpoch: steps,
  augment: null,
});
const heap = () => {
  const b = tf.backend() as unknown as { wasm?: { HEAPU8: Uint8Array } };
  return b.wasm ? b.wasm.HEAPU8.length : NaN;
};
let last = performance.now();
const times: number[] = [];
const log = trainer.trainEpoch(data, {
  onStep: (s, done, total) => {
    const now = performance.now();
    times.push(now - last);
    last = now;
    console.log(
      `step ${done}/${total}: ${(times.at(-1)! / 1000).toFixed(2)} s, loss ${s.total.toFixed(3)}, wasm heap ${mb(heap())} MB, tensors ${mb(tf.memory().numBytes)} MB, rss ${mb(process.memoryUsage().rss)} MB`,
    );
  },
});
const sorted = [...times].sort((a, b) => a - b);
console.log(
  `${log.iterations} steps of ${o.members} × ResNet-18 @ ${size}², batch ${batch}: median ${(sorted[sorted.length >> 1]! / 1000).toFixed(2)} s/step (${((batch * 1000) / sorted[sorted.length >> 1]!).toFixed(2)} images/s); final wasm heap ${mb(heap())} MB, rss ${mb(process.memoryUsage().rss)} MB`,
);
