import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { tf, type Network } from '../src/index.ts';
import {
  FACEAPI_TO_AFFWILD2,
  faceapiModelDir,
  importFaceapiExpression,
  importFaceapiLandmarks68Tiny,
} from '../src/models/import-faceapi.ts';
import { FACEAPI_MEAN_RGB } from '../src/models/faceapi-expression.ts';
import { useTestBackend } from './helpers/backend.ts';
import { demoFaceCrops, loadFaceApi, type FaceApi } from './helpers/demo-faces.ts';

/** Our network on face-api's own preprocessed input: (pixel − mean RGB) / 255 at 112×112. */
function ourLogits(
  net: Network,
  input: { toBatchTensor(size: number, center: boolean): tf.Tensor4D },
) {
  return tf.tidy(() => {
    const batch = tf.cast(input.toBatchTensor(112, true), 'float32');
    return net
      .apply(tf.div(tf.sub(batch, tf.tensor1d([...FACEAPI_MEAN_RGB])), 255) as tf.Tensor4D, false)
      .dataSync();
  });
}

describe('faceapi-expression import', () => {
  let faceapi: FaceApi;
  let ours: Network;
  const dir = faceapiModelDir();
  before(async () => {
    await useTestBackend('wasm');
    faceapi = loadFaceApi();
    await faceapi.nets.faceExpressionNet.loadFromDisk(dir);
    ours = await importFaceapiExpression();
  });

  it(
    'reproduces face-api logits within 1e-4 on the real faces of the demo photos (Aff-Wild2 order)',
    { timeout: 120_000 },
    async () => {
      let faces = 0;
      let worst = 0;
      for (const face of await demoFaceCrops(faceapi)) {
        const input = await faceapi.toNetInput(face);
        const theirs = faceapi.nets.faceExpressionNet.runNet(input).dataSync();
        const mine = ourLogits(ours, input);
        const scale = Math.max(...Array.from(theirs, Math.abs));
        FACEAPI_TO_AFFWILD2.forEach(
          (src, c) => (worst = Math.max(worst, Math.abs(mine[c]! - theirs[src]!) / scale)),
        );
        faces++;
        face.dispose();
      }
      assert.ok(faces >= 20, `face-api found ${faces} faces in the demo photos`);
      assert.ok(worst < 1e-4, `max relative logit difference ${worst}`);
    },
  );

  it('reorders face-api classes into Aff-Wild2 order', () => {
    // [neutral, happy, sad, angry, fearful, disgusted, surprised] → [Neutral, Anger, Disgust, Fear, Happiness, Sadness, Surprise]
    assert.deepEqual(FACEAPI_TO_AFFWILD2, [0, 3, 5, 4, 1, 2, 6]);
  });

  it('a truncated weights file is a clear error', async () => {
    const { mkdtemp, cp, truncate, rm } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const tmp = await mkdtemp(join(tmpdir(), 'cctfer-faceapi-'));
    await cp(
      join(dir, 'face_expression_model-weights_manifest.json'),
      join(tmp, 'face_expression_model-weights_manifest.json'),
    );
    await cp(join(dir, 'face_expression_model.bin'), join(tmp, 'face_expression_model.bin'));
    await truncate(join(tmp, 'face_expression_model.bin'), 1000);
    await assert.rejects(
      importFaceapiExpression(tmp),
      /weight '[\w/]+' needs bytes \d+\.\.\d+ but the shards hold 1000 \(truncated\)/,
    );
    await rm(tmp, { recursive: true, force: true });
  });
});

describe('faceapi-landmark68-tiny import (the keypoint refiner)', () => {
  it(
    "reproduces face-api's tiny 68-landmark logits within 1e-4 on real face crops",
    { timeout: 120_000 },
    async () => {
      await useTestBackend('wasm');
      const faceapi = loadFaceApi() as unknown as {
        nets: {
          faceLandmark68TinyNet: {
            loadFromDisk(d: string): Promise<void>;
            runNet(i: unknown): tf.Tensor2D;
          };
        };
        toNetInput(
          t: tf.Tensor3D,
        ): Promise<{ toBatchTensor(size: number, center: boolean): tf.Tensor4D }>;
      };
      await faceapi.nets.faceLandmark68TinyNet.loadFromDisk(faceapiModelDir());
      const ours = await importFaceapiLandmarks68Tiny();
      let worst = 0;
      let n = 0;
      for (const face of await demoFaceCrops(loadFaceApi())) {
        const input = await faceapi.toNetInput(face);
        const theirs = faceapi.nets.faceLandmark68TinyNet.runNet(input).dataSync();
        const mine = ourLogits(ours, input);
        const scale = Math.max(...Array.from(theirs, Math.abs));
        theirs.forEach((v, i) => (worst = Math.max(worst, Math.abs(v - mine[i]!) / scale)));
        face.dispose();
        n++;
      }
      assert.ok(n >= 20);
      assert.ok(worst < 1e-4, `max relative difference ${worst}`);
      ours.dispose();
    },
  );
});
