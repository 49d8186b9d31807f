/** ResNet-18 in torchvision's layout: conv7×7/2, maxpool, 4 stages of 2 basic blocks, GAP, linear head. */
import { tf, type Tensor4D, type Variable } from '../engine/tf.ts';
import type { Rng } from '../util/rng.ts';
import {
  batchNorm,
  conv,
  globalAvgPool,
  linear,
  ParamBuilder,
  ParamNetwork,
  type ArchConfig,
  type BatchNormParams,
  type Network,
} from './network.ts';
import type { ArchSpec } from './arch-spec.ts';
import type { OnnxGraphBuilder } from '../engine/onnx-graph.ts';
import { convBn, globalPoolFlatten, linear as onnxLinear } from './onnx-layers.ts';

interface BasicBlock {
  conv1: Variable;
  bn1: BatchNormParams;
  conv2: Variable;
  bn2: BatchNormParams;
  stride: number;
  downsample?: { conv: Variable; bn: BatchNormParams };
}

function buildBlock(
  b: ParamBuilder,
  name: string,
  cin: number,
  cout: number,
  stride: number,
): BasicBlock {
  const block: BasicBlock = {
    conv1: b.conv(`${name}.conv1`, 3, cin, cout),
    bn1: b.bn(`${name}.bn1`, cout),
    conv2: b.conv(`${name}.conv2`, 3, cout, cout),
    bn2: b.bn(`${name}.bn2`, cout),
    stride,
  };
  if (stride !== 1 || cin !== cout) {
    block.downsample = {
      conv: b.conv(`${name}.downsample.0`, 1, cin, cout),
      bn: b.bn(`${name}.downsample.1`, cout),
    };
  }
  return block;
}

function runBlock(x: Tensor4D, blk: BasicBlock, training: boolean): Tensor4D {
  let out = tf.relu(batchNorm(conv(x, blk.conv1, blk.stride, 1), blk.bn1, training));
  out = batchNorm(conv(out, blk.conv2, 1, 1), blk.bn2, training);
  const identity = blk.downsample
    ? batchNorm(conv(x, blk.downsample.conv, blk.stride, 0), blk.downsample.bn, training)
    : x;
  return tf.relu(tf.add(out, identity)) as Tensor4D;
}

const WIDTHS = [64, 128, 256, 512] as const;

function buildResnet18(config: ArchConfig, rng: Rng, tag: string): Network {
  const b = new ParamBuilder(rng, tag);
  const conv1 = b.conv('conv1', 7, config.inChannels, 64);
  const bn1 = b.bn('bn1', 64);
  const blocks: BasicBlock[] = [];
  let cin = 64;
  WIDTHS.forEach((width, stage) => {
    for (let i = 0; i < 2; i++) {
      const stride = stage > 0 && i === 0 ? 2 : 1;
      blocks.push(buildBlock(b, `layer${stage + 1}.${i}`, cin, width, stride));
      cin = width;
    }
  });
  const fc = b.linear('fc', 512, config.numClasses);
  return new ParamNetwork('resnet18', config, b.params, (x, training) => {
    let h = tf.relu(batchNorm(conv(x, conv1, 2, 3), bn1, training));
    h = tf.maxPool(h, 3, 2, 1, 'floor');
    for (const blk of blocks) h = runBlock(h, blk, training);
    return linear(globalAvgPool(h), fc);
  });
}

function exportResnet18(g: OnnxGraphBuilder, net: Network, x: string): string {
  let h = g.node('Relu', [convBn(g, net, x, 'conv1', 'bn1', 2, 3)]);
  h = g.node('MaxPool', [h], { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] });
  let cin = 64;
  WIDTHS.forEach((width, stage) => {
    for (let i = 0; i < 2; i++) {
      const name = `layer${stage + 1}.${i}`;
      const stride = stage > 0 && i === 0 ? 2 : 1;
      let out = g.node('Relu', [convBn(g, net, h, `${name}.conv1`, `${name}.bn1`, stride, 1)]);
      out = convBn(g, net, out, `${name}.conv2`, `${name}.bn2`, 1, 1);
      const identity =
        stride !== 1 || cin !== width
          ? convBn(g, net, h, `${name}.downsample.0`, `${name}.downsample.1`, stride, 0)
          : h;
      h = g.node('Relu', [g.node('Add', [out, identity])]);
      cin = width;
    }
  });
  return onnxLinear(g, net, globalPoolFlatten(g, h), 'fc');
}

export const resnet18: ArchSpec = {
  name: 'resnet18',
  description: 'ResNet-18 (torchvision layout), the backbone of the CCT paper',
  defaults: { inputSize: 112, numClasses: 7, inChannels: 3 },
  build: buildResnet18,
  exportOnnx: exportResnet18,
};
