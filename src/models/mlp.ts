/** A two-hidden-layer perceptron (784-256-256-K for 28×28 grey), as in the co-training papers' MNIST runs. */
import { tf, type Tensor2D } from '../engine/tf.ts';
import type { Rng } from '../util/rng.ts';
import { linear, ParamBuilder, ParamNetwork, type ArchConfig } from './network.ts';
import type { ArchSpec } from './arch-spec.ts';
import type { OnnxGraphBuilder } from '../engine/onnx-graph.ts';
import type { Network } from './network.ts';
import { linear as onnxLinear } from './onnx-layers.ts';

const HIDDEN = 256;

function buildMlp(config: ArchConfig, rng: Rng, tag: string) {
  const b = new ParamBuilder(rng, tag);
  const inputs = config.inputSize * config.inputSize * config.inChannels;
  const fc1 = b.linear('fc1', inputs, HIDDEN, 'backbone');
  const fc2 = b.linear('fc2', HIDDEN, HIDDEN, 'backbone');
  const fc = b.linear('fc', HIDDEN, config.numClasses, 'head');
  return new ParamNetwork('mlp', config, b.params, (x) => {
    const flat = tf.reshape(x, [x.shape[0], inputs]) as Tensor2D;
    return linear(tf.relu(linear(tf.relu(linear(flat, fc1)), fc2)), fc);
  });
}

function exportMlp(g: OnnxGraphBuilder, net: Network, x: string): string {
  // Our input is normalised NCHW; the tfjs forward flattens NHWC, so go back to NHWC first.
  const flat = g.node('Flatten', [g.node('Transpose', [x], { perm: [0, 2, 3, 1] })], { axis: 1 });
  const h1 = g.node('Relu', [onnxLinear(g, net, flat, 'fc1')]);
  const h2 = g.node('Relu', [onnxLinear(g, net, h1, 'fc2')]);
  return onnxLinear(g, net, h2, 'fc');
}

export const mlp: ArchSpec = {
  name: 'mlp',
  description: 'two hidden layers of 256 ReLU units, for 28×28 digit/fashion images',
  defaults: { inputSize: 28, numClasses: 10, inChannels: 1 },
  build: buildMlp,
  exportOnnx: exportMlp,
};
