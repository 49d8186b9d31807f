/**
 * The training pieces the in-process trainer and the member workers share: one Adam with a
 * backbone and a head learning-rate group, and gradients summed over micro-batches.
 */
import { tf, type Tensor } from '../engine/tf.ts';
import type { Network } from '../models/network.ts';
import { GroupAdam } from './adam.ts';

/** One Adam over the nets' trainable variables: every backbone variable, then every head one. */
export function groupAdam(
  nets: readonly Network[],
  lr: { backbone: number; head: number },
): GroupAdam {
  const group = (g: 'backbone' | 'head') =>
    nets.flatMap((m) =>
      m.params.filter((p) => p.trainable && p.group === g).map((p) => p.variable),
    );
  return new GroupAdam([
    { name: 'backbone', lr: lr.backbone, variables: group('backbone') },
    { name: 'head', lr: lr.head, variables: group('head') },
  ]);
}

/** Adds a micro-batch's gradients to the running sum (disposing both inputs); the first starts it. */
export function addGradients(
  summed: Record<string, Tensor> | undefined,
  grads: Record<string, Tensor>,
): Record<string, Tensor> {
  if (!summed) return grads;
  const out = Object.fromEntries(
    Object.entries(grads).map(([name, g]) => [name, tf.add(summed[name] as Tensor, g)]),
  );
  tf.dispose([...Object.values(summed), ...Object.values(grads)]);
  return out;
}
