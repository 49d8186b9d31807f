/**
 * Pretrained initialisation from PyTorch weights, mapped by torchvision parameter names
 * (`conv1.weight`, `layer1.0.bn1.running_mean`, …): a safetensors file, or the initialisers of an
 * ONNX model exported from PyTorch. Layouts are converted (conv OIHW → our HWIO, linear [out, in] →
 * [in, out]); tensors whose shape does not fit (typically the classifier head: 1000 or 8631 classes
 * against our 7) are skipped and reported, so those layers keep their fresh initialisation.
 *
 * The paper's MS-Celeb-1M ResNet-18 is a PyTorch checkpoint; convert it once with
 *   python3 -c "import torch; from safetensors.torch import save_file; sd = torch.load('resnet18_msceleb.pth', map_location='cpu'); sd = sd.get('state_dict', sd); save_file({k.removeprefix('module.'): v.float().contiguous() for k, v in sd.items()}, 'resnet18_msceleb.safetensors')"
 */
import { readFile } from 'node:fs/promises';
import onnxProto from 'onnx-proto';
import { tf } from '../engine/tf.ts';
import type { Network } from './network.ts';
import { halfToFloat } from './tfjs-weights.ts';

const { onnx } = onnxProto;

export interface NamedTensor {
  shape: number[];
  data: Float32Array;
}

export class PretrainedError extends Error {}

/** Parses a safetensors file: 8-byte little-endian header length, JSON header, raw tensor bytes. */
export function readSafetensors(bytes: Uint8Array, file = 'safetensors'): Map<string, NamedTensor> {
  if (bytes.length < 8) throw new PretrainedError(`${file}: too short to be a safetensors file`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = Number(view.getBigUint64(0, true));
  if (n <= 0 || 8 + n > bytes.length)
    throw new PretrainedError(
      `${file}: header length ${n} does not fit the file (${bytes.length} bytes)`,
    );
  let header: Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }>;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n)));
  } catch {
    throw new PretrainedError(`${file}: the header is not JSON`);
  }
  const base = 8 + n;
  const out = new Map<string, NamedTensor>();
  for (const [name, t] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    const [start, end] = t.data_offsets;
    if (!(end >= start && base + end <= bytes.length))
      throw new PretrainedError(`${file}: tensor '${name}' lies outside the file`);
    // A copy (not a view: Buffer#slice shares memory), aligned for the typed-array views below.
    const raw = new Uint8Array(bytes.subarray(base + start, base + end));
    const count = t.shape.reduce((a, b) => a * b, 1);
    let data: Float32Array;
    if (t.dtype === 'F32') data = new Float32Array(raw.buffer, 0, count);
    else if (t.dtype === 'F16') {
      const u = new Uint16Array(raw.buffer, 0, count);
      data = Float32Array.from(u, halfToFloat);
    } else if (t.dtype === 'I64')
      continue; // num_batches_tracked
    else
      throw new PretrainedError(
        `${file}: tensor '${name}' has dtype ${t.dtype}; only F32 and F16 are read`,
      );
    out.set(name, { shape: t.shape, data });
  }
  return out;
}

/** Float initialisers of an ONNX model, by name. */
export function readOnnxInitializers(bytes: Uint8Array, file = 'onnx'): Map<string, NamedTensor> {
  let model: onnxProto.onnx.ModelProto;
  try {
    model = onnx.ModelProto.decode(bytes);
  } catch (err) {
    throw new PretrainedError(`${file}: not an ONNX model (${(err as Error).message})`);
  }
  const out = new Map<string, NamedTensor>();
  for (const t of model.graph?.initializer ?? []) {
    if (t.dataType !== onnx.TensorProto.DataType.FLOAT || !t.name) continue;
    const shape = (t.dims ?? []).map(Number);
    const count = shape.reduce((a, b) => a * b, 1);
    const data =
      t.rawData && t.rawData.length
        ? new Float32Array(Uint8Array.from(t.rawData).buffer, 0, count)
        : Float32Array.from(t.floatData ?? []);
    out.set(t.name, { shape, data });
  }
  return out;
}

export async function readPretrained(file: string): Promise<Map<string, NamedTensor>> {
  const bytes = await readFile(file).catch((err: NodeJS.ErrnoException) => {
    throw new PretrainedError(`${file}: cannot read (${err.code ?? err.message})`);
  });
  return file.endsWith('.onnx') ? readOnnxInitializers(bytes, file) : readSafetensors(bytes, file);
}

/** PyTorch layout → ours for one parameter: conv OIHW → HWIO, linear [out, in] → [in, out]. */
function toOurLayout(t: NamedTensor, ours: number[]): Float32Array | undefined {
  const same = (a: number[], b: number[]) => a.length === b.length && a.every((v, i) => v === b[i]);
  if (t.shape.length === 4 && ours.length === 4) {
    const [o, i, h, w] = t.shape as [number, number, number, number];
    if (!same([h, w, i, o], ours)) return undefined;
    const out = new Float32Array(t.data.length);
    for (let a = 0; a < o; a++)
      for (let b = 0; b < i; b++)
        for (let y = 0; y < h; y++)
          for (let x = 0; x < w; x++)
            out[((y * w + x) * i + b) * o + a] = t.data[((a * i + b) * h + y) * w + x] as number;
    return out;
  }
  if (t.shape.length === 2 && ours.length === 2) {
    const [o, i] = t.shape as [number, number];
    if (!same([i, o], ours)) return undefined;
    const out = new Float32Array(t.data.length);
    for (let a = 0; a < o; a++)
      for (let b = 0; b < i; b++) out[b * o + a] = t.data[a * i + b] as number;
    return out;
  }
  return same(t.shape, ours) ? t.data : undefined;
}

export interface PretrainedReport {
  loaded: string[];
  /** Present in the file but not usable (shape mismatch), and ours that were not in the file. */
  skipped: { name: string; reason: string }[];
}

/** Assigns every parameter found (by name) in `tensors`; throws if none matched. */
export function loadPretrained(
  net: Network,
  tensors: Map<string, NamedTensor>,
  file = 'weights',
  options: { skipHead?: boolean } = {},
): PretrainedReport {
  const report: PretrainedReport = { loaded: [], skipped: [] };
  for (const p of net.params) {
    // Members share the pretrained backbone; each keeps its own random head, or CCT's members
    // would start identical and stay so (their KL term would be zero).
    if (options.skipHead && p.group === 'head') {
      report.skipped.push({ name: p.name, reason: 'head: keeps its own initialisation' });
      continue;
    }
    const t = tensors.get(p.name) ?? tensors.get(`module.${p.name}`);
    if (!t) {
      report.skipped.push({ name: p.name, reason: 'not in the file' });
      continue;
    }
    const data = toOurLayout(t, p.variable.shape);
    if (!data) {
      report.skipped.push({
        name: p.name,
        reason: `shape [${t.shape}] does not fit [${p.variable.shape}]`,
      });
      continue;
    }
    p.variable.assign(tf.tensor(data, p.variable.shape));
    report.loaded.push(p.name);
  }
  if (report.loaded.length === 0)
    throw new PretrainedError(
      `${file}: no parameter names match the ${net.arch} network (expected torchvision names such as '${net.params[0]?.name}')`,
    );
  return report;
}
