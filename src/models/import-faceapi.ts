/** Imports @vladmandic/face-api's expression model into our `faceapi-expression` architecture. */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { LANDMARK_MODEL_DIR } from '../package-paths.ts';
import { tf } from '../engine/tf.ts';
import { AFFWILD2_CLASSES } from '../data/classes.ts';
import { FACEAPI_CLASSES } from './faceapi-expression.ts';
import type { Network } from './network.ts';
import { createModel } from './registry.ts';
import { readWeightsManifest, reorderLastAxis } from './tfjs-weights.ts';

const AFFWILD2_FROM_FACEAPI: Record<string, (typeof FACEAPI_CLASSES)[number]> = {
  Neutral: 'neutral',
  Anger: 'angry',
  Disgust: 'disgusted',
  Fear: 'fearful',
  Happiness: 'happy',
  Sadness: 'sad',
  Surprise: 'surprised',
};

/** Column order that turns face-api's outputs into Aff-Wild2's. */
export const FACEAPI_TO_AFFWILD2 = AFFWILD2_CLASSES.map((c) =>
  FACEAPI_CLASSES.indexOf(AFFWILD2_FROM_FACEAPI[c]!),
);

/** The model folder of the installed @vladmandic/face-api package. */
export function faceapiModelDir(): string {
  try {
    return join(
      dirname(createRequire(import.meta.url).resolve('@vladmandic/face-api/package.json')),
      'model',
    );
  } catch {
    throw new Error(
      'the npm package @vladmandic/face-api is not installed (npm install @vladmandic/face-api)',
    );
  }
}

/**
 * Loads a face-api weights manifest into one of our registered face-api architectures (parameter
 * `a.b.c` ↔ face-api weight `a/b/c`, `fc.weight` ↔ `fc/weights`); `headOrder` reorders the outputs.
 */
async function importFaceapiNet(
  arch: string,
  manifest: string,
  headOrder?: readonly number[],
): Promise<Network> {
  const weights = await readWeightsManifest(manifest);
  const net = createModel(arch);
  try {
    for (const p of net.params) {
      const source = p.name === 'fc.weight' ? 'fc/weights' : p.name.replace(/\./g, '/');
      const w = weights.get(source);
      if (w.shape.join(',') !== p.variable.shape.join(',')) {
        throw new Error(
          `face-api weight '${source}' has shape [${w.shape}], expected [${p.variable.shape}]`,
        );
      }
      const values =
        headOrder && p.name.startsWith('fc.') ? reorderLastAxis(w.values, headOrder) : w.values;
      p.variable.assign(tf.tensor(values, p.variable.shape));
    }
    return net;
  } catch (err) {
    net.dispose();
    throw err;
  }
}

/**
 * Loads `face_expression_model` from `dir` (default: the installed package). `affwild2Order`
 * (default true) reorders the head's 7 outputs into Aff-Wild2 class order.
 */
export function importFaceapiExpression(
  dir = faceapiModelDir(),
  { affwild2Order = true } = {},
): Promise<Network> {
  return importFaceapiNet(
    'faceapi-expression',
    join(dir, 'face_expression_model-weights_manifest.json'),
    affwild2Order ? FACEAPI_TO_AFFWILD2 : undefined,
  );
}

/** face-api's tiny 68-point landmark net, from `dir` (default: the copy committed in models/). */
export function importFaceapiLandmarks68Tiny(dir?: string): Promise<Network> {
  const folder = dir ?? LANDMARK_MODEL_DIR;
  return importFaceapiNet(
    'faceapi-landmark68-tiny',
    join(folder, 'face_landmark_68_tiny_model-weights_manifest.json'),
  );
}
