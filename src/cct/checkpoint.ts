/**
 * Checkpoints: one directory holding `checkpoint.json` (config, epoch, RNG state, tensor index,
 * checksum) and `weights.bin` (all member parameters and Adam moments, float32 little-endian).
 * Written to a temporary sibling directory and renamed into place, so a crash never leaves a
 * half-written checkpoint; loading validates everything before touching any variable.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeDirAtomic } from '../util/atomic.ts';
import { z } from 'zod';
import { tf } from '../engine/tf.ts';
import { trainerConfigSchema } from './config.ts';
import { CctTrainer } from './trainer.ts';

export const CHECKPOINT_FORMAT = 'cctfer-checkpoint';
export const CHECKPOINT_VERSION = 1;
const MANIFEST = 'checkpoint.json';
const WEIGHTS = 'weights.bin';

const tensorEntry = z
  .object({
    /** `member<j>/<param name>` or `adam.m/<i>`, `adam.v/<i>`. */
    key: z.string(),
    shape: z.array(z.number().int().nonnegative()),
    offset: z.number().int().nonnegative(),
    length: z.number().int().nonnegative(),
  })
  .strict();

const manifestSchema = z
  .object({
    format: z.literal(CHECKPOINT_FORMAT),
    version: z.literal(CHECKPOINT_VERSION),
    createdAt: z.string(),
    config: trainerConfigSchema,
    state: z
      .object({ epoch: z.number().int().nonnegative(), rngState: z.number().int().nonnegative() })
      .strict(),
    optimizer: z
      .object({ step: z.number().int().nonnegative(), lrs: z.record(z.number()) })
      .strict(),
    weights: z
      .object({
        file: z.literal(WEIGHTS),
        byteLength: z.number().int().nonnegative(),
        sha256: z.string().length(64),
      })
      .strict(),
    tensors: z.array(tensorEntry),
  })
  .strict();

export type CheckpointManifest = z.infer<typeof manifestSchema>;

export class CheckpointError extends Error {
  constructor(dir: string, message: string) {
    super(`checkpoint ${dir}: ${message}`);
    this.name = 'CheckpointError';
  }
}

/** Tensors to store, in a fixed order: member parameters (BN running stats too), then Adam moments. */
function tensorList(trainer: CctTrainer): { key: string; tensor: tf.Tensor }[] {
  const list: { key: string; tensor: tf.Tensor }[] = [];
  trainer.members.forEach((m, j) => {
    for (const p of m.params) list.push({ key: `member${j}/${p.name}`, tensor: p.variable });
  });
  const st = trainer.optimizer.getState();
  st.m.forEach((t, i) => list.push({ key: `adam.m/${i}`, tensor: t }));
  st.v.forEach((t, i) => list.push({ key: `adam.v/${i}`, tensor: t }));
  return list;
}

/** Writes a checkpoint of the trainer's complete state to `dir` atomically (replacing any old one). */
export async function saveCheckpoint(
  trainer: CctTrainer,
  dir: string,
): Promise<CheckpointManifest> {
  const list = tensorList(trainer);
  const tensors: CheckpointManifest['tensors'] = [];
  let offset = 0;
  const chunks: Buffer[] = [];
  for (const { key, tensor } of list) {
    const values = (await tensor.data()) as Float32Array;
    const buf = Buffer.from(values.buffer, values.byteOffset, values.byteLength);
    chunks.push(Buffer.from(buf)); // copy: the tensor's backing store may be reused
    tensors.push({ key, shape: tensor.shape, offset, length: values.length });
    offset += buf.byteLength;
  }
  const weights = Buffer.concat(chunks);
  const opt = trainer.optimizer.getState();
  const manifest: CheckpointManifest = {
    format: CHECKPOINT_FORMAT,
    version: CHECKPOINT_VERSION,
    createdAt: new Date().toISOString(),
    config: trainer.config,
    state: trainer.getState(),
    optimizer: { step: opt.step, lrs: opt.lrs },
    weights: {
      file: WEIGHTS,
      byteLength: weights.byteLength,
      sha256: createHash('sha256').update(weights).digest('hex'),
    },
    tensors,
  };
  await writeDirAtomic(
    dir,
    new Map<string, Uint8Array | string>([
      [WEIGHTS, weights],
      [MANIFEST, `${JSON.stringify(manifest, null, 2)}\n`],
    ]),
  );
  return manifest;
}

