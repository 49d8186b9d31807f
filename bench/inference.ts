/**
 * bench/inference: faces/second of ensemble inference, ONNX Runtime vs tfjs (wasm), side by side in
 * one run — the embedded default bundle and a 3 × ResNet-18 ensemble at 112 and 224, batch 1/8/32.
 *
 *   npx tsx bench/inference.ts [--seconds 2] [--batches 1,8,32] [--ort-threads 1,2]
 */
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { createModel, initBackend, OnnxModel, tf, type FloatTensor } from '../src/index.ts';
import { loadBundleMembers, readBundleManifest, readBundleOnnx } from '../src/models/bundle.ts';
import { exportEnsembleOnnx, type EnsembleMember } from '../src/models/ensemble-export.ts';
import { cropInputs, preprocessForMember } from '../src/models/preprocess.ts';

const opts = new Command('inference')
  .description('ensemble inference throughput: ONNX Runtime vs tfjs-wasm')
  .option('--seconds <s>', 'time budget per measurement', '2')
  .option('--batches <list>', 'batch sizes', '1,8,32')
  .option('--ort-threads <list>', 'ONNX Runtime intra-op thread counts', '1,2')
  .option('--skip-224', 'skip the 224×224 ResNet-18 ensemble (slow on tfjs)', false)
  .parse()
  .opts<{ seconds: string; batches: string; ortThreads: string; skip224: boolean }>();
const budget = Number(opts.seconds) * 1000;
const batches = opts.batches.split(',').map(Number);
const ortThreads = opts.ortThreads.split(',').map(Number);

/** Runs `f` (one batch) until the time budget is spent (at least twice after a warm-up). */
async function facesPerSecond(batch: number, f: () => Promise<void>): Promise<number> {
  await f();
  let n = 0;
  const t0 = performance.now();
  while (n < 2 || performance.now() - t0 < budget) {
    await f();
    n++;
  }
  return (n * batch * 1000) / (performance.now() - t0);
}

function feedsFor(members: EnsembleMember[], batch: number): Record<string, FloatTensor> {
  return Object.fromEntries(
    cropInputs(members.map((m) => m.pre)).map(({ mode, size }) => [
      mode,
      {
        data: Float32Array.from({ length: batch * size * size * 3 }, (_, i) => (i % 251) / 251),
        dims: [batch, size, size, 3],
      },
    ]),
  );
}

let tfjsBroken: string | undefined;

async function measure(
  name: string,
  members: EnsembleMember[],
  onnx: Uint8Array,
): Promise<string[]> {
  const rows: string[] = [];
  for (const batch of batches) {
    const feeds = feedsFor(members, batch);
    const cells: string[] = [];
    for (const threads of ortThreads) {
      const model = await OnnxModel.create(onnx, { threads });
      cells.push(
        (await facesPerSecond(batch, async () => void (await model.run(feeds)))).toFixed(1),
      );
      await model.dispose();
    }
    // A wasm abort (its heap stops at 4 GB and never shrinks) leaves the module unusable: report it
    // and skip tfjs from then on.
    let tfjs = Number.NaN;
    if (!tfjsBroken) {
      try {
        tfjs = await facesPerSecond(batch, async () => {
          tf.tidy(() => {
            const probs = members.map(({ net, pre }) => {
              const f = feeds[pre.crop]!;
              return tf.softmax(
                net.apply(
                  preprocessForMember(
                    tf.tensor4d(f.data, f.dims as [number, number, number, number]),
                    pre,
                  ),
                  false,
                ),
              );
            });
            tf.addN(probs).dataSync();
          });
        });
      } catch (err) {
        tfjsBroken = `wasm aborted at ${name}, batch ${batch}: ${(err as Error).message.split('.')[0]}`;
      }
    }
    const best = Math.max(...cells.map(Number));
    const tfjsCell = Number.isNaN(tfjs) ? 'abort¹' : tfjs.toFixed(1);
    const ratio = Number.isNaN(tfjs) ? '–' : `${(Number(cells[0]) / tfjs).toFixed(1)}×`;
    rows.push(`| ${name} | ${batch} | ${cells.join(' | ')} | ${tfjsCell} | ${ratio} |`);
    console.error(
      `  ${name} batch ${batch}: ORT ${cells.join('/')} faces/s, tfjs ${tfjs.toFixed(1)} faces/s (best ORT ${best.toFixed(1)})`,
    );
  }
  return rows;
}

const backend = await initBackend({ backend: 'wasm' });
console.error(`tfjs backend: ${backend.name} (${backend.detail})`);
const rows: string[] = [];
const bundle = fileURLToPath(new URL('../models/default', import.meta.url));
const manifest = await readBundleManifest(bundle);
rows.push(
  ...(await measure(
    'default bundle (face-api 112 + mini-Xception 64)',
    await loadBundleMembers(bundle, manifest),
    await readBundleOnnx(bundle, manifest),
  )),
);
for (const size of opts.skip224 ? [112] : [112, 224]) {
  const pre = {
    crop: 'aligned' as const,
    inputSize: size,
    color: 'rgb' as const,
    mean: [0.485, 0.456, 0.406],
    std: [0.229, 0.224, 0.225],
  };
  const members = [1, 2, 3].map((seed) => ({
    net: createModel('resnet18', { seed, inputSize: size }),
    pre,
  }));
  rows.push(...(await measure(`3 × ResNet-18 @ ${size}`, members, exportEnsembleOnnx(members))));
  for (const m of members) m.net.dispose();
}
console.log(
  `| ensemble | batch | ${ortThreads.map((t) => `ORT ${t} thread${t > 1 ? 's' : ''}`).join(' | ')} | tfjs-wasm 1 thread | ORT(1)/tfjs |`,
);
console.log(`|---|---|${ortThreads.map(() => '---|').join('')}---|---|`);
for (const r of rows) console.log(r);
console.log(
  '\nfaces/second (higher is better): each cell is total faces / total time over the budget.',
);
if (tfjsBroken) console.log(`¹ ${tfjsBroken} (the wasm heap stops at 4 GB and never shrinks).`);
