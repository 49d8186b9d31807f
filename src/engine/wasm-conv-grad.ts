/**
 * Conv2D gradient kernels for the wasm backend, expressed through its XNNPACK-backed forward Conv2D.
 *
 * tfjs-backend-wasm 4.22 registers no `Conv2DBackpropFilter` (so no conv net can train on it) and
 * its `Conv2DBackpropInput` is a naive loop. Both gradients are convolutions in disguise:
 * - filter grad: correlate the (transposed) input with dy used as a filter dilated by the stride;
 * - input grad: correlate the zero-inserted, padded dy with the flipped, transposed filter.
 * Only NHWC and dilation 1 (the only case tfjs' conv2d gradient produces) are supported.
 */
import type {
  KernelConfig,
  NamedAttrMap,
  NamedTensorInfoMap,
  TensorInfo,
} from '@tensorflow/tfjs-core';
import { tf } from './tf.ts';

type Pad =
  | 'valid'
  | 'same'
  | number
  | [[number, number], [number, number], [number, number], [number, number]];
interface ConvGradAttrs {
  strides: number | [number, number];
  pad: Pad;
  dataFormat: 'NHWC' | 'NCHW';
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

/** The subset of the wasm backend we call: every tfjs backend has disposeData. */
interface Backend {
  disposeData(dataId: object, force?: boolean): boolean;
}

function kernelRunner(backend: Backend) {
  const temps: TensorInfo[] = [];
  const run = (name: string, inputs: NamedTensorInfoMap, attrs: NamedAttrMap = {}): TensorInfo => {
    const kernel = tf.getKernel(name, 'wasm');
    if (!kernel) throw new Error(`wasm backend has no '${name}' kernel`);
    const out = kernel.kernelFunc({ inputs, attrs, backend: backend as never }) as TensorInfo;
    temps.push(out);
    return out;
  };
  /** Frees every intermediate except `keep`. */
  const release = (keep: TensorInfo): void => {
    for (const t of temps) if (t !== keep) backend.disposeData(t.dataId);
  };
  return { run, release };
}

/** Crops negative padding off a 4-D NHWC tensor and returns the remaining (non-negative) pads. */
function cropNegative(
  run: ReturnType<typeof kernelRunner>['run'],
  x: TensorInfo,
  pads: [number, number, number, number],
): { x: TensorInfo; pads: [number, number, number, number] } {
  const [top, bottom, left, right] = pads;
  if (top >= 0 && bottom >= 0 && left >= 0 && right >= 0) return { x, pads };
  const [n, h, w, c] = x.shape as [number, number, number, number];
  const t0 = Math.max(0, -top);
  const l0 = Math.max(0, -left);
  const size = [n, h - t0 - Math.max(0, -bottom), w - l0 - Math.max(0, -right), c];
  const cropped = run('Slice', { x }, { begin: [0, t0, l0, 0], size });
  return {
    x: cropped,
    pads: [Math.max(0, top), Math.max(0, bottom), Math.max(0, left), Math.max(0, right)],
  };
}

function explicitConv(
  run: ReturnType<typeof kernelRunner>['run'],
  x: TensorInfo,
  filter: TensorInfo,
  pads: [number, number, number, number],
  dilations: [number, number],
): TensorInfo {
  const cropped = cropNegative(run, x, pads);
  const [top, bottom, left, right] = cropped.pads;
  return run('Conv2D', { x: cropped.x, filter }, {
    strides: [1, 1],
    dilations,
    pad: [
      [0, 0],
      [top, bottom],
      [left, right],
      [0, 0],
    ],
    dataFormat: 'NHWC',
  } as unknown as NamedAttrMap);
}

function convInfo(xShape: number[], filterShape: number[], attrs: ConvGradAttrs) {
  if (attrs.dataFormat !== 'NHWC') {
    throw new Error(
      `wasm conv gradient supports dataFormat 'NHWC' only, got '${attrs.dataFormat}'`,
    );
  }
  return tf.backend_util.computeConv2DInfo(
    xShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    attrs.strides,
    1,
    attrs.pad,
    attrs.dimRoundingMode,
  );
}

const backpropFilter: KernelConfig = {
  kernelName: 'Conv2DBackpropFilter',
  backendName: 'wasm',
  kernelFunc: ({ inputs, attrs, backend }) => {
    const { x, dy } = inputs as { x: TensorInfo; dy: TensorInfo };
    const a = attrs as unknown as ConvGradAttrs & { filterShape: number[] };
    const info = convInfo(x.shape, a.filterShape, a);
    const { run, release } = kernelRunner(backend as unknown as Backend);
    const [, h, w] = x.shape as [number, number, number, number];
    const { filterHeight: kh, filterWidth: kw, strideHeight: sh, strideWidth: sw } = info;
    const { outHeight: oh, outWidth: ow } = info;
    const xT = run('Transpose', { x }, { perm: [3, 1, 2, 0] }); // [Ci, H, W, B]
    const dyT = run('Transpose', { x: dy }, { perm: [1, 2, 0, 3] }); // [OH, OW, B, Co]
    const top = info.padInfo.top;
    const left = info.padInfo.left;
    const pads: [number, number, number, number] = [
      top,
      kh - h - top + (oh - 1) * sh,
      left,
      kw - w - left + (ow - 1) * sw,
    ];
    const g = explicitConv(run, xT, dyT, pads, [sh, sw]); // [Ci, KH, KW, Co]
    const out = run('Transpose', { x: g }, { perm: [1, 2, 0, 3] });
    release(out);
    return out;
  },
};

const backpropInput: KernelConfig = {
  kernelName: 'Conv2DBackpropInput',
  backendName: 'wasm',
  kernelFunc: ({ inputs, attrs, backend }) => {
    const { dy, filter } = inputs as { dy: TensorInfo; filter: TensorInfo };
    const a = attrs as unknown as ConvGradAttrs & { inputShape: number[] };
    const info = convInfo(a.inputShape, filter.shape, a);
    const { run, release } = kernelRunner(backend as unknown as Backend);
    const [n, h, w] = a.inputShape as [number, number, number, number];
    const { filterHeight: kh, filterWidth: kw, strideHeight: sh, strideWidth: sw } = info;
    const [, oh, ow, co] = dy.shape as [number, number, number, number];
    let dyUp = dy;
    if (sh > 1 || sw > 1) {
      // Zero-insertion: [N,OH,1,OW,1,C] padded to [N,OH,sh,OW,sw,C], then flattened back to 4-D.
      const six = run('Reshape', { x: dy }, { shape: [n, oh, 1, ow, 1, co] });
      const padded = run(
        'PadV2',
        { x: six },
        {
          paddings: [
            [0, 0],
            [0, 0],
            [0, sh - 1],
            [0, 0],
            [0, sw - 1],
            [0, 0],
          ],
          constantValue: 0,
        },
      );
      dyUp = run('Reshape', { x: padded }, { shape: [n, oh * sh, ow * sw, co] });
    }
    const flipped = run('Reverse', { x: filter }, { dims: [0, 1] });
    const filterT = run('Transpose', { x: flipped }, { perm: [0, 1, 3, 2] }); // [KH, KW, Co, Ci]
    const top = kh - 1 - info.padInfo.top;
    const left = kw - 1 - info.padInfo.left;
    const pads: [number, number, number, number] = [
      top,
      h + kh - 1 - oh * sh - top,
      left,
      w + kw - 1 - ow * sw - left,
    ];
    const out = explicitConv(run, dyUp, filterT, pads, [1, 1]);
    release(out);
    return out;
  },
};

let registered = false;

/** Registers (once) our Conv2D gradient kernels on the wasm backend, replacing the stock ones. */
export function registerWasmConvGradKernels(): void {
  if (registered) return;
  for (const config of [backpropFilter, backpropInput]) {
    if (tf.getKernel(config.kernelName, 'wasm')) tf.unregisterKernel(config.kernelName, 'wasm');
    tf.registerKernel(config);
  }
  registered = true;
}
