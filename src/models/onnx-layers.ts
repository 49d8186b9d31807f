/** Emits our layers as ONNX nodes (NCHW), with BatchNorm folded into the preceding convolution. */
import type { OnnxGraphBuilder } from '../engine/onnx-graph.ts';
import type { Network } from './network.ts';

const BN_EPS = 1e-5;

export function paramValues(net: Network, name: string): { values: Float32Array; shape: number[] } {
  const p = net.params.find((q) => q.name === name);
  if (!p) throw new Error(`${net.arch} has no parameter '${name}'`);
  return {
    values: Float32Array.from(p.variable.dataSync() as Float32Array),
    shape: p.variable.shape,
  };
}

/** Conv (HWIO weights, symmetric padding) followed by inference-mode BatchNorm, as one Conv node. */
export function convBn(
  g: OnnxGraphBuilder,
  net: Network,
  x: string,
  conv: string,
  bn: string,
  stride: number,
  pad: number,
): string {
  const { values: w, shape } = paramValues(net, `${conv}.weight`);
  const [kh, kw, ci, co] = shape as [number, number, number, number];
  const gamma = paramValues(net, `${bn}.weight`).values;
  const beta = paramValues(net, `${bn}.bias`).values;
  const mean = paramValues(net, `${bn}.running_mean`).values;
  const variance = paramValues(net, `${bn}.running_var`).values;
  const folded = new Float32Array(w.length);
  const bias = new Float32Array(co);
  for (let o = 0; o < co; o++) {
    const scale = (gamma[o] as number) / Math.sqrt((variance[o] as number) + BN_EPS);
    bias[o] = (beta[o] as number) - (mean[o] as number) * scale;
    for (let i = 0; i < ci; i++) {
      for (let y = 0; y < kh; y++) {
        for (let z = 0; z < kw; z++) {
          // HWIO → OIHW
          folded[((o * ci + i) * kh + y) * kw + z] =
            (w[((y * kw + z) * ci + i) * co + o] as number) * scale;
        }
      }
    }
  }
  return g.node(
    'Conv',
    [
      x,
      g.constant(`${conv}.weight`, folded, [co, ci, kh, kw]),
      g.constant(`${conv}.bias`, bias, [co]),
    ],
    {
      kernel_shape: [kh, kw],
      strides: [stride, stride],
      pads: [pad, pad, pad, pad],
    },
  );
}

/** x·W + b with W stored [in, out]. */
export function linear(g: OnnxGraphBuilder, net: Network, x: string, name: string): string {
  const w = paramValues(net, `${name}.weight`);
  const b = paramValues(net, `${name}.bias`);
  return g.node('Gemm', [
    x,
    g.constant(`${name}.weight`, w.values, w.shape),
    g.constant(`${name}.bias`, b.values, b.shape),
  ]);
}

export function globalPoolFlatten(g: OnnxGraphBuilder, x: string): string {
  return g.node('Flatten', [g.node('GlobalAveragePool', [x])], { axis: 1 });
}

/** TensorFlow 'same' padding for one spatial axis as [begin, end] (the extra pixel goes at the end). */
export function tfSamePad(size: number, k: number, stride: number): [number, number] {
  const out = Math.ceil(size / stride);
  const total = Math.max((out - 1) * stride + k - size, 0);
  return [Math.floor(total / 2), total - Math.floor(total / 2)];
}

/** Output size of a TF-style convolution or pool along one axis. */
export function tfOutSize(
  size: number,
  k: number,
  stride: number,
  padding: 'same' | 'valid',
): number {
  return padding === 'same' ? Math.ceil(size / stride) : Math.floor((size - k) / stride) + 1;
}

export interface TfConvOptions {
  stride: number;
  padding: 'same' | 'valid';
  /** Spatial size of the input (square), needed to turn 'same' into explicit pads. */
  size: number;
  /** Depthwise filter [kh, kw, C, 1] (one group per channel). */
  depthwise?: boolean;
  bias?: string;
}

/** A TF-semantics convolution (HWIO weights, 'same'/'valid' padding) as an ONNX Conv node. */
export function tfConv(
  g: OnnxGraphBuilder,
  net: Network,
  x: string,
  weight: string,
  o: TfConvOptions,
): string {
  const { values, shape } = paramValues(net, weight);
  const [kh, kw, ci, co] = shape as [number, number, number, number];
  const outC = o.depthwise ? ci : co;
  const inC = o.depthwise ? 1 : ci;
  const oihw = new Float32Array(values.length);
  for (let out = 0; out < outC; out++)
    for (let i = 0; i < inC; i++)
      for (let y = 0; y < kh; y++)
        for (let z = 0; z < kw; z++)
          oihw[((out * inC + i) * kh + y) * kw + z] = values[
            o.depthwise ? (y * kw + z) * ci + out : ((y * kw + z) * ci + i) * co + out
          ] as number;
  const [pb, pe] = o.padding === 'same' ? tfSamePad(o.size, kh, o.stride) : [0, 0];
  const inputs = [x, g.constant(weight, oihw, [outC, inC, kh, kw])];
  if (o.bias) inputs.push(g.constant(o.bias, paramValues(net, o.bias).values, [outC]));
  return g.node('Conv', inputs, {
    kernel_shape: [kh, kw],
    strides: [o.stride, o.stride],
    pads: [pb, pb, pe, pe],
    group: o.depthwise ? ci : 1,
  });
}
