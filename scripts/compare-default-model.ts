/**
 * Labels real faces with cctfer bundles (default: the embedded default and the old pretrained pair)
 * and, beside them, with face-api's and human's own expression models: the 22 faces of
 * @vladmandic/face-api's demo photos (used from node_modules, never copied) and the public-domain
 * astronaut (fixtures/astronaut.png). Faces are found with face-api's SSD detector; each bundle
 * sees the same face through cctfer's own path (MediaPipe detection → the bundle's crop → model),
 * matched to the SSD face by box overlap. Prints a Markdown table and the agreement counts.
 *
 *   npx tsx scripts/compare-default-model.ts [--bundle dir ...]
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
import { analyzeImage } from '../src/analysis/analyze-image.ts';
import { squareBoxCrops } from '../src/faces/box-crop.ts';
import { FaceDetector } from '../src/faces/detector.ts';
import { Command } from 'commander';
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
const opts = new Command('compare-default-model')
  .option('--bundle <dir...>', 'bundles to compare', [
    join(root, 'models', 'default'),
    join(root, 'models', 'pretrained-pair'),
  ])
  .parse()
  .opts<{ bundle: string[] }>();
const analyzers = await Promise.all(opts.bundle.map((b) => ExpressionAnalyzer.create(b)));
const detector = await FaceDetector.create({ minConfidence: 0.3 });
const names = analyzers.map((a) => a.manifest.name);
const FACEAPI = ['neutral', 'happy', 'sad', 'angry', 'fearful', 'disgusted', 'surprised'];
const argmax = (a: ArrayLike<number>) => Array.from(a).indexOf(Math.max(...Array.from(a)));

const images = [
  ...[1, 2, 3, 4, 5, 6].map((k) => ({
    name: `face-api sample${k}.jpg`,
    path: join(modelDir, '..', 'demo', `sample${k}.jpg`),
  })),
  { name: 'astronaut.png', path: join(root, 'fixtures', 'astronaut.png') },
];
console.log(
  `| image | face | ${names.map((n) => `${n} (consensus)`).join(' | ')} | face-api | human (mini-Xception) |`,
);
console.log(`|---|---|${names.map(() => '---|').join('')}---|---|`);
const agree = names.map(() => ({ faceapi: 0, human: 0, both: 0 }));
let total = 0;
let pairAgree = 0;
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
  // Each bundle's own path on the same image: MediaPipe faces, matched to SSD faces by IoU.
  const ours = await Promise.all(analyzers.map((a) => analyzeImage(a, rgba, detector)));
  for (const [i, r] of results.entries()) {
    const crop = tf.tensor4d(squareBoxCrops(rgba, [r.detection.box], 112), [1, 112, 112, 3]);
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
    total++;
    if (faLabel === hLabel) pairAgree++;
    const cells = ours.map((faces, b) => {
      const f = faces.reduce<(typeof faces)[number] | undefined>(
        (best, g) =>
          !best || iou(g.box, r.detection.box) > iou(best.box, r.detection.box) ? g : best,
        undefined,
      );
      if (!f || iou(f.box, r.detection.box) < 0.3) return 'not detected';
      if (f.label === faLabel) agree[b]!.faceapi++;
      if (f.label === hLabel) agree[b]!.human++;
      if (f.label === faLabel && faLabel === hLabel) agree[b]!.both++;
      return `${f.label} (${f.consensus.toFixed(2)})`;
    });
    console.log(`| ${name} | ${i + 1} | ${cells.join(' | ')} | ${faLabel} | ${hLabel} |`);
  }
  img.dispose();
}
console.log(`\n${total} faces; face-api and human agree on ${pairAgree}.`);
names.forEach((n, b) =>
  console.log(
    `${n}: agrees with face-api on ${agree[b]!.faceapi}, with human on ${agree[b]!.human}, with both on ${agree[b]!.both} of the ${pairAgree} faces where those two agree.`,
  ),
);
detector.close();
await Promise.all(analyzers.map((a) => a.dispose()));

function iou(a: Box, b: Box): number {
  const ix = Math.max(0, Math.min(a.x + a.width, b.x + b.width) - Math.max(a.x, b.x));
  const iy = Math.max(0, Math.min(a.y + a.height, b.y + b.height) - Math.max(a.y, b.y));
  const inter = ix * iy;
  return inter / (a.width * a.height + b.width * b.height - inter);
}
