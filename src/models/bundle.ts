/**
 * Model bundles: one directory with `manifest.json`, one weights file per member and `ensemble.onnx`.
 * The manifest mirrors timm's pretrained configs: architecture, classes, each member's own
 * preprocessing, provenance and licence. Everything is validated at load (errors name the field or
 * file) and written atomically (temporary directory + rename).
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeDirAtomic } from '../util/atomic.ts';
import { z } from 'zod';
import { tf } from '../engine/tf.ts';
import { exportEnsembleOnnx, type EnsembleMember } from './ensemble-export.ts';
import { verifyEnsembleExport, type ExportCheck } from './ensemble-verify.ts';
import type { Network } from './network.ts';
import { CROP_MODES, cropInputs } from './preprocess.ts';
import { createModel, listArchs } from './registry.ts';

export const BUNDLE_FORMAT = 'cctfer-bundle';
export const BUNDLE_VERSION = 1;
const MANIFEST = 'manifest.json';
const ONNX_FILE = 'ensemble.onnx';

const sha256 = z.string().regex(/^[0-9a-f]{64}$/, 'expected a hex SHA-256');

export const preprocessingSchema = z
  .object({
    /** See CropMode: 'aligned', 'box' or 'fer'. */
    crop: z.enum(CROP_MODES),
    inputSize: z.number().int().positive(),
    color: z.enum(['rgb', 'grey']),
    /** Applied to pixels scaled to [0,1]. */
    mean: z.array(z.number()),
    std: z.array(z.number().positive()),
  })
  .strict();

const memberSchema = z
  .object({
    arch: z.string(),
    config: z
      .object({
        inputSize: z.number().int().positive(),
        numClasses: z.number().int().min(2),
        inChannels: z.number().int().positive(),
      })
      .strict(),
    weights: z
      .object({
        file: z.string().regex(/^[\w.-]+$/, 'a plain file name inside the bundle'),
        sha256,
        tensors: z.array(
          z
            .object({
              name: z.string(),
              shape: z.array(z.number().int().nonnegative()),
              offset: z.number().int().nonnegative(),
            })
            .strict(),
        ),
      })
      .strict(),
    preprocessing: preprocessingSchema,
  })
  .strict();

export const bundleManifestSchema = z
  .object({
    format: z.literal(BUNDLE_FORMAT),
    version: z.literal(BUNDLE_VERSION),
    name: z.string().min(1),
    description: z.string().default(''),
    classes: z.array(z.string().min(1)).min(2),
    members: z.array(memberSchema).min(1).max(8),
    onnx: z
      .object({
        file: z.literal(ONNX_FILE),
        sha256,
        /** One NHWC RGB [0,1] input per crop mode, at the largest size its members take. */
        inputs: z
          .array(z.object({ mode: z.enum(CROP_MODES), size: z.number().int().positive() }).strict())
          .min(1),
        verified: z.object({ logitsRelError: z.number(), samples: z.number().int() }).strict(),
      })
      .strict(),
    provenance: z
      .object({
        source: z.string().min(1),
        licence: z.string().min(1),
        createdAt: z.string(),
        notes: z.string().optional(),
        /** Training data (what, which split, how many images). */
        data: z.string().optional(),
        /** Which labels the members were trained on. */
        labels: z.string().optional(),
        /** The command that trained the members. */
        command: z.string().optional(),
      })
      .strict(),
    metrics: z.record(z.number()).optional(),
  })
  .strict()
  .superRefine((m, ctx) => {
    m.members.forEach((member, j) => {
      if (member.config.numClasses !== m.classes.length) {
        ctx.addIssue({
          code: 'custom',
          path: ['members', j, 'config', 'numClasses'],
          message: `is ${member.config.numClasses} but the bundle lists ${m.classes.length} classes`,
        });
      }
      if (member.preprocessing.inputSize !== member.config.inputSize) {
        ctx.addIssue({
          code: 'custom',
          path: ['members', j, 'preprocessing', 'inputSize'],
          message: `is ${member.preprocessing.inputSize} but the network takes ${member.config.inputSize}`,
        });
      }
    });
  });

export type BundleManifest = z.output<typeof bundleManifestSchema>;
export type Preprocessing = z.output<typeof preprocessingSchema>;

export class BundleError extends Error {
  constructor(dir: string, message: string) {
    super(`bundle ${dir}: ${message}`);
    this.name = 'BundleError';
  }
}

const digest = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

export interface WriteBundleOptions {
  name: string;
  description?: string;
  classes: readonly string[];
  provenance: Omit<BundleManifest['provenance'], 'createdAt'>;
  metrics?: Record<string, number>;
}

