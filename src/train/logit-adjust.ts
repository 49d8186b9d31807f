/**
 * Logit adjustment (Menon et al., "Long-tail learning via logit adjustment", ICLR 2021), baked into
 * an exported bundle: class c's logit − τ·log π_c, π the training labels' class frequencies. τ = 1
 * targets balanced error; smaller τ trades less accuracy for less bias toward frequent classes.
 * Done on the head's bias, so every engine, the ONNX graph and the consensus see the same model.
 */
import type { TrainingData } from '../data/dataset.ts';
import type { Network } from '../models/network.ts';
import { tf } from '../engine/tf.ts';

/** The training labels' class frequencies (mean soft target where the data has them). */
export function classPrior(data: Pick<TrainingData, 'labels' | 'targets'>, k: number): number[] {
  const prior = new Array<number>(k).fill(0);
  const n = data.labels.length;
  if (n === 0) throw new Error('no training labels to take a class prior from');
  for (let i = 0; i < n; i++)
    if (data.targets)
      for (let c = 0; c < k; c++) prior[c]! += (data.targets[i * k + c] as number) / n;
    else prior[data.labels[i] as number]! += 1 / n;
  return prior;
}

/** The per-class logit shift −τ·log π_c (a class never seen in training is an error: log 0). */
export function logitShift(prior: readonly number[], tau: number): number[] {
  return prior.map((p, c) => {
    if (!(p > 0)) throw new Error(`class ${c} has no training labels: cannot adjust its logit`);
    return -tau * Math.log(p);
  });
}

/** Adds `shift` to the head's bias (the trainable 'head' parameter of shape [classes]). */
export function shiftHeadBias(net: Network, shift: readonly number[]): void {
  const bias = net.params.filter(
    (p) => p.group === 'head' && p.name.endsWith('bias') && p.variable.shape.length === 1,
  );
  if (bias.length !== 1 || bias[0]!.variable.shape[0] !== shift.length)
    throw new Error(
      `${net.arch}: expected one head bias of ${shift.length} classes, found ${bias.map((b) => `${b.name} [${b.variable.shape}]`).join(', ') || 'none'}`,
    );
  const v = bias[0]!.variable;
  tf.tidy(() => v.assign(tf.add(v, tf.tensor1d([...shift]))));
}
