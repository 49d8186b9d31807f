/**
 * `cctfer train --config <file>`: the data section (where Aff-Wild2 lives, the cache, crops) next
 * to every CCT hyper-parameter (trainerConfigSchema, the paper's defaults). Relative paths are
 * resolved against the config file's directory.
 */
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { z } from 'zod';
import { trainerConfigSchema } from '../cct/config.ts';
import { imageSetSchema } from './image-sets.ts';
import { ferDataSchema } from './fer-sets.ts';
import { CROP_MODES } from '../models/preprocess.ts';

export const affwild2DataSchema = z
  .object({
    /** Folder of the Aff-Wild2 videos. */
    videos: z.string(),
    /** Annotation folders (e.g. …/Train_Set and …/Validation_Set). */
    train: z.string(),
    val: z.string(),
    /** Crop cache folder (built once, reused). */
    cache: z.string(),
    /** Read the organisers' cropped_aligned/<entry>/NNNNN.jpg instead of detecting. */
    croppedAligned: z.string().optional(),
    crop: z.enum(CROP_MODES).default('aligned'),
    /** Crop size; defaults to the trainer's input size (112). */
    size: z.number().int().positive().optional(),
    /** Keep every n-th labelled frame. */
    everyNth: z.number().int().positive().default(1),
    /** Still-image datasets added to the training set (RAF-DB, AffectNet, FER2013). */
    extra: z.array(imageSetSchema).default([]),
  })
  .strict();

export const trainRunSchema = z
  .object({
    /** Aff-Wild2 (videos + annotation files), or FER2013 + FER+ votes ({ "fer": [...] }). */
    data: z.union([affwild2DataSchema, ferDataSchema]),
    trainer: trainerConfigSchema,
    /**
     * Initialise every member from these PyTorch weights (safetensors, or an ONNX file's
     * initialisers), by torchvision names; layers that do not fit (the head) keep their own.
     */
    pretrained: z.string().optional(),
    /**
     * Start from another run's checkpoint folder: its weights, optimiser state, trainer settings
     * and epoch count; this run goes on with its own data and labels (a fine-tuning stage).
     */
    continueFrom: z.string().optional(),
    /**
     * Stop once this many epochs are trained (and export the best so far). The schedule — λ ramp,
     * learning-rate decay — still spans trainer.maxEpochs, so a later stage can go on from here.
     */
    stopAfterEpoch: z.number().int().positive().optional(),
    /**
     * Logit adjustment baked into the exported bundle: class c's logit − τ·log(prior_c), the prior
     * being the training labels' class frequencies (src/train/logit-adjust.ts). 0 = none.
     */
    logitAdjust: z.number().min(0).max(2).default(0),
    /**
     * One member per worker thread (its own wasm heap and core, the exact joint gradient):
     * 'auto' = on for the wasm backend with ≥ 2 members. Needed for 3 × ResNet-18 at 224².
     */
    memberWorkers: z.union([z.literal('auto'), z.boolean()]).default('auto'),
    /** Run folder: checkpoints, log, plots, the exported bundle. */
    out: z.string(),
    /** Bundle name (default: the run folder's name). */
    bundleName: z.string().optional(),
  })
  .strict()
  .refine((r) => !(r.pretrained && r.continueFrom), {
    message: 'pretrained and continueFrom exclude each other (a continued run has its weights)',
    path: ['continueFrom'],
  });

export type TrainRun = z.output<typeof trainRunSchema>;
export type Affwild2Data = z.output<typeof affwild2DataSchema>;

export async function readTrainConfig(file: string): Promise<TrainRun> {
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(file, 'utf8'));
  } catch (err) {
    throw new Error(
      `${file}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : `not valid JSON (${(err as Error).message})`}`,
    );
  }
  const parsed = trainRunSchema.safeParse(raw);
  if (!parsed.success)
    throw new Error(
      `${file}: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`,
    );
  const base = dirname(resolve(file));
  const at = (p: string) => resolve(base, p);
  const d = parsed.data.data;
  const common = {
    ...parsed.data,
    out: at(parsed.data.out),
    ...(parsed.data.pretrained && { pretrained: at(parsed.data.pretrained) }),
    ...(parsed.data.continueFrom && { continueFrom: at(parsed.data.continueFrom) }),
  };
  if ('fer' in d) return { ...common, data: { ...d, fer: d.fer.map(at) } };
  return {
    ...common,
    data: {
      ...d,
      videos: at(d.videos),
      train: at(d.train),
      val: at(d.val),
      cache: at(d.cache),
      ...(d.croppedAligned && { croppedAligned: at(d.croppedAligned) }),
      extra: d.extra.map((e) => ({
        ...e,
        labels: at(e.labels),
        ...(e.images && { images: at(e.images) }),
      })),
    },
  };
}
