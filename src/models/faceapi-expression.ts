/**
 * The expression network of @vladmandic/face-api (`face_expression_model`): four dense blocks of
 * depthwise-separable convolutions (32→64→128→256, each halving the size), 7×7 average pool and a
 * fully connected layer. Input 112×112 RGB; face-api feeds (pixel − meanRGB)/255, which a bundle
 * expresses as mean = meanRGB/255, std = 1 on [0,1] pixels.
 * Outputs are in face-api's class order [neutral, happy, sad, angry, fearful, disgusted, surprised];
 * the importer reorders the head so an imported model speaks Aff-Wild2 order.
 */
import type { OnnxGraphBuilder } from '../engine/onnx-graph.ts';
import { tf, type Tensor2D, type Tensor4D, type Variable } from '../engine/tf.ts';
import type { Rng } from '../util/rng.ts';
import { linear, ParamBuilder, ParamNetwork, type ArchConfig, type Network } from './network.ts';
import { linear as onnxLinear, tfConv, tfOutSize } from './onnx-layers.ts';
import type { ArchSpec } from './registry.ts';

export const FACEAPI_CLASSES = [
  'neutral',
  'happy',
  'sad',
  'angry',
  'fearful',
  'disgusted',
  'surprised',
] as const;
/** face-api's mean RGB, subtracted from 0–255 pixels before dividing by 255. */
export const FACEAPI_MEAN_RGB = [122.782, 117.001, 104.298] as const;
const WIDTHS = [32, 64, 128, 256] as const;

interface SepConv {
  depthwise: Variable;
  pointwise: Variable;
  bias: Variable;
}

function sepConv(x: Tensor4D, p: SepConv, stride: number): Tensor4D {
  const y = tf.separableConv2d(
    x,
    p.depthwise as unknown as Tensor4D,
    p.pointwise as unknown as Tensor4D,
    stride,
    'same',
  );
  return tf.add(y, p.bias) as Tensor4D;
}

function buildFaceapiExpression(config: ArchConfig, rng: Rng, tag: string): Network {
  const b = new ParamBuilder(rng, tag);
  const blocks = WIDTHS.map((width, i) => {
    const cin = i === 0 ? config.inChannels : (WIDTHS[i - 1] as number);
    const name = `dense${i}`;
    const first =
      i === 0
        ? {
            filters: b.normal(
              `${name}.conv0.filters`,
              [3, 3, cin, width],
              Math.sqrt(2 / (9 * cin)),
            ),
            bias: b.normal(`${name}.conv0.bias`, [width], 0),
          }
        : undefined;
    const sep = (j: number, c: number): SepConv => ({
      depthwise: b.normal(`${name}.conv${j}.depthwise_filter`, [3, 3, c, 1], Math.sqrt(2 / 9)),
      pointwise: b.normal(`${name}.conv${j}.pointwise_filter`, [1, 1, c, width], Math.sqrt(2 / c)),
      bias: b.normal(`${name}.conv${j}.bias`, [width], 0),
    });
    return {
      first,
      conv0: i === 0 ? undefined : sep(0, cin),
      conv1: sep(1, width),
      conv2: sep(2, width),
      conv3: sep(3, width),
    };
  });
  const fc = b.linear('fc', 256, config.numClasses);
  return new ParamNetwork('faceapi-expression', config, b.params, (x) => {
    let h = x;
    for (const blk of blocks) {
      const out1 = tf.relu(
        blk.first
          ? tf.add(
              tf.conv2d(h, blk.first.filters as unknown as Tensor4D, 2, 'same'),
              blk.first.bias,
            )
          : sepConv(h, blk.conv0 as SepConv, 2),
      ) as Tensor4D;
      const out2 = sepConv(out1, blk.conv1, 1);
      const out3 = sepConv(tf.relu(tf.add(out1, out2)) as Tensor4D, blk.conv2, 1);
      const out4 = sepConv(tf.relu(tf.add(out1, tf.add(out2, out3))) as Tensor4D, blk.conv3, 1);
      h = tf.relu(tf.add(out1, tf.add(out2, tf.add(out3, out4)))) as Tensor4D;
    }
    const pooled = tf.avgPool(h, [7, 7], [2, 2], 'valid');
    return linear(tf.reshape(pooled, [x.shape[0], -1]) as Tensor2D, fc);
  });
}

function exportFaceapiExpression(g: OnnxGraphBuilder, net: Network, x: string): string {
  let size = net.config.inputSize;
  const sep = (input: string, name: string, stride: number) => {
    const dw = tfConv(g, net, input, `${name}.depthwise_filter`, {
      stride,
      padding: 'same',
      size,
      depthwise: true,
    });
    size = tfOutSize(size, 3, stride, 'same');
    return tfConv(g, net, dw, `${name}.pointwise_filter`, {
      stride: 1,
      padding: 'same',
      size,
      bias: `${name}.bias`,
    });
  };
  let h = x;
  WIDTHS.forEach((_, i) => {
    const n = `dense${i}`;
    let out1: string;
    if (i === 0) {
      out1 = tfConv(g, net, h, `${n}.conv0.filters`, {
        stride: 2,
        padding: 'same',
        size,
        bias: `${n}.conv0.bias`,
      });
      size = tfOutSize(size, 3, 2, 'same');
    } else {
      out1 = sep(h, `${n}.conv0`, 2);
    }
    out1 = g.node('Relu', [out1]);
    const out2 = sep(out1, `${n}.conv1`, 1);
    const out3 = sep(g.node('Relu', [g.node('Add', [out1, out2])]), `${n}.conv2`, 1);
    const s23 = g.node('Add', [out2, out3]);
    const out4 = sep(g.node('Relu', [g.node('Add', [out1, s23])]), `${n}.conv3`, 1);
    h = g.node('Relu', [g.node('Add', [out1, g.node('Add', [s23, out4])])]);
  });
  const pooled = g.node('AveragePool', [h], { kernel_shape: [7, 7], strides: [2, 2] });
  return onnxLinear(g, net, g.node('Flatten', [pooled], { axis: 1 }), 'fc');
}

export const faceapiExpression: ArchSpec = {
  name: 'faceapi-expression',
  description:
    "@vladmandic/face-api's expression network (depthwise-separable dense blocks), 112×112 RGB",
  defaults: { inputSize: 112, numClasses: 7, inChannels: 3 },
  build: buildFaceapiExpression,
  exportOnnx: exportFaceapiExpression,
};
