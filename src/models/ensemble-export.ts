/**
 * Exports ensemble members as ONE ONNX graph:
 *   inputs  one per crop mode the members need: `aligned` and/or `box`, each [batch, S, S, 3]
 *           float32 RGB in [0, 1], NHWC, S = the largest input size among that mode's members
 *   outputs member_logits [members, batch, K]
 *           member_probs  [members, batch, K]
 *           mean_probs    [batch, K]  — the mean of the member softmaxes (the CCT inference rule)
 *           consensus     [batch, 1]  — 1 − mean pairwise Jensen–Shannon divergence (bits)
 * Each member's resize, grey conversion and normalisation run inside the graph; BatchNorm is
 * folded into the convolutions.
 */
import { OnnxGraphBuilder } from '../engine/onnx-graph.ts';
import type { Network } from './network.ts';
import { cropInputs, GREY_WEIGHTS, type MemberPreprocessing } from './preprocess.ts';
import { getArch } from './registry.ts';

export interface EnsembleMember {
  net: Network;
  pre: MemberPreprocessing;
}

function checkMembers(members: EnsembleMember[]): number {
  if (members.length === 0) throw new Error('cannot export an empty ensemble');
  const k = members[0]!.net.config.numClasses;
  members.forEach(({ net, pre }, j) => {
    if (net.config.numClasses !== k)
      throw new Error(`member ${j} has ${net.config.numClasses} classes, member 0 has ${k}`);
    if (pre.inputSize !== net.config.inputSize)
      throw new Error(
        `member ${j}: preprocessing size ${pre.inputSize} ≠ network input ${net.config.inputSize}`,
      );
    const channels = pre.color === 'grey' ? 1 : 3;
    if (channels !== net.config.inChannels)
      throw new Error(
        `member ${j}: ${pre.color} preprocessing but the network takes ${net.config.inChannels} channels`,
      );
    if (pre.mean.length !== channels || pre.std.length !== channels)
      throw new Error(`member ${j}: mean/std need ${channels} entries`);
  });
  return k;
}

export function exportEnsembleOnnx(members: EnsembleMember[]): Uint8Array {
  const k = checkMembers(members);
  const g = new OnnxGraphBuilder();
  const inputs = new Map(
    cropInputs(members.map((m) => m.pre)).map(({ mode, size }) => [
      mode,
      { name: g.input(mode, ['batch', size, size, 3]), size },
    ]),
  );
  const logits = members.map(({ net, pre }) => {
    const input = inputs.get(pre.crop)!;
    let x = g.node('Transpose', [input.name], { perm: [0, 3, 1, 2] });
    if (input.size !== pre.inputSize) {
      x = g.node(
        'Resize',
        [
          x,
          '',
          g.constant('scales', [1, 1, pre.inputSize / input.size, pre.inputSize / input.size], [4]),
        ],
        {
          mode: 'linear',
          coordinate_transformation_mode: 'asymmetric',
        },
      );
    }
    if (pre.color === 'grey') {
      x = g.node(
        'ReduceSum',
        [
          g.node('Mul', [x, g.constant('grey', [...GREY_WEIGHTS], [1, 3, 1, 1])]),
          g.int64('axis1', [1]),
        ],
        { keepdims: 1 },
      );
    }
    const c = pre.mean.length;
    x = g.node('Div', [
      g.node('Sub', [x, g.constant('mean', pre.mean, [1, c, 1, 1])]),
      g.constant('std', pre.std, [1, c, 1, 1]),
    ]);
    return getArch(net.arch).exportOnnx(g, net, x);
  });
  const axis0 = g.int64('axis0', [0]);
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
      divergences.push(
        g.node('Mul', [
          g.node('Add', [klToMix(pa, logM), klToMix(pb, logM)]),
          g.constant('half_ln2', [0.5 / Math.LN2], []),
        ]),
      );
    }
  }
  if (divergences.length === 0) {
    // One member: consensus is 1 by definition (a [batch, 1] tensor of ones).
    const zeros = g.node(
      'ReduceSum',
      [g.node('Mul', [probs[0] as string, g.constant('zero', [0], [])]), axis1],
      { keepdims: 1 },
    );
    g.node('Add', [zeros, g.constant('one', [1], [])], {}, 'consensus');
  } else {
    const meanDiv = g.node('Div', [
      divergences.length === 1 ? (divergences[0] as string) : g.node('Sum', divergences),
      g.constant('n_pairs', [divergences.length], []),
    ]);
    g.node(
      'Clip',
      [
        g.node('Sub', [g.constant('one', [1], []), meanDiv]),
        g.constant('zero', [0], []),
        g.constant('one_max', [1], []),
      ],
      {},
      'consensus',
    );
  }
  g.output('member_logits', [n, 'batch', k]);
  g.output('member_probs', [n, 'batch', k]);
  g.output('mean_probs', ['batch', k]);
  g.output('consensus', ['batch', 1]);
  const archs = [...new Set(members.map((m) => m.net.arch))].join(' + ');
  return g.toBytes(`cctfer ensemble: ${n} members (${archs}), ${k} classes`);
}
