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
import { useTestBackend } from './helpers/backend.ts';
import { loadFaceApi } from './helpers/demo-faces.ts';
import { faceapiModelDir } from '../src/models/import-faceapi.ts';
import { squareBoxCrops } from '../src/faces/box-crop.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const bundle = join(root, 'models', 'default');

/** A square 112×112 box crop of the astronaut's face, found by face-api's SSD detector. */
async function astronautCrop(): Promise<Float32Array> {
  const faceapi = loadFaceApi();
  await faceapi.nets.ssdMobilenetv1.loadFromDisk(faceapiModelDir());
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
  const rgba = await sharp(join(root, 'fixtures', 'astronaut.png'))
    .removeAlpha()
    .ensureAlpha()
    .raw()
    .toBuffer();
  const out = squareBoxCrops(
    { data: new Uint8Array(rgba), width: info.width, height: info.height },
    [dets[0]!.box],
    112,
  );
  img.dispose();
  return out;
}

describe('the embedded default bundle (models/default)', () => {
  let dir: string;
  before(async () => {
    await useTestBackend('wasm');
    dir = await mkdtemp(join(tmpdir(), 'cctfer-default-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('is a valid bundle: face-api + mini-Xception members, Aff-Wild2 classes, honest provenance', async () => {
    const m = await readBundleManifest(bundle);
    assert.deepEqual(m.classes, [
      'Neutral',
      'Anger',
      'Disgust',
      'Fear',
      'Happiness',
      'Sadness',
      'Surprise',
    ]);
    assert.deepEqual(
      m.members.map((x) => x.arch),
      ['faceapi-expression', 'mini-xception'],
    );
    assert.deepEqual(m.onnx.inputs, [{ mode: 'box', size: 112 }]);
    assert.match(m.description, /NOT CCT-trained/);
    assert.match(m.provenance.licence, /MIT/);
  });

  it(
    'labels the smiling astronaut as Happiness, on ONNX Runtime and on tfjs alike',
    { timeout: 120_000 },
    async () => {
      const crop = await astronautCrop();
      for (const engine of ['onnx', 'tfjs'] as const) {
        const analyzer = await ExpressionAnalyzer.create(bundle, { engine });
        const [p] = await analyzer.classifyCrops({ data: crop, count: 1 });
        assert.equal(p!.label, 'Happiness', `${engine}: ${JSON.stringify(p!.probs)}`);
        assert.ok(p!.consensus > 0.9, `${engine}: consensus ${p!.consensus}`);
        await analyzer.dispose();
      }
    },
  );

  it(
    'is what scripts/build-default-bundle.ts builds from the installed packages (same weights)',
    { timeout: 120_000 },
    async () => {
      const out = join(dir, 'rebuilt');
      const script = join(root, 'scripts', 'build-default-bundle.ts');
      await promisify(execFile)(process.execPath, ['--import', 'tsx', script, '--out', out]);
      const [a, b] = await Promise.all([readBundleManifest(bundle), readBundleManifest(out)]);
      assert.deepEqual(
        b.members.map((x) => x.weights.sha256),
        a.members.map((x) => x.weights.sha256),
      );
    },
  );
});
