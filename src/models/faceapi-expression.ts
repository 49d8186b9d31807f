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
import type { ArchSpec } from './arch-spec.ts';

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
/**
 * face-api's two feature extractors: the full one (4 dense blocks of 4 convs, 32→256, used by the
 * expression and 68-landmark nets) and the tiny one (3 dense blocks of 3 convs, 32→128, used by the
 * tiny 68-landmark net). Each block halves the size; a 7×7 (full) or 14×14 (tiny) average pool
 * with stride 2 and a fully connected layer follow.
 */
interface Family {
  widths: readonly number[];
  convsPerBlock: 3 | 4;
  pool: number;
}
const FULL: Family = { widths: [32, 64, 128, 256], convsPerBlock: 4, pool: 7 };
const TINY: Family = { widths: [32, 64, 128], convsPerBlock: 3, pool: 14 };

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

function builder(arch: string, family: Family) {
  return (config: ArchConfig, rng: Rng, tag: string): Network => {
    const b = new ParamBuilder(rng, tag);
    const blocks = family.widths.map((width, i) => {
      const cin = i === 0 ? config.inChannels : (family.widths[i - 1] as number);
      const name = `dense${i}`;
      const sep = (j: number, c: number): SepConv => ({
        depthwise: b.normal(`${name}.conv${j}.depthwise_filter`, [3, 3, c, 1], Math.sqrt(2 / 9)),
        pointwise: b.normal(
          `${name}.conv${j}.pointwise_filter`,
          [1, 1, c, width],
          Math.sqrt(2 / c),
        ),
        bias: b.normal(`${name}.conv${j}.bias`, [width], 0),
      });
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
      const convs = Array.from({ length: family.convsPerBlock }, (_, j) =>
        j === 0 ? undefined : sep(j, width),
      );
      return { first, conv0: i === 0 ? undefined : sep(0, cin), convs };
    });
    const last = family.widths[family.widths.length - 1] as number;
    const fc = b.linear('fc', last, config.numClasses);
    return new ParamNetwork(arch, config, b.params, (x) => {
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
        // Dense connections: conv j sees relu(out1 + … + out_j) and the block returns relu of all.
        const outs: Tensor4D[] = [out1];
        for (let j = 1; j < family.convsPerBlock; j++) {
          const input = j === 1 ? out1 : (tf.relu(tf.addN(outs)) as Tensor4D);
          outs.push(sepConv(input, blk.convs[j] as SepConv, 1));
        }
        h = tf.relu(tf.addN(outs)) as Tensor4D;
      }
      const pooled = tf.avgPool(h, [family.pool, family.pool], [2, 2], 'valid');
      return linear(tf.reshape(pooled, [x.shape[0], -1]) as Tensor2D, fc);
    });
  };
}

function exporter(family: Family) {
  return (g: OnnxGraphBuilder, net: Network, x: string): string => {
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
    family.widths.forEach((_, i) => {
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
      const outs = [out1];
      for (let j = 1; j < family.convsPerBlock; j++) {
        const input = j === 1 ? out1 : g.node('Relu', [g.node('Sum', [...outs])]);
        outs.push(sep(input, `${n}.conv${j}`, 1));
      }
      h = g.node('Relu', [g.node('Sum', [...outs])]);
    });
    const pooled = g.node('AveragePool', [h], {
      kernel_shape: [family.pool, family.pool],
      strides: [2, 2],
    });
    return onnxLinear(g, net, g.node('Flatten', [pooled], { axis: 1 }), 'fc');
  };
}

export const faceapiExpression: ArchSpec = {
  name: 'faceapi-expression',
  description:
    "@vladmandic/face-api's expression network (depthwise-separable dense blocks), 112×112 RGB",
  defaults: { inputSize: 112, numClasses: 7, inChannels: 3 },
  build: builder('faceapi-expression', FULL),
  exportOnnx: exporter(FULL),
};

/** face-api's tiny 68-point landmark net: outputs 136 values, (x, y) per point as a fraction of the input side. */
export const faceapiLandmark68Tiny: ArchSpec = {
  name: 'faceapi-landmark68-tiny',
  description: "@vladmandic/face-api's tiny 68-point face landmark network, 112×112 RGB box crop",
  defaults: { inputSize: 112, numClasses: 136, inChannels: 3 },
  build: builder('faceapi-landmark68-tiny', TINY),
  exportOnnx: exporter(TINY),
};
