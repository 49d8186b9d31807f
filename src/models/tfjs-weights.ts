/**
 * Reads tfjs "weights manifest" files (layers/graph models and face-api's `*-weights_manifest.json`):
 * groups of binary shards holding float32 tensors, optionally uint8/uint16-quantised
 * (value = q · scale + min) or float16.
 */
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { z } from 'zod';

const weightSpec = z.object({
  name: z.string(),
  shape: z.array(z.number().int().nonnegative()),
  dtype: z.enum(['float32', 'int32']),
  quantization: z
    .object({
      dtype: z.enum(['uint8', 'uint16', 'float16']),
      scale: z.number().optional(),
      min: z.number().optional(),
    })
    .optional(),
});
const manifestSchema = z.array(
  z.object({ paths: z.array(z.string()).min(1), weights: z.array(weightSpec) }),
);

export interface NamedWeights {
  get(name: string): { shape: number[]; values: Float32Array };
  names(): string[];
}

/** IEEE 754 half precision → number. */
export function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * 2 ** -14 * (f / 1024);
  if (e === 31) return f ? NaN : s * Infinity;
  return s * 2 ** (e - 15) * (1 + f / 1024);
}

/** Parses a manifest given as JSON (an array of groups) with shard bytes read relative to `dir`. */
export async function readWeightsManifest(
  manifestPath: string,
  groups?: unknown,
): Promise<NamedWeights> {
  const raw = groups ?? JSON.parse(await readFile(manifestPath, 'utf8'));
  const parsed = manifestSchema.safeParse(raw);
  if (!parsed.success) {
    throw new Error(
      `${manifestPath}: not a tfjs weights manifest (${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')})`,
    );
  }
  const out = new Map<string, { shape: number[]; values: Float32Array }>();
  for (const group of parsed.data) {
    const shards = await Promise.all(
      group.paths.map((p) => readFile(join(dirname(manifestPath), p))),
    );
    const bytes = Buffer.concat(shards);
    let offset = 0;
    for (const w of group.weights) {
      const n = w.shape.reduce((a, b) => a * b, 1);
      const q = w.quantization;
      const width = q ? (q.dtype === 'uint8' ? 1 : 2) : 4;
      if (offset + n * width > bytes.byteLength) {
        throw new Error(
          `${manifestPath}: weight '${w.name}' needs bytes ${offset}..${offset + n * width} but the shards hold ${bytes.byteLength} (truncated)`,
        );
      }
      const values = new Float32Array(n);
      const view = new DataView(bytes.buffer, bytes.byteOffset + offset, n * width);
      for (let i = 0; i < n; i++) {
        if (!q)
          values[i] =
            w.dtype === 'int32' ? view.getInt32(4 * i, true) : view.getFloat32(4 * i, true);
        else if (q.dtype === 'float16') values[i] = halfToFloat(view.getUint16(2 * i, true));
        else
          values[i] =
            (q.dtype === 'uint8' ? view.getUint8(i) : view.getUint16(2 * i, true)) *
              (q.scale ?? 1) +
            (q.min ?? 0);
      }
      out.set(w.name, { shape: w.shape, values });
      offset += n * width;
    }
  }
  return {
    get(name) {
      const w = out.get(name);
      if (!w) throw new Error(`${manifestPath}: no weight named '${name}'`);
      return w;
    },
    names: () => [...out.keys()],
  };
}

/** Reorders the last axis of a row-major tensor: out[..., c] = values[..., order[c]]. */
export function reorderLastAxis(values: Float32Array, order: readonly number[]): Float32Array {
  const k = order.length;
  if (values.length % k !== 0)
    throw new RangeError(`cannot reorder ${values.length} values in groups of ${k}`);
  const out = new Float32Array(values.length);
  for (let r = 0; r < values.length / k; r++)
    order.forEach((src, c) => (out[r * k + c] = values[r * k + src] as number));
  return out;
}
