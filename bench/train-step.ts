/**
 * bench/train-step: one CCT training step (N × ResNet-18, joint loss, one Adam) in cctfer's tfjs
 * engine and, in the same run at the same thread count, in PyTorch (Debian's python3-torch).
 *
 *   npx tsx bench/train-step.ts [--members 3] [--size 112] [--batch 16] [--steps 3] [--backend wasm]
 *
 * Prints the median step time of each engine, their ratio, and the tfjs kernels that dominate.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Command } from 'commander';
import {
  cctLoss,
  createModel,
  GroupAdam,
  initBackend,
  parseBackendName,
  tf,
} from '../src/index.ts';

const opts = new Command('train-step')
  .description('time one CCT training step in tfjs and PyTorch, side by side')
  .option('--members <n>', 'ensemble members', '3')
  .option('--size <px>', 'input size', '112')
  .option('--batch <n>', 'batch size', '16')
  .option('--steps <n>', 'timed steps (after one warm-up)', '3')
  .option('--backend <name>', 'tfjs backend', 'wasm')
  .option('--python <path>', 'python with torch', '/usr/bin/python3')
  .option('--no-torch', 'skip the PyTorch run')
  .parse()
  .opts<{
    members: string;
    size: string;
    batch: string;
    steps: string;
    backend: string;
    python: string;
    torch: boolean;
  }>();

const members = Number(opts.members);
const size = Number(opts.size);
const batch = Number(opts.batch);
const steps = Number(opts.steps);
const THREADS = 1; // tfjs' wasm backend is single-threaded in Node: PyTorch gets the same.

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

interface Timing {
  median: number;
  forward: number;
}

async function tfjsStep(): Promise<Timing & { times: number[]; top: [string, number][] }> {
  const info = await initBackend({ backend: parseBackendName(opts.backend) });
  const nets = Array.from({ length: members }, (_, j) =>
    createModel('resnet18', { seed: j + 1, inputSize: size }),
  );
  const groups = (g: string) =>
    nets.flatMap((n) =>
      n.params.filter((p) => p.trainable && p.group === g).map((p) => p.variable),
    );
  const adam = new GroupAdam([
    { name: 'backbone', lr: 1e-3, variables: groups('backbone') },
    { name: 'head', lr: 1e-2, variables: groups('head') },
  ]);
  const x = tf.randomNormal([batch, size, size, 3], 0, 1, 'float32', 1) as tf.Tensor4D;
  const y = tf.tensor1d(
    Array.from({ length: batch }, (_, i) => i % 7),
    'int32',
  );
  const vars = nets.flatMap((n) => n.trainableVariables());
  const step = () => {
    const { value, grads } = tf.variableGrads(
      () =>
        cctLoss(
          nets.map((n) => n.apply(x, true)),
          y,
          0.5,
        ).total,
      vars,
    );
    adam.apply(grads);
    value.dataSync();
    tf.dispose([value, ...Object.values(grads)]);
  };
  step();
  const times: number[] = [];
  for (let i = 0; i < steps; i++) {
    const t0 = performance.now();
    step();
    times.push((performance.now() - t0) / 1000);
  }
  const fwd: number[] = [];
  for (let i = 0; i < steps; i++) {
    const t0 = performance.now();
    tf.tidy(() => nets.forEach((n) => n.apply(x, false).dataSync()));
    fwd.push((performance.now() - t0) / 1000);
  }
  const prof = await tf.profile(() => step());
  const byKernel = new Map<string, number>();
  for (const k of prof.kernels)
    byKernel.set(k.name, (byKernel.get(k.name) ?? 0) + Number(k.kernelTimeMs));
  const total = [...byKernel.values()].reduce((a, b) => a + b, 0);
  const top = [...byKernel.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 6)
    .map(([k, v]) => [k, v / total] as [string, number]);
  console.log(`tfjs backend: ${info.name} (${info.detail})`);
  return { median: median(times), forward: median(fwd), times, top };
}

async function torchStep(): Promise<(Timing & { engine: string }) | { error: string }> {
  const script = fileURLToPath(new URL('./train_step_torch.py', import.meta.url));
  try {
    const { stdout } = await promisify(execFile)(
      opts.python,
      [script, String(members), String(size), String(batch), String(steps), String(THREADS)],
      { env: { ...process.env, OMP_NUM_THREADS: String(THREADS) }, maxBuffer: 1 << 20 },
    );
    const r = JSON.parse(stdout.trim().split('\n').pop() as string) as {
      median_s: number;
      forward_median_s: number;
      engine: string;
    };
    return { median: r.median_s, forward: r.forward_median_s, engine: r.engine };
  } catch (err) {
    return {
      error: `PyTorch run failed (${(err as Error).message.split('\n')[0]}); install it with: apt-get install python3-torch`,
    };
  }
}

console.log(
  `CCT step: ${members} × ResNet-18 @ ${size}×${size}, batch ${batch}, ${THREADS} thread, median of ${steps}`,
);
const tfjs = await tfjsStep();
console.log(
  `tfjs     ${tfjs.median.toFixed(3)} s/step  (${tfjs.times.map((t) => t.toFixed(2)).join(', ')}); inference forward of all members ${tfjs.forward.toFixed(3)} s`,
);
console.log(
  `  kernel share: ${tfjs.top.map(([k, s]) => `${k} ${(100 * s).toFixed(0)}%`).join(', ')}`,
);
if (opts.torch) {
  const torch = await torchStep();
  if ('error' in torch) {
    console.log(torch.error);
  } else {
    console.log(
      `pytorch  ${torch.median.toFixed(3)} s/step  (${torch.engine}); inference forward ${torch.forward.toFixed(3)} s`,
    );
    console.log(
      `ratio tfjs / pytorch: training step ${(tfjs.median / torch.median).toFixed(2)}×, forward alone ${(tfjs.forward / torch.forward).toFixed(2)}×`,
    );
  }
}
