import { createRequire } from 'node:module';
import { join } from 'node:path';
import sharp from 'sharp';
import { tf } from '../../src/index.ts';
import { faceapiModelDir } from '../../src/models/import-faceapi.ts';

/** The face-api package itself (its wasm build shares our tfjs-core 4.22), used as a reference. */
export interface FaceApi {
  nets: {
    ssdMobilenetv1: { loadFromDisk(dir: string): Promise<void> };
    faceExpressionNet: {
      loadFromDisk(dir: string): Promise<void>;
      runNet(input: unknown): tf.Tensor2D;
    };
  };
  SsdMobilenetv1Options: new (o: { minConfidence: number }) => unknown;
  detectAllFaces(img: tf.Tensor3D, options: unknown): Promise<unknown[]>;
  extractFaceTensors(img: tf.Tensor3D, dets: unknown[]): Promise<tf.Tensor3D[]>;
  toNetInput(
    t: tf.Tensor3D,
  ): Promise<{ toBatchTensor(size: number, center: boolean): tf.Tensor4D }>;
}

export function loadFaceApi(): FaceApi {
  return createRequire(import.meta.url)(
    '@vladmandic/face-api/dist/face-api.node-wasm.js',
  ) as FaceApi;
}

/**
 * Real face crops (int32 RGB, 0–255) from the six face-api demo photos, boxes found by face-api's
 * SSD detector. The photos are used from node_modules at test time and never copied into the repo.
 */
export async function demoFaceCrops(faceapi: FaceApi): Promise<tf.Tensor3D[]> {
  const dir = faceapiModelDir();
  await faceapi.nets.ssdMobilenetv1.loadFromDisk(dir);
  const crops: tf.Tensor3D[] = [];
  for (const k of [1, 2, 3, 4, 5, 6]) {
    const { data, info } = await sharp(join(dir, '..', 'demo', `sample${k}.jpg`))
      .removeAlpha()
      .raw()
      .toBuffer({ resolveWithObject: true });
    const img = tf.tensor3d(new Uint8Array(data), [info.height, info.width, 3], 'int32');
    const dets = await faceapi.detectAllFaces(
      img,
      new faceapi.SsdMobilenetv1Options({ minConfidence: 0.2 }),
    );
    crops.push(...(await faceapi.extractFaceTensors(img, dets)));
    img.dispose();
  }
  return crops;
}
