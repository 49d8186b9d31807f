/**
 * A model bundle's manifest and checked file reads: everything ONNX inference needs, with no
 * training engine or architecture imported. Writing and tfjs loading live in bundle.ts.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { CROP_MODES } from './crop-modes.ts';

export const BUNDLE_FORMAT = 'cctfer-bundle';
export const BUNDLE_VERSION = 1;
export const MANIFEST = 'manifest.json';
export const ONNX_FILE = 'ensemble.onnx';

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

export const digest = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

export async function readChecked(dir: string, file: string, expected: string): Promise<Buffer> {
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

/**
 * Reads and validates `manifest.json`. Files are checked by the loaders; member architectures by
 * loadBundleMembers (the ONNX graph needs none of them).
 */
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
  return parsed.data;
}

/** The ONNX graph's bytes, checksum-verified. */
export async function readBundleOnnx(dir: string, manifest: BundleManifest): Promise<Uint8Array> {
  return readChecked(dir, manifest.onnx.file, manifest.onnx.sha256);
}
