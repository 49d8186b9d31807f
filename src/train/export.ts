/** A trained CCT ensemble → a model bundle (members + verified ONNX graph); shared by `train` and `model export`. */
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { writeBundle, type BundleManifest } from '../models/bundle.ts';
import { AFFWILD2_CLASSES } from '../data/classes.ts';
import type { CctTrainer } from '../cct/trainer.ts';
import type { CropMode } from '../models/preprocess.ts';

/** What a training run records about itself for the bundles made from it (`<run>/provenance.json`). */
export const trainProvenanceSchema = z
  .object({
    data: z.string().optional(),
    labels: z.string().optional(),
    licence: z.string().min(1).optional(),
    command: z.string().optional(),
    notes: z.string().optional(),
    metrics: z.record(z.number()).optional(),
  })
  .strict();
export type TrainProvenance = z.infer<typeof trainProvenanceSchema>;

/** FER2013's and FER+'s terms, as a bundle trained on them must state. */
export const FER_LICENCE =
  'research use only: trained on FER2013 images (Kaggle "Challenges in Representation Learning" competition data, research use) with FER+ annotator votes (Microsoft FERPlus, MIT)';

export async function readTrainProvenance(file: string): Promise<TrainProvenance> {
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(file, 'utf8'));
  } catch (err) {
    throw new Error(`${file}: cannot read provenance JSON (${(err as Error).message})`);
  }
  const r = trainProvenanceSchema.safeParse(raw);
  if (!r.success)
    throw new Error(
      `${file}: ${r.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`,
    );
  return r.data;
}

export async function exportTrainerBundle(
  trainer: CctTrainer,
  dir: string,
  o: {
    name: string;
    crop: CropMode;
    source: string;
    classes?: string[];
    metrics?: Record<string, number>;
    /** Data, labels, licence terms, training command (see TrainProvenance). */
    provenance?: TrainProvenance;
  },
): Promise<BundleManifest> {
  const k = trainer.config.numClasses;
  const classes =
    o.classes ??
    (k === 7 ? [...AFFWILD2_CLASSES] : Array.from({ length: k }, (_, i) => `class${i}`));
  if (classes.length !== k)
    throw new Error(`${classes.length} class names given but the ensemble has ${k} classes`);
  const [size, , c] = trainer.inputShape;
  const { metrics: runMetrics, ...recorded } = o.provenance ?? {};
  const pre = {
    crop: o.crop,
    inputSize: size,
    color: c === 1 ? ('grey' as const) : ('rgb' as const),
    ...trainer.normalisation,
  };
  return writeBundle(
    dir,
    trainer.members.map((net) => ({ net, pre })),
    {
      name: o.name,
      description: `CCT ensemble, ${trainer.config.members} × ${trainer.config.arch}, trained by cctfer`,
      classes,
      provenance: {
        licence: 'as the training data allows',
        ...recorded,
        source: o.source,
      },
      ...((o.metrics || runMetrics) && { metrics: { ...runMetrics, ...o.metrics } }),
    },
  );
}
