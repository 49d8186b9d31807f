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

/** The subset of the wasm backend we call. */
interface Backend {
  disposeData(dataId: object, force?: boolean): boolean;
  typedArrayFromHeap(t: TensorInfo): Float32Array;
  makeOutput(
    shape: number[],
    dtype: 'float32',
    memoryOffset?: number,
    values?: Float32Array,
  ): TensorInfo;
}

/** Which filter taps one output phase of a strided transposed convolution uses. */
interface PhaseTaps {
  /** First tap index (kh ≡ r mod stride). */
  r: number;
  /** Number of taps: r, r + s, r + 2s, … < k. */
  m: number;
}

function phaseTaps(
  phase: number,
  pad: number,
  stride: number,
  k: number,
): PhaseTaps & { c: number } {
  const r = (phase + pad) % stride;
  return { r, m: r < k ? Math.ceil((k - r) / stride) : 0, c: Math.floor((phase + pad) / stride) };
}

/**
 * The sub-filter of one phase, spatially flipped and with in/out channels swapped:
 * out[i, j, co, ci] = w[rh + sh·(mh−1−i), rw + sw·(mw−1−j), ci, co]. Done in one blocked pass in
 * JS because the wasm backend's Reverse kernel is an element-by-element loop (57 ms for 3×3×512×512).
 */
export function flippedSubFilter(
  w: Float32Array,
  [kw, ci, co]: [number, number, number],
  th: PhaseTaps & { s: number },
  tw: PhaseTaps & { s: number },
): Float32Array {
  const out = new Float32Array(th.m * tw.m * ci * co);
  const plane = ci * co;
  const TILE = 32;
  for (let i = 0; i < th.m; i++) {
    for (let j = 0; j < tw.m; j++) {
      const src = ((th.r + th.s * (th.m - 1 - i)) * kw + (tw.r + tw.s * (tw.m - 1 - j))) * plane;
      const dst = (i * tw.m + j) * plane;
      for (let i0 = 0; i0 < ci; i0 += TILE) {
        const i1 = Math.min(ci, i0 + TILE);
        for (let o0 = 0; o0 < co; o0 += TILE) {
          const o1 = Math.min(co, o0 + TILE);
          for (let c = i0; c < i1; c++) {
            const row = src + c * co;
            for (let o = o0; o < o1; o++) out[dst + o * ci + c] = w[row + o] as number;
          }
        }
      }
    }
  }
  return out;
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
  return { run, release, temps };
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
    const { run, release, temps } = kernelRunner(backend as unknown as Backend);
    const wasm = backend as unknown as Backend;
    const [n, h, w, ci] = a.inputShape as [number, number, number, number];
    const { filterHeight: kh, filterWidth: kw, strideHeight: sh, strideWidth: sw } = info;
    const [, oh, ow, co] = dy.shape as [number, number, number, number];
    // Polyphase: output pixels of phase (ph, pw) — rows ≡ ph mod sh, cols ≡ pw mod sw — are a
    // stride-1 convolution of dy with the taps of that phase, so no MACs are spent on inserted zeros.
    const qh = Math.ceil(h / sh);
    const qw = Math.ceil(w / sw);
    const rows: TensorInfo[] = [];
    for (let ph = 0; ph < sh; ph++) {
      const cols: TensorInfo[] = [];
      for (let pw = 0; pw < sw; pw++) {
        const th = { ...phaseTaps(ph, info.padInfo.top, sh, kh), s: sh };
        const tw = { ...phaseTaps(pw, info.padInfo.left, sw, kw), s: sw };
        let phase: TensorInfo;
        if (th.m === 0 || tw.m === 0) {
          phase = run('Fill', {}, { shape: [n, qh, qw, ci], value: 0, dtype: 'float32' });
        } else {
          // Read through a heap view (no copy); tensors are allocated only after the loop is done.
          const values = flippedSubFilter(wasm.typedArrayFromHeap(filter), [kw, ci, co], th, tw);
          const sub = wasm.makeOutput([th.m, tw.m, co, ci], 'float32', undefined, values);
          temps.push(sub);
          const top = th.m - 1 - th.c;
          const left = tw.m - 1 - tw.c;
          const pads: [number, number, number, number] = [
            top,
            qh + th.m - 1 - oh - top,
            left,
            qw + tw.m - 1 - ow - left,
          ];
          phase = explicitConv(run, dy, sub, pads, [1, 1]);
        }
        cols.push(
          sh * sw === 1 ? phase : run('Reshape', { x: phase }, { shape: [n, qh, 1, qw, 1, ci] }),
        );
      }
      rows.push(
        cols.length === 1
          ? (cols[0] as TensorInfo)
          : run('Concat', cols as unknown as NamedTensorInfoMap, { axis: 4 }),
      );
    }
    if (sh * sw === 1) {
      const out = rows[0] as TensorInfo;
      release(out);
      return out;
    }
    const joined =
      rows.length === 1
        ? (rows[0] as TensorInfo)
        : run('Concat', rows as unknown as NamedTensorInfoMap, { axis: 2 });
    let out = run('Reshape', { x: joined }, { shape: [n, qh * sh, qw * sw, ci] });
    if (qh * sh !== h || qw * sw !== w)
      out = run('Slice', { x: out }, { begin: [0, 0, 0, 0], size: [n, h, w, ci] });
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
