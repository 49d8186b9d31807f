import { z } from 'zod';
import { DEFAULT_AUGMENT } from '../data/augment.ts';

const pair = z.tuple([z.number(), z.number()]);

export const augmentSchema = z
  .object({
    flipP: z.number().min(0).max(1),
    jitterAffineP: z.number().min(0).max(1),
    brightness: z.number().min(0).max(1),
    contrast: z.number().min(0).max(1),
    saturation: z.number().min(0).max(1),
    translate: z.number().min(0).max(0.5),
    scale: pair,
    eraseP: z.number().min(0).max(1),
    eraseScale: pair,
    eraseRatio: pair,
  })
  .strict();

/**
 * Every CCT hyper-parameter as data, with the paper's defaults (DESIGN.md §2). Where the paper and
 * the authors' code differ the paper wins and the code's value is noted.
 */
export const trainerConfigSchema = z
  .object({
    arch: z.string().default('resnet18'),
    inputSize: z.number().int().positive().optional(),
    numClasses: z.number().int().min(2).default(7),
    inChannels: z.number().int().positive().optional(),
    /** Number of members N (the paper: 3; ablations 1..4). */
    members: z.number().int().min(1).max(4).default(3),
    seed: z.number().int().default(0),
    maxEpochs: z.number().int().positive().default(31),
    /** Batches per epoch; null = one full pass. The released Aff-Wild2 code stops after 400. */
    iterationsPerEpoch: z.number().int().positive().nullable().default(null),
    /** The paper: 256 (the released code: 128). */
    batchSize: z.number().int().min(2).default(256),
    /**
     * Gradient accumulation: each batch is run as this many equal micro-batches whose gradients
     * are summed before one optimiser step — the paper's batch of 256 in the memory of 256/k.
     * (BatchNorm then normalises over micro-batches.) Must divide batchSize.
     */
    accumulate: z.number().int().min(1).default(1),
    lambdaMax: z.number().min(0).max(1).default(0.9),
    /** The paper: 4.0 (the released scripts: 0.65). */
    beta: z.number().nonnegative().default(4),
    rampFraction: z.number().positive().default(0.9),
    /** false = CE-only ablation (λ = 0). */
    consistency: z.boolean().default(true),
    detachTargets: z.boolean().default(false),
    scale: z.enum(['paper', 'code']).default('paper'),
    lrBackbone: z.number().positive().default(1e-3),
    lrHead: z.number().positive().default(1e-2),
    /** Every group's learning rate is multiplied by this after each epoch. */
    lrDecay: z.number().positive().max(1).default(0.95),
    oversample: z.boolean().default(false),
    /** null = no augmentation. */
    augment: augmentSchema.nullable().default({ ...DEFAULT_AUGMENT }),
    /** Per-channel normalisation applied after augmentation; default ImageNet for RGB, 0.5/0.5 for grey. */
    mean: z.array(z.number()).optional(),
    std: z.array(z.number().positive()).optional(),
  })
  .strict()
  .refine((c) => c.batchSize % c.accumulate === 0, {
    message: 'accumulate must divide batchSize',
    path: ['accumulate'],
  });

export type TrainerConfig = z.output<typeof trainerConfigSchema>;
export type TrainerConfigInput = z.input<typeof trainerConfigSchema>;

/** Validates a config, reporting the offending field by its path. */
export function parseTrainerConfig(input: unknown, source = 'trainer config'): TrainerConfig {
  const result = trainerConfigSchema.safeParse(input);
  if (!result.success) {
    const issues = result.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new Error(`invalid ${source}: ${issues.join('; ')}`);
  }
  return result.data;
}
