/**
 * Exports N members of one architecture as ONE ONNX graph:
 *   input  images        [batch, S, S, C] float32 in [0, 1], NHWC (what the aligner produces)
 *   output member_logits [members, batch, K]
 *          member_probs  [members, batch, K]
 *          mean_probs    [batch, K]  — the mean of the member softmaxes (the CCT inference rule)
 *          consensus     [batch, 1]  — 1 − mean pairwise Jensen–Shannon divergence (bits)
 * Normalisation runs inside the graph; BatchNorm is folded into the convolutions.
 */
import { OnnxGraphBuilder } from '../engine/onnx-graph.ts';
import type { Network } from './network.ts';
import { getArch } from './registry.ts';

export interface EnsembleExportOptions {
  mean: number[];
  std: number[];
}

export const ENSEMBLE_INPUT = 'images';

export function exportEnsembleOnnx(members: Network[], options: EnsembleExportOptions): Uint8Array {
  if (members.length === 0) throw new Error('cannot export an empty ensemble');
  const first = members[0] as Network;
  const { inputSize: s, inChannels: c, numClasses: k } = first.config;
  for (const m of members) {
    if (m.arch !== first.arch || JSON.stringify(m.config) !== JSON.stringify(first.config)) {
      throw new Error('all ensemble members must share one architecture and configuration');
    }
  }
  if (options.mean.length !== c || options.std.length !== c)
    throw new Error(`mean/std need ${c} entries`);
  const spec = getArch(first.arch);
  const g = new OnnxGraphBuilder();
  const images = g.input(ENSEMBLE_INPUT, ['batch', s, s, c]);
  const nchw = g.node('Transpose', [images], { perm: [0, 3, 1, 2] });
  const x = g.node('Div', [
    g.node('Sub', [nchw, g.constant('mean', options.mean, [1, c, 1, 1])]),
    g.constant('std', options.std, [1, c, 1, 1]),
  ]);
  const axis0 = g.int64('axis0', [0]);
  const logits = members.map((m) => spec.exportOnnx(g, m, x));
  const probs = logits.map((z) => g.node('Softmax', [z], { axis: 1 }));
  const stack = (names: string[], output: string) =>
    g.node(
      'Concat',
      names.map((n) => g.node('Unsqueeze', [n, axis0])),
      { axis: 0 },
      output,
    );
  stack(logits, 'member_logits');
  stack(probs, 'member_probs');
  const n = members.length;
  const sum = n === 1 ? (probs[0] as string) : g.node('Sum', probs);
  g.node('Div', [sum, g.constant('n_members', [n], [])], {}, 'mean_probs');

  const axis1 = g.int64('axis1', [1]);
  const eps = g.constant('eps', [1e-12], []);
  const klToMix = (p: string, logM: string) =>
    g.node(
      'ReduceSum',
      [g.node('Mul', [p, g.node('Sub', [g.node('Log', [g.node('Add', [p, eps])]), logM])]), axis1],
      { keepdims: 1 },
    );
  const divergences: string[] = [];
  for (let a = 0; a < n; a++) {
    for (let b = a + 1; b < n; b++) {
      const pa = probs[a] as string;
      const pb = probs[b] as string;
      const mix = g.node('Mul', [g.node('Add', [pa, pb]), g.constant('half', [0.5], [])]);
      const logM = g.node('Log', [g.node('Add', [mix, eps])]);
      const js = g.node('Mul', [
        g.node('Add', [klToMix(pa, logM), klToMix(pb, logM)]),
        g.constant('half_ln2', [0.5 / Math.LN2], []),
      ]);
      divergences.push(js);
    }
  }
  if (divergences.length === 0) {
    // One member: consensus is 1 by definition (a [batch, 1] tensor of ones).
    const anyCol = g.node(
      'ReduceSum',
      [g.node('Mul', [probs[0] as string, g.constant('zero', [0], [])]), axis1],
      { keepdims: 1 },
    );
    g.node('Add', [anyCol, g.constant('one', [1], [])], {}, 'consensus');
  } else {
    const meanDiv = g.node('Div', [
      divergences.length === 1 ? (divergences[0] as string) : g.node('Sum', divergences),
      g.constant('n_pairs', [divergences.length], []),
    ]);
    const minus = g.node('Sub', [g.constant('one', [1], []), meanDiv]);
    g.node(
      'Clip',
      [minus, g.constant('zero', [0], []), g.constant('one_max', [1], [])],
      {},
      'consensus',
    );
  }
  g.output('member_logits', [n, 'batch', k]);
  g.output('member_probs', [n, 'batch', k]);
  g.output('mean_probs', ['batch', k]);
  g.output('consensus', ['batch', 1]);
  return g.toBytes(`cctfer ensemble: ${n} × ${first.arch} ${s}x${s}x${c}, ${k} classes`);
}
