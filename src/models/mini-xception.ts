/**
 * mini-Xception (Arriaga et al., "Real-time convolutional neural networks for emotion and gender
 * classification"), as shipped by @vladmandic/human in `models/emotion` (BatchNorm already folded
 * into the convolutions): two 3×3 convs, two residual depthwise-separable modules (128, 256
 * channels), a 3×3 conv to the classes and global average pooling. 64×64 grey input normalised as
 * (g − 0.5)·2; FER2013 classes [angry, disgust, fear, happy, sad, surprise, neutral].
 */
import type { OnnxGraphBuilder } from '../engine/onnx-graph.ts';
import { tf, type Tensor2D, type Tensor4D, type Variable } from '../engine/tf.ts';
import type { Rng } from '../util/rng.ts';
import { ParamBuilder, ParamNetwork, type ArchConfig, type Network } from './network.ts';
import { tfConv, tfOutSize, tfSamePad } from './onnx-layers.ts';
import type { ArchSpec } from './arch-spec.ts';

export const MINI_XCEPTION_CLASSES = [
  'angry',
  'disgust',
  'fear',
  'happy',
  'sad',
  'surprise',
  'neutral',
] as const;

interface Conv {
  weight: Variable;
  bias: Variable;
}
interface Sep {
  depthwise: Variable;
  pointwise: Variable;
  bias: Variable;
}

const he = (fanIn: number) => Math.sqrt(2 / fanIn);

function buildMiniXception(config: ArchConfig, rng: Rng, tag: string): Network {
  const b = new ParamBuilder(rng, tag);
  const conv = (
    name: string,
    k: number,
    cin: number,
    cout: number,
    group: 'backbone' | 'head' = 'backbone',
  ): Conv => ({
    weight: b.normal(`${name}.weight`, [k, k, cin, cout], he(k * k * cin), group),
    bias: b.normal(`${name}.bias`, [cout], 0, group),
  });
  const sep = (name: string, cin: number, cout: number): Sep => ({
    depthwise: b.normal(`${name}.depthwise`, [3, 3, cin, 1], he(9)),
    pointwise: b.normal(`${name}.pointwise`, [1, 1, cin, cout], he(cin)),
    bias: b.normal(`${name}.bias`, [cout], 0),
  });
  const c1 = conv('conv1', 3, config.inChannels, 32);
  const c2 = conv('conv2', 3, 32, 64);
  const modules = [
    {
      residual: conv('module1.residual', 1, 64, 128),
      sep1: sep('module1.sep1', 64, 128),
      sep2: sep('module1.sep2', 128, 128),
      reluInput: false,
    },
    {
      residual: conv('module2.residual', 1, 128, 256),
      sep1: sep('module2.sep1', 128, 256),
      sep2: sep('module2.sep2', 256, 256),
      reluInput: true,
    },
  ];
  const head = conv('head', 3, 256, config.numClasses, 'head');
  const applyConv = (x: Tensor4D, c: Conv, stride: number, pad: 'same' | 'valid') =>
    tf.add(tf.conv2d(x, c.weight as unknown as Tensor4D, stride, pad), c.bias) as Tensor4D;
  const applySep = (x: Tensor4D, s: Sep) =>
    tf.add(
      tf.separableConv2d(
        x,
        s.depthwise as unknown as Tensor4D,
        s.pointwise as unknown as Tensor4D,
        1,
        'same',
      ),
      s.bias,
    ) as Tensor4D;
  return new ParamNetwork('mini-xception', config, b.params, (x) => {
    let h = tf.relu(applyConv(x, c1, 2, 'valid')) as Tensor4D;
    h = tf.relu(applyConv(h, c2, 1, 'valid')) as Tensor4D;
    for (const m of modules) {
      const residual = applyConv(h, m.residual, 2, 'same');
      const input = m.reluInput ? (tf.relu(h) as Tensor4D) : h;
      const s1 = tf.relu(applySep(input, m.sep1)) as Tensor4D;
      const s2 = applySep(s1, m.sep2);
      h = tf.add(tf.maxPool(s2, 3, 2, 'same'), residual) as Tensor4D;
    }
    return tf.mean(applyConv(h, head, 1, 'same'), [1, 2]) as Tensor2D;
  });
}

function exportMiniXception(g: OnnxGraphBuilder, net: Network, x: string): string {
  let size = net.config.inputSize;
  let h = g.node('Relu', [
    tfConv(g, net, x, 'conv1.weight', { stride: 2, padding: 'valid', size, bias: 'conv1.bias' }),
  ]);
  size = tfOutSize(size, 3, 2, 'valid');
  h = g.node('Relu', [
    tfConv(g, net, h, 'conv2.weight', { stride: 1, padding: 'valid', size, bias: 'conv2.bias' }),
  ]);
  size = tfOutSize(size, 3, 1, 'valid');
  const sep = (input: string, name: string) => {
    const dw = tfConv(g, net, input, `${name}.depthwise`, {
      stride: 1,
      padding: 'same',
      size,
      depthwise: true,
    });
    return tfConv(g, net, dw, `${name}.pointwise`, {
      stride: 1,
      padding: 'same',
      size,
      bias: `${name}.bias`,
    });
  };
  for (const [i, reluInput] of [
    [1, false],
    [2, true],
  ] as const) {
    const name = `module${i}`;
    const residual = tfConv(g, net, h, `${name}.residual.weight`, {
      stride: 2,
      padding: 'same',
      size,
      bias: `${name}.residual.bias`,
    });
    const s1 = g.node('Relu', [sep(reluInput ? g.node('Relu', [h]) : h, `${name}.sep1`)]);
    const s2 = sep(s1, `${name}.sep2`);
    const [pb, pe] = tfSamePad(size, 3, 2);
    const pool = g.node('MaxPool', [s2], {
      kernel_shape: [3, 3],
      strides: [2, 2],
      pads: [pb, pb, pe, pe],
    });
    size = tfOutSize(size, 3, 2, 'same');
    h = g.node('Add', [pool, residual]);
  }
  const out = tfConv(g, net, h, 'head.weight', {
    stride: 1,
    padding: 'same',
    size,
    bias: 'head.bias',
  });
  return g.node('Flatten', [g.node('GlobalAveragePool', [out])], { axis: 1 });
}

export const miniXception: ArchSpec = {
  name: 'mini-xception',
  description: "@vladmandic/human's emotion network (mini-Xception, FER2013), 64×64 grey",
  defaults: { inputSize: 64, numClasses: 7, inChannels: 1 },
  build: buildMiniXception,
  exportOnnx: exportMiniXception,
};
