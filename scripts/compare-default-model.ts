/**
 * Labels real faces with the default bundle and, beside it, with the two packages its members come
 * from: the 22 faces of @vladmandic/face-api's demo photos (used from node_modules, never copied)
 * and the public-domain astronaut (fixtures/astronaut.png). Faces are found with face-api's SSD
 * detector (cctfer's own MediaPipe detector arrives with the video issue). Prints a Markdown table.
 *
 *   npx tsx scripts/compare-default-model.ts
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { loadGraphModel } from '@tensorflow/tfjs-converter';
import { AFFWILD2_CLASSES } from '../src/data/classes.ts';
import type { Box } from '../src/faces/box-crop.ts';
import { initBackend } from '../src/engine/backend.ts';
import { tf } from '../src/engine/tf.ts';
import { ExpressionAnalyzer } from '../src/models/analyzer.ts';
import { squareBoxCrops } from '../src/faces/box-crop.ts';
import { faceapiModelDir, FACEAPI_TO_AFFWILD2 } from '../src/models/import-faceapi.ts';
import { FER_TO_AFFWILD2, humanModelDir } from '../src/models/import-human.ts';

interface FaceApi {
  nets: {
    ssdMobilenetv1: { loadFromDisk(d: string): Promise<void> };
    faceExpressionNet: { loadFromDisk(d: string): Promise<void> };
  };
  SsdMobilenetv1Options: new (o: { minConfidence: number }) => unknown;
  detectAllFaces(
    img: tf.Tensor3D,
    o: unknown,
  ): {
    withFaceExpressions(): Promise<
      { detection: { box: Box }; expressions: Record<string, number> }[]
    >;
  };
}

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
await initBackend({ backend: 'wasm' });
const faceapi = createRequire(import.meta.url)(
  '@vladmandic/face-api/dist/face-api.node-wasm.js',
) as FaceApi;
const modelDir = faceapiModelDir();
await faceapi.nets.ssdMobilenetv1.loadFromDisk(modelDir);
await faceapi.nets.faceExpressionNet.loadFromDisk(modelDir);
const hjson = JSON.parse(await readFile(join(humanModelDir(), 'emotion.json'), 'utf8'));
const hbin = await readFile(join(humanModelDir(), 'emotion.bin'));
const human = await loadGraphModel({
  load: async () => ({
    modelTopology: hjson.modelTopology,
    weightSpecs: hjson.weightsManifest[0].weights,
    weightData: hbin.buffer.slice(hbin.byteOffset, hbin.byteOffset + hbin.byteLength),
  }),
});
const analyzer = await ExpressionAnalyzer.create(join(root, 'models', 'default'));
const FACEAPI = ['neutral', 'happy', 'sad', 'angry', 'fearful', 'disgusted', 'surprised'];
const argmax = (a: ArrayLike<number>) => Array.from(a).indexOf(Math.max(...Array.from(a)));

const images = [
  ...[1, 2, 3, 4, 5, 6].map((k) => ({
    name: `face-api sample${k}.jpg`,
    path: join(modelDir, '..', 'demo', `sample${k}.jpg`),
  })),
  { name: 'astronaut.png', path: join(root, 'fixtures', 'astronaut.png') },
];
console.log('| image | face | default bundle (consensus) | face-api | human (mini-Xception) |');
console.log('|---|---|---|---|---|');
const agree = { faceapi: 0, human: 0, total: 0 };
for (const { name, path } of images) {
  const { data, info } = await sharp(path)
    .removeAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  const img = tf.tensor3d(new Uint8Array(data), [info.height, info.width, 3], 'int32');
  const rgbaBuf = await sharp(path).removeAlpha().ensureAlpha().raw().toBuffer();
  const rgba = { data: new Uint8Array(rgbaBuf), width: info.width, height: info.height };
  const results = await faceapi
    .detectAllFaces(img, new faceapi.SsdMobilenetv1Options({ minConfidence: 0.2 }))
    .withFaceExpressions();
  results.sort((a, b) => a.detection.box.x - b.detection.box.x);
  for (const [i, r] of results.entries()) {
    const crop = tf.tensor4d(squareBoxCrops(rgba, [r.detection.box], 112), [1, 112, 112, 3]);
    const [pred] = await analyzer.classify({
      box: { data: crop.dataSync() as Float32Array, count: 1 },
    });
    const hProbs = tf.tidy(() => {
      const grey = tf.sum(
        tf.mul(tf.image.resizeBilinear(crop, [64, 64]), tf.tensor1d([0.2989, 0.587, 0.114])),
        3,
        true,
      );
      return (human.execute(tf.mul(tf.sub(grey, 0.5), 2)) as tf.Tensor).dataSync();
    });
    crop.dispose();
    const fa = FACEAPI.map((c) => r.expressions[c] ?? 0);
    const faLabel = AFFWILD2_CLASSES[FACEAPI_TO_AFFWILD2.indexOf(argmax(fa))]!;
    const hLabel = AFFWILD2_CLASSES[FER_TO_AFFWILD2.indexOf(argmax(hProbs))]!;
    agree.total++;
    if (faLabel === pred!.label) agree.faceapi++;
    if (hLabel === pred!.label) agree.human++;
    console.log(
      `| ${name} | ${i + 1} | ${pred!.label} (${pred!.consensus.toFixed(2)}) | ${faLabel} | ${hLabel} |`,
    );
  }
  img.dispose();
}
console.log(
  `\n${agree.total} faces; the default bundle agrees with face-api on ${agree.faceapi} and with human on ${agree.human}.`,
);
await analyzer.dispose();
