/** Imports @vladmandic/human's `models/emotion` graph model into our `mini-xception` architecture. */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import { tf } from '../engine/tf.ts';
import { AFFWILD2_CLASSES } from '../data/classes.ts';
import { MINI_XCEPTION_CLASSES } from './mini-xception.ts';
import type { Network } from './network.ts';
import { createModel } from './registry.ts';
import { readWeightsManifest, reorderLastAxis } from './tfjs-weights.ts';

const FROM_FER: Record<(typeof AFFWILD2_CLASSES)[number], (typeof MINI_XCEPTION_CLASSES)[number]> =
  {
    Neutral: 'neutral',
    Anger: 'angry',
    Disgust: 'disgust',
    Fear: 'fear',
    Happiness: 'happy',
    Sadness: 'sad',
    Surprise: 'surprise',
  };
/** Column order that turns the FER2013 outputs into Aff-Wild2's. */
export const FER_TO_AFFWILD2 = AFFWILD2_CLASSES.map((c) =>
  MINI_XCEPTION_CLASSES.indexOf(FROM_FER[c]),
);

const P = 'StatefulPartitionedCall/model_1/';
/** Our parameter → the graph node whose weights (input 1) and bias (input 2) it takes. */
const CONVS: Record<string, string> = {
  conv1: 'block1_conv1_act/Relu',
  conv2: 'block1_conv2_act/Relu',
  'module1.residual': 'batch_normalization_1/FusedBatchNormV3',
  'module1.sep1': 'block2_sepconv2_act/Relu',
  'module1.sep2': 'block2_sepconv2_bn/FusedBatchNormV3',
  'module2.residual': 'batch_normalization_2/FusedBatchNormV3',
  'module2.sep1': 'block3_sepconv2_act/Relu',
  'module2.sep2': 'block3_sepconv2_bn/FusedBatchNormV3',
  head: 'conv2d_5/BiasAdd',
};

const graphSchema = z.object({
  format: z.literal('graph-model'),
  modelTopology: z.object({
    node: z.array(
      z.object({ name: z.string(), op: z.string(), input: z.array(z.string()).optional() }),
    ),
  }),
  weightsManifest: z.array(z.unknown()),
});

export function humanModelDir(): string {
  try {
    // The package's exports map hides package.json: resolve its Node entry (dist/) and go up.
    return join(
      dirname(dirname(createRequire(import.meta.url).resolve('@vladmandic/human'))),
      'models',
    );
  } catch {
    throw new Error(
      'the npm package @vladmandic/human is not installed (npm install @vladmandic/human)',
    );
  }
}

/** Loads `emotion.json` + `emotion.bin`; `affwild2Order` (default true) reorders the 7 outputs. */
export async function importHumanEmotion(
  dir = humanModelDir(),
  { affwild2Order = true } = {},
): Promise<Network> {
  const file = join(dir, 'emotion.json');
  const parsed = graphSchema.safeParse(JSON.parse(await readFile(file, 'utf8')));
  if (!parsed.success)
    throw new Error(`${file}: not a tfjs graph model (${parsed.error.issues[0]?.message})`);
  const nodes = new Map(parsed.data.modelTopology.node.map((n) => [n.name, n]));
  const inputOf = (node: string, i: number) => {
    const n = nodes.get(P + node);
    const name = n?.input?.[i];
    if (!name)
      throw new Error(
        `${file}: graph node '${node}' (input ${i}) not found: not the expected mini-Xception`,
      );
    return name;
  };
  /** The depthwise filter feeding a separable conv's pointwise node. */
  const depthwiseOf = (node: string) => inputOf(inputOf(node, 0).slice(P.length), 1);
  const weights = await readWeightsManifest(file, parsed.data.weightsManifest);
  const net = createModel('mini-xception');
  try {
    for (const p of net.params) {
      const [layer, kind] = [
        p.name.slice(0, p.name.lastIndexOf('.')),
        p.name.slice(p.name.lastIndexOf('.') + 1),
      ];
      const node = CONVS[layer];
      if (!node) throw new Error(`no graph mapping for parameter '${p.name}'`);
      const source =
        kind === 'depthwise'
          ? depthwiseOf(node)
          : kind === 'bias'
            ? inputOf(node, 2)
            : inputOf(node, 1);
      const w = weights.get(source);
      if (w.shape.join(',') !== p.variable.shape.join(',')) {
        throw new Error(
          `${file}: '${source}' has shape [${w.shape}], ${p.name} needs [${p.variable.shape}]`,
        );
      }
      const values =
        affwild2Order && layer === 'head' ? reorderLastAxis(w.values, FER_TO_AFFWILD2) : w.values;
      p.variable.assign(tf.tensor(values, p.variable.shape));
    }
    return net;
  } catch (err) {
    net.dispose();
    throw err;
  }
}