async function readManifest(dir: string): Promise<CheckpointManifest> {
  let text: string;
  try {
    text = await readFile(join(dir, MANIFEST), 'utf8');
  } catch (err) {
    throw new CheckpointError(dir, `cannot read ${MANIFEST}: ${(err as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new CheckpointError(
      dir,
      `${MANIFEST} is not valid JSON (${(err as Error).message}); the file may be truncated`,
    );
  }
  const parsed = manifestSchema.safeParse(json);
  if (!parsed.success) {
    const issues = parsed.error.issues.map(
      (i) => `field '${i.path.join('.') || '(root)'}': ${i.message}`,
    );
    throw new CheckpointError(dir, `${MANIFEST} is invalid: ${issues.join('; ')}`);
  }
  return parsed.data;
}

/**
 * Restores a trainer (members, optimiser, epoch, RNG) from a checkpoint. Every size, shape and the
 * checksum are verified before any tensor is created, so a bad checkpoint never half-loads.
 */
export async function loadCheckpoint(dir: string): Promise<CctTrainer> {
  const manifest = await readManifest(dir);
  let weights: Buffer;
  try {
    weights = await readFile(join(dir, manifest.weights.file));
  } catch (err) {
    throw new CheckpointError(
      dir,
      `cannot read ${manifest.weights.file}: ${(err as Error).message}`,
    );
  }
  if (weights.byteLength !== manifest.weights.byteLength) {
    throw new CheckpointError(
      dir,
      `${WEIGHTS} is ${weights.byteLength} bytes, expected ${manifest.weights.byteLength} (truncated or replaced)`,
    );
  }
  const digest = createHash('sha256').update(weights).digest('hex');
  if (digest !== manifest.weights.sha256) {
    throw new CheckpointError(
      dir,
      `${WEIGHTS} checksum mismatch (sha256 ${digest}, expected ${manifest.weights.sha256}): the file is corrupt`,
    );
  }
  const aligned = new Float32Array(weights.byteLength / 4);
  new Uint8Array(aligned.buffer).set(weights);
  const byKey = new Map(manifest.tensors.map((t) => [t.key, t]));

  const trainer = CctTrainer.create(manifest.config);
  try {
    const expected = tensorList(trainer);
    const values: Float32Array[] = expected.map(({ key, tensor }) => {
      const entry = byKey.get(key);
      if (!entry) throw new CheckpointError(dir, `tensor '${key}' is missing`);
      if (entry.shape.join(',') !== tensor.shape.join(',')) {
        throw new CheckpointError(
          dir,
          `tensor '${key}' has shape [${entry.shape}], the model needs [${tensor.shape}]`,
        );
      }
      if (entry.offset % 4 !== 0 || entry.offset + entry.length * 4 > weights.byteLength) {
        throw new CheckpointError(dir, `tensor '${key}' lies outside ${WEIGHTS}`);
      }
      return aligned.subarray(entry.offset / 4, entry.offset / 4 + entry.length);
    });
    if (byKey.size !== expected.length) {
      throw new CheckpointError(
        dir,
        `holds ${byKey.size} tensors, the model has ${expected.length}`,
      );
    }
    // All checks passed: now assign.
    const nParams = trainer.members.reduce((a, m) => a + m.params.length, 0);
    let i = 0;
    for (const m of trainer.members) {
      for (const p of m.params)
        p.variable.assign(tf.tensor(values[i++] as Float32Array, p.variable.shape));
    }
    const moments = values.slice(nParams);
    const half = moments.length / 2;
    trainer.optimizer.setState({
      step: manifest.optimizer.step,
      lrs: manifest.optimizer.lrs,
      m: moments.slice(0, half),
      v: moments.slice(half),
    });
    trainer.setState(manifest.state);
    return trainer;
  } catch (err) {
    trainer.dispose();
    throw err;
  }
}
