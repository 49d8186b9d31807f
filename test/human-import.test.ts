import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadGraphModel, type GraphModel } from '@tensorflow/tfjs-converter';
import { tf, type Network } from '../src/index.ts';
import { FER_TO_AFFWILD2, humanModelDir, importHumanEmotion } from '../src/models/import-human.ts';
import { useTestBackend } from './helpers/backend.ts';
import { demoFaceCrops, loadFaceApi } from './helpers/demo-faces.ts';

const LOGITS = 'StatefulPartitionedCall/model_1/global_average_pooling2d_1/Mean';

/** human's emotion preprocessing: [0,1] RGB → 64×64 → weighted grey → (g − 0.5)·2. */
function humanInput(face: tf.Tensor3D): tf.Tensor4D {
  return tf.tidy(() => {
    const x = tf.div(tf.cast(tf.expandDims(face, 0), 'float32'), 255) as tf.Tensor4D;
    const resized = tf.image.resizeBilinear(x, [64, 64], false);
    const grey = tf.sum(tf.mul(resized, tf.tensor1d([0.2989, 0.587, 0.114])), 3, true);
    return tf.mul(tf.sub(grey, 0.5), 2) as tf.Tensor4D;
  });
}

describe('mini-xception import from @vladmandic/human', () => {
  let reference: GraphModel;
  let ours: Network;
  before(async () => {
    await useTestBackend('wasm');
    const dir = humanModelDir();
    const json = JSON.parse(await readFile(join(dir, 'emotion.json'), 'utf8'));
    const bin = await readFile(join(dir, 'emotion.bin'));
    // The package's own graph model, executed by tfjs-converter exactly as human's emotion module does.
    reference = await loadGraphModel({
      load: async () => ({
        modelTopology: json.modelTopology,
        weightSpecs: json.weightsManifest[0].weights,
        weightData: bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength),
        format: json.format,
      }),
    });
    ours = await importHumanEmotion();
  });

  it(
    'reproduces the graph model logits within 1e-4 on real face crops (Aff-Wild2 order)',
    { timeout: 120_000 },
    async () => {
      const faces = await demoFaceCrops(loadFaceApi());
      assert.ok(faces.length >= 20, `${faces.length} faces`);
      let worst = 0;
      for (const face of faces) {
        const x = humanInput(face);
        const theirs = (reference.execute(x, LOGITS) as tf.Tensor).dataSync();
        const mine = tf.tidy(() => ours.apply(x, false).dataSync());
        const scale = Math.max(...Array.from(theirs, Math.abs));
        FER_TO_AFFWILD2.forEach(
          (src, c) => (worst = Math.max(worst, Math.abs(mine[c]! - theirs[src]!) / scale)),
        );
        tf.dispose([x, face]);
      }
      assert.ok(worst < 1e-4, `max relative logit difference ${worst}`);
    },
  );

  it('maps FER2013 classes into Aff-Wild2 order', () => {
    // [angry, disgust, fear, happy, sad, surprise, neutral] → [Neutral, Anger, Disgust, Fear, Happiness, Sadness, Surprise]
    assert.deepEqual(FER_TO_AFFWILD2, [6, 0, 1, 2, 3, 4, 5]);
  });
});
