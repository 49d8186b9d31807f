/** A trained CCT ensemble → a model bundle (members + verified ONNX graph); shared by `train` and `model export`. */
import { writeBundle, type BundleManifest } from '../models/bundle.ts';
import { AFFWILD2_CLASSES } from '../data/classes.ts';
import type { CctTrainer } from '../cct/trainer.ts';
import type { CropMode } from '../models/preprocess.ts';

export async function exportTrainerBundle(
  trainer: CctTrainer,
  dir: string,
  o: {
    name: string;
    crop: CropMode;
    source: string;
    classes?: string[];
    metrics?: Record<string, number>;
  },
): Promise<BundleManifest> {
  const k = trainer.config.numClasses;
  const classes =
    o.classes ??
    (k === 7 ? [...AFFWILD2_CLASSES] : Array.from({ length: k }, (_, i) => `class${i}`));
  if (classes.length !== k)
    throw new Error(`${classes.length} class names given but the ensemble has ${k} classes`);
  const [size, , c] = trainer.inputShape;
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
      provenance: { source: o.source, licence: 'as the training data allows' },
      ...(o.metrics && { metrics: o.metrics }),
    },
  );
}
