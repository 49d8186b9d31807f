import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { tf } from '../src/index.ts';
import { FaceDetector, type FaceDetection, type RgbaImage } from '../src/faces/detector.ts';
import { faceapiModelDir } from '../src/models/import-faceapi.ts';
import { useTestBackend } from './helpers/backend.ts';
import { loadFaceApi } from './helpers/demo-faces.ts';

type Box = { x: number; y: number; width: number; height: number };

async function rgba(path: string): Promise<RgbaImage & { data: Uint8Array }> {
  const { data, info } = await sharp(path)
    .removeAlpha()
    .ensureAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  return { data: new Uint8Array(data), width: info.width, height: info.height };
}

function iou(a: Box, b: Box): number {
  const x1 = Math.max(a.x, b.x);
  const y1 = Math.max(a.y, b.y);
  const x2 = Math.min(a.x + a.width, b.x + b.width);
  const y2 = Math.min(a.y + a.height, b.y + b.height);
  const inter = Math.max(0, x2 - x1) * Math.max(0, y2 - y1);
  return inter / (a.width * a.height + b.width * b.height - inter);
}

const astronaut = fileURLToPath(new URL('../fixtures/astronaut.png', import.meta.url));
const demo = (k: number) => join(faceapiModelDir(), '..', 'demo', `sample${k}.jpg`);

describe('FaceDetector (MediaPipe BlazeFace in Node)', () => {
  let full: FaceDetector;
  let short: FaceDetector;
  before(async () => {
    await useTestBackend('wasm');
    full = await FaceDetector.create({ model: 'full-range' });
    short = await FaceDetector.create({ model: 'short-range' });
  });
  after(() => {
    full.close();
    short.close();
  });

  it('finds the astronaut with a plausible box and keypoints (eyes above the mouth, right eye on the image left)', async () => {
    for (const det of [full, short]) {
      const faces = det.detect(await rgba(astronaut));
      assert.equal(faces.length, 1);
      const f = faces[0] as FaceDetection;
      assert.ok(f.score > 0.8 && f.box.width > 60 && f.box.width < 200, JSON.stringify(f));
      assert.equal(f.keypoints.length, 6);
      const [re, le, , mouth] = f.keypoints as [
        [number, number],
        [number, number],
        unknown,
        [number, number],
      ];
      assert.ok(re[0] < le[0], 'right eye is on the image left');
      assert.ok(re[1] < mouth[1] && le[1] < mouth[1], 'eyes above the mouth');
      for (const [x, y] of f.keypoints)
        assert.ok(
          x >= f.box.x - 10 && x <= f.box.x + f.box.width + 10 && y >= f.box.y - 10,
          'keypoints near the box',
        );
    }
  });

  it(
    "full range finds ≥ 20 of the 22 faces of the face-api demo photos, boxes matching face-api's own (IoU ≥ 0.3)",
    { timeout: 120_000 },
    async () => {
      const faceapi = loadFaceApi();
      await faceapi.nets.ssdMobilenetv1.loadFromDisk(faceapiModelDir());
      let reference = 0;
      let matched = 0;
      let extra = 0;
      for (const k of [1, 2, 3, 4, 5, 6]) {
        const img = await rgba(demo(k));
        const ours = full.detect(img);
        const t = tf.tidy(() =>
          tf.slice(
            tf.tensor3d(img.data, [img.height, img.width, 4], 'int32'),
            [0, 0, 0],
            [img.height, img.width, 3],
          ),
        ) as tf.Tensor3D;
        const theirs = (
          (await faceapi.detectAllFaces(
            t,
            new faceapi.SsdMobilenetv1Options({ minConfidence: 0.2 }),
          )) as { box: Box }[]
        ).map((d) => d.box);
        t.dispose();
        reference += theirs.length;
        matched += theirs.filter((b) => ours.some((o) => iou(o.box, b) >= 0.3)).length;
        extra += ours.filter((o) => !theirs.some((b) => iou(o.box, b) >= 0.3)).length;
      }
      assert.equal(reference, 22);
      assert.ok(matched >= 20, `matched ${matched} of ${reference}`);
      assert.ok(extra <= 2, `${extra} detections with no face-api counterpart`);
    },
  );

  it('an image without faces gives an empty result', () => {
    const blank = { data: new Uint8Array(320 * 240 * 4).fill(128), width: 320, height: 240 };
    assert.deepEqual(full.detect(blank), []);
  });

  it('VIDEO mode: increasing timestamps required; each mode has its own method; close() is idempotent', async () => {
    const video = await FaceDetector.create({ model: 'short-range', runningMode: 'VIDEO' });
    const img = await rgba(astronaut);
    assert.equal(video.detectForVideo(img, 0).length, 1);
    assert.equal(video.detectForVideo(img, 40).length, 1);
    assert.throws(
      () => video.detectForVideo(img, 40),
      /timestamps must increase: got 40 ms after 40 ms/,
    );
    assert.throws(
      () => video.detect(img),
      /detect\(\) needs runningMode 'IMAGE'; this detector was created with 'VIDEO'/,
    );
    assert.throws(
      () => full.detectForVideo(img, 1),
      /detectForVideo\(\) needs runningMode 'VIDEO'/,
    );
    assert.throws(
      () => full.detect({ data: new Uint8Array(10), width: 4, height: 4 }),
      /image data holds 10 bytes; 4×4 RGBA needs 64/,
    );
    video.close();
    video.close();
    assert.throws(() => video.detectForVideo(img, 80), /FaceDetector is closed/);
  });
});
