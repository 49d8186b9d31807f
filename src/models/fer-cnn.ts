/**
 * A VGG-style CNN sized for 48×48 grey faces (FER2013's format) and for training on two CPU cores
 * with the wasm backend: four stages of two 3×3 conv-BN-ReLU, 2×2 max-pooling between stages,
 * global average pooling, a linear head. Plain convolutions only — their gradients are XNNPACK-backed
 * on wasm (src/engine/wasm-conv-grad.ts), unlike depthwise ones. Two widths are registered:
 * `fer-cnn` (32-64-128-256) and `fer-cnn-s` (16-32-64-128, a quarter of the FLOPs).
 */
import { tf, type Tensor4D } from '../engine/tf.ts';
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

/** Layer names: stage s (1-based), conv c (1 or 2): `s{s}.conv{c}` / `s{s}.bn{c}`. */
function layerNames(stages: number): { conv: string; bn: string; stage: number }[] {
  const out: { conv: string; bn: string; stage: number }[] = [];
  for (let s = 1; s <= stages; s++)
    for (const c of [1, 2]) out.push({ conv: `s${s}.conv${c}`, bn: `s${s}.bn${c}`, stage: s });
  return out;
}

function ferCnnSpec(name: string, widths: readonly number[], description: string): ArchSpec {
  const layers = layerNames(widths.length);
  const build = (config: ArchConfig, rng: Rng, tag: string): Network => {
    const b = new ParamBuilder(rng, tag);
    let cin = config.inChannels;
    const built: { w: tf.Variable; bn: BatchNormParams; last: boolean }[] = [];
    layers.forEach((l, i) => {
      const cout = widths[l.stage - 1] as number;
      const w = b.conv(l.conv, 3, cin, cout);
      built.push({ w, bn: b.bn(l.bn, cout), last: i % 2 === 1 && l.stage < widths.length });
      cin = cout;
    });
    const fc = b.linear('fc', cin, config.numClasses);
    return new ParamNetwork(name, config, b.params, (x, training) => {
      let h: Tensor4D = x;
      for (const layer of built) {
        h = tf.relu(batchNorm(conv(h, layer.w, 1, 1), layer.bn, training));
        if (layer.last) h = tf.maxPool(h, 2, 2, 0);
      }
      return linear(globalAvgPool(h), fc);
    });
  };
  const exportOnnx = (g: OnnxGraphBuilder, net: Network, x: string): string => {
    let h = x;
    layers.forEach((l, i) => {
      h = g.node('Relu', [convBn(g, net, h, l.conv, l.bn, 1, 1)]);
      if (i % 2 === 1 && l.stage < widths.length)
        h = g.node('MaxPool', [h], { kernel_shape: [2, 2], strides: [2, 2] });
    });
    return onnxLinear(g, net, globalPoolFlatten(g, h), 'fc');
  };
  return {
    name,
    description,
    defaults: { inputSize: 48, numClasses: 7, inChannels: 1 },
    build,
    exportOnnx,
  };
}

export const ferCnn = ferCnnSpec(
  'fer-cnn',
  [32, 64, 128, 256],
  'VGG-style CNN for 48×48 grey faces (2×conv per stage, 32-64-128-256)',
);
export const ferCnnSmall = ferCnnSpec(
  'fer-cnn-s',
  [16, 32, 64, 128],
  'VGG-style CNN for 48×48 grey faces, quarter width (16-32-64-128)',
);