/** Writes members + verified ONNX export + manifest to `dir`, atomically. */
export async function writeBundle(
  dir: string,
  members: EnsembleMember[],
  options: WriteBundleOptions,
): Promise<BundleManifest> {
  if (members.length === 0) throw new Error('a bundle needs at least one member');
  const onnxBytes = exportEnsembleOnnx(members);
  const check: ExportCheck = await verifyEnsembleExport(members, onnxBytes);
  const files = new Map<string, Uint8Array>([[ONNX_FILE, onnxBytes]]);
  const memberEntries = members.map(({ net, pre }, j) => {
    const tensors: { name: string; shape: number[]; offset: number }[] = [];
    const chunks: Uint8Array[] = [];
    let offset = 0;
    for (const p of net.params) {
      const values = Float32Array.from(p.variable.dataSync() as Float32Array);
      tensors.push({ name: p.name, shape: p.variable.shape, offset });
      chunks.push(new Uint8Array(values.buffer));
      offset += values.byteLength;
    }
    const bytes = Buffer.concat(chunks);
    const file = `member${j}.bin`;
    files.set(file, bytes);
    return {
      arch: net.arch,
      config: { ...net.config },
      weights: { file, sha256: digest(bytes), tensors },
      preprocessing: { ...pre },
    };
  });
  const manifest = bundleManifestSchema.parse({
    format: BUNDLE_FORMAT,
    version: BUNDLE_VERSION,
    name: options.name,
    description: options.description ?? '',
    classes: [...options.classes],
    members: memberEntries,
    onnx: {
      file: ONNX_FILE,
      sha256: digest(onnxBytes),
      inputs: cropInputs(members.map((m) => m.pre)),
      verified: { logitsRelError: check.logitsRelError, samples: check.samples },
    },
    provenance: { ...options.provenance, createdAt: new Date().toISOString() },
    ...(options.metrics && { metrics: options.metrics }),
  });
  files.set(MANIFEST, new TextEncoder().encode(`${JSON.stringify(manifest, null, 2)}\n`));
  await writeDirAtomic(dir, files);
  return manifest;
}

async function readChecked(dir: string, file: string, expected: string): Promise<Buffer> {
  let bytes: Buffer;
  try {
    bytes = await readFile(join(dir, file));
  } catch {
    throw new BundleError(dir, `file '${file}' named in ${MANIFEST} is missing`);
  }
  const got = digest(bytes);
  if (got !== expected)
    throw new BundleError(
      dir,
      `file '${file}' has sha256 ${got}, the manifest says ${expected} (corrupt or replaced)`,
    );
  return bytes;
}

/** Reads and validates `manifest.json` (schema, known architectures). Files are checked by the loaders. */
export async function readBundleManifest(dir: string): Promise<BundleManifest> {
  let text: string;
  try {
    text = await readFile(join(dir, MANIFEST), 'utf8');
  } catch {
    throw new BundleError(dir, `no ${MANIFEST} (is this a cctfer model bundle?)`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new BundleError(dir, `${MANIFEST} is not valid JSON: ${(err as Error).message}`);
  }
  const parsed = bundleManifestSchema.safeParse(json);
  if (!parsed.success) {
    throw new BundleError(
      dir,
      `${MANIFEST}: ${parsed.error.issues.map((i) => `field '${i.path.join('.')}' ${i.message}`).join('; ')}`,
    );
  }
  for (const [j, m] of parsed.data.members.entries()) {
    if (!listArchs().includes(m.arch)) {
      throw new BundleError(
        dir,
        `member ${j} has unknown architecture '${m.arch}' (known: ${listArchs().join(', ')})`,
      );
    }
  }
  return parsed.data;
}

/** The ONNX graph's bytes, checksum-verified. */
export async function readBundleOnnx(dir: string, manifest: BundleManifest): Promise<Uint8Array> {
  return readChecked(dir, manifest.onnx.file, manifest.onnx.sha256);
}

/** Builds the member networks (tfjs) from their weight files; nothing is half-loaded on error. */
export async function loadBundleMembers(
  dir: string,
  manifest: BundleManifest,
): Promise<EnsembleMember[]> {
  const buffers = await Promise.all(
    manifest.members.map((m) => readChecked(dir, m.weights.file, m.weights.sha256)),
  );
  const nets: Network[] = [];
  try {
    manifest.members.forEach((m, j) => {
      const net = createModel(m.arch, { ...m.config });
      nets.push(net);
      const bytes = buffers[j] as Buffer;
      const byName = new Map(m.weights.tensors.map((t) => [t.name, t]));
      const values = net.params.map((p) => {
        const t = byName.get(p.name);
        if (!t) throw new BundleError(dir, `member ${j} weights lack tensor '${p.name}'`);
        if (t.shape.join(',') !== p.variable.shape.join(',')) {
          throw new BundleError(
            dir,
            `member ${j} tensor '${p.name}' has shape [${t.shape}], ${m.arch} needs [${p.variable.shape}]`,
          );
        }
        const end = t.offset + p.variable.size * 4;
        if (end > bytes.byteLength)
          throw new BundleError(
            dir,
            `member ${j} tensor '${p.name}' lies outside ${m.weights.file}`,
          );
        return new Float32Array(
          bytes.buffer.slice(bytes.byteOffset + t.offset, bytes.byteOffset + end),
        );
      });
      net.params.forEach((p, i) =>
        p.variable.assign(tf.tensor(values[i] as Float32Array, p.variable.shape)),
      );
    });
    return nets.map((net, j) => ({ net, pre: manifest.members[j]!.preprocessing }));
  } catch (err) {
    for (const n of nets) n.dispose();
    throw err;
  }
}
