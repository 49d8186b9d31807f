import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { ExpressionAnalyzer, readBundleManifest, tf } from '../src/index.ts';
import { analyzeImage } from '../src/analysis/analyze-image.ts';
import { useTestBackend } from './helpers/backend.ts';
import { loadFaceApi } from './helpers/demo-faces.ts';
import { faceapiModelDir } from '../src/models/import-faceapi.ts';
import { squareBoxCrops } from '../src/faces/box-crop.ts';
import { FaceDetector } from '../src/faces/detector.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const defaultBundle = join(root, 'models', 'default');
const pairBundle = join(root, 'models', 'pretrained-pair');
const CLASSES = ['Neutral', 'Anger', 'Disgust', 'Fear', 'Happiness', 'Sadness', 'Surprise'];

async function astronautRgba() {
  const { data, info } = await sharp(join(root, 'fixtures', 'astronaut.png'))
    .removeAlpha()
    .ensureAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  return { data: new Uint8Array(data), width: info.width, height: info.height };
}

/** A square 112×112 box crop of the astronaut's face, found by face-api's SSD detector. */
async function astronautCrop(): Promise<Float32Array> {
  const faceapi = loadFaceApi();
  await faceapi.nets.ssdMobilenetv1.loadFromDisk(faceapiModelDir());
  const rgba = await astronautRgba();
  const { data, info } = await sharp(join(root, 'fixtures', 'astronaut.png'))
    .removeAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  const img = tf.tensor3d(new Uint8Array(data), [info.height, info.width, 3], 'int32');
  const dets = (await faceapi.detectAllFaces(
    img,
    new faceapi.SsdMobilenetv1Options({ minConfidence: 0.5 }),
  )) as { box: { x: number; y: number; width: number; height: number } }[];
  assert.equal(dets.length, 1, 'one face in the astronaut image');
  img.dispose();
  return squareBoxCrops(rgba, [dets[0]!.box], 112);
}

describe('the embedded default bundle (models/default): CCT-trained on FER2013 + FER+', () => {
  before(() => useTestBackend('wasm'));

  it('is a valid bundle: 3 CCT members, FER framing, Aff-Wild2 classes, data and terms recorded', async () => {
    const m = await readBundleManifest(defaultBundle);
    assert.deepEqual(m.classes, CLASSES);
    assert.equal(m.members.length, 3);
    assert.ok(m.members.every((x) => x.arch === 'fer-cnn-s'));
    assert.ok(m.members.every((x) => x.preprocessing.color === 'grey'));
    assert.deepEqual(m.onnx.inputs, [{ mode: 'fer', size: 48 }]);
    assert.match(m.description, /CCT ensemble/);
    assert.match(m.provenance.licence, /research use/);
    assert.match(m.provenance.data ?? '', /fer2013/i);
    assert.match(m.provenance.labels ?? '', /ferplus-votes/);
    assert.match(
      m.provenance.command ?? '',
      /cctfer train --config models\/recipes\/default\.json/,
    );
    assert.ok((m.metrics?.valAccuracy ?? 0) > 0.7, 'hold-out accuracy recorded');
  });

  it(
    'labels the smiling astronaut as Happiness through detect → crop → classify, on ONNX Runtime and tfjs',
    { timeout: 120_000 },
    async () => {
      const detector = await FaceDetector.create();
      const image = await astronautRgba();
      try {
        for (const engine of ['onnx', 'tfjs'] as const) {
          const analyzer = await ExpressionAnalyzer.create(defaultBundle, { engine });
          const faces = await analyzeImage(analyzer, image, detector);
          assert.equal(faces.length, 1);
          assert.equal(
            faces[0]!.label,
            'Happiness',
            `${engine}: ${JSON.stringify(faces[0]!.probs)}`,
          );
          await analyzer.dispose();
        }
      } finally {
        detector.close();
      }
    },
  );
});

describe('the pretrained pair (models/pretrained-pair): the old default, kept by name', () => {
  let dir: string;
  before(async () => {
    await useTestBackend('wasm');
    dir = await mkdtemp(join(tmpdir(), 'cctfer-pair-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('is a valid bundle: face-api + mini-Xception members, honest provenance', async () => {
    const m = await readBundleManifest(pairBundle);
    assert.deepEqual(m.classes, CLASSES);
    assert.deepEqual(
      m.members.map((x) => x.arch),
      ['faceapi-expression', 'mini-xception'],
    );
    assert.deepEqual(m.onnx.inputs, [{ mode: 'box', size: 112 }]);
    assert.match(m.description, /NOT CCT-trained/);
    assert.match(m.provenance.licence, /MIT/);
    assert.match(m.provenance.licence, /seen most FER2013 test images/);
  });

  it(
    'labels the smiling astronaut as Happiness, on ONNX Runtime and on tfjs alike',
    { timeout: 120_000 },
    async () => {
      const crop = await astronautCrop();
      for (const engine of ['onnx', 'tfjs'] as const) {
        const analyzer = await ExpressionAnalyzer.create(pairBundle, { engine });
        const [p] = await analyzer.classifyCrops({ data: crop, count: 1 });
        assert.equal(p!.label, 'Happiness', `${engine}: ${JSON.stringify(p!.probs)}`);
        assert.ok(p!.consensus > 0.9, `${engine}: consensus ${p!.consensus}`);
        await analyzer.dispose();
      }
    },
  );

  it(
    'is what scripts/build-pretrained-pair.ts builds from the installed packages (same weights)',
    { timeout: 120_000 },
    async () => {
      const out = join(dir, 'rebuilt');
      const script = join(root, 'scripts', 'build-pretrained-pair.ts');
      await promisify(execFile)(process.execPath, ['--import', 'tsx', script, '--out', out]);
      const [a, b] = await Promise.all([readBundleManifest(pairBundle), readBundleManifest(out)]);
      assert.deepEqual(
        b.members.map((x) => x.weights.sha256),
        a.members.map((x) => x.weights.sha256),
      );
    },
  );
});
