/** A two-conv network for fast tests and small images: conv-BN-ReLU, maxpool, conv-BN-ReLU, GAP, linear. */
import { tf } from '../engine/tf.ts';
import type { Rng } from '../util/rng.ts';
import {
  batchNorm,
  conv,
  globalAvgPool,
  linear,
  ParamBuilder,
  ParamNetwork,
  type ArchConfig,
} from './network.ts';
import type { ArchSpec } from './arch-spec.ts';
import type { OnnxGraphBuilder } from '../engine/onnx-graph.ts';
import type { Network } from './network.ts';
import { convBn, globalPoolFlatten, linear as onnxLinear } from './onnx-layers.ts';

function buildTinyCnn(config: ArchConfig, rng: Rng, tag: string) {
  const b = new ParamBuilder(rng, tag);
  const conv1 = b.conv('conv1', 3, config.inChannels, 8);
  const bn1 = b.bn('bn1', 8);
  const conv2 = b.conv('conv2', 3, 8, 16);
  const bn2 = b.bn('bn2', 16);
  const fc = b.linear('fc', 16, config.numClasses);
  return new ParamNetwork('tiny-cnn', config, b.params, (x, training) => {
    let h = tf.relu(batchNorm(conv(x, conv1, 1, 1), bn1, training));
    h = tf.maxPool(h, 2, 2, 0);
    h = tf.relu(batchNorm(conv(h, conv2, 1, 1), bn2, training));
    return linear(globalAvgPool(h), fc);
  });
}

function exportTinyCnn(g: OnnxGraphBuilder, net: Network, x: string): string {
  let h = g.node('Relu', [convBn(g, net, x, 'conv1', 'bn1', 1, 1)]);
  h = g.node('MaxPool', [h], { kernel_shape: [2, 2], strides: [2, 2] });
  h = g.node('Relu', [convBn(g, net, h, 'conv2', 'bn2', 1, 1)]);
  return onnxLinear(g, net, globalPoolFlatten(g, h), 'fc');
}

export const tinyCnn: ArchSpec = {
  name: 'tiny-cnn',
  description: 'two-conv CNN for tests and small images',
  defaults: { inputSize: 16, numClasses: 7, inChannels: 3 },
  build: buildTinyCnn,
  exportOnnx: exportTinyCnn,
};
