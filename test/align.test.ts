import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { ExpressionAnalyzer } from '../src/index.ts';
import { analyzeImage } from '../src/analysis/analyze-image.ts';
import { alignedCrops, fitSimilarity, template } from '../src/faces/align.ts';
import { FaceDetector } from '../src/faces/detector.ts';
import { useTestBackend } from './helpers/backend.ts';

const fixture = (name: string) => fileURLToPath(new URL(`../fixtures/${name}`, import.meta.url));

describe('face alignment', () => {
  before(() => useTestBackend('wasm'));

  it('fitSimilarity recovers a known rotation + scale + shift', () => {
    const [a, b, tx, ty] = [0.8 * Math.cos(0.3), 0.8 * Math.sin(0.3), 12, -7];
    const src: [number, number][] = [
      [10, 20],
      [50, 22],
      [31, 40],
      [30, 60],
    ];
    const dst = src.map(([x, y]) => [a * x - b * y + tx, b * x + a * y + ty] as [number, number]);
    const s = fitSimilarity(src, dst);
    for (const [k, v] of Object.entries({ a, b, tx, ty }))
      assert.ok(Math.abs(s[k as 'a'] - v) < 1e-9, k);
  });

  it('the warp puts each keypoint on its template position (±1 px), found by its own bright dot', () => {
    // A synthetic 200×160 image with one bright dot per keypoint; after alignment each dot must
    // land where the template puts that keypoint.
    const kp: [number, number][] = [
      [70, 60],
      [118, 70],
      [92, 92],
      [88, 118],
    ];
    const size = 64;
    for (const [i, [x, y]] of kp.entries()) {
      const img = new Uint8Array(160 * 200 * 4);
      for (let dy = -1; dy <= 1; dy++)
        for (let dx = -1; dx <= 1; dx++)
          img.fill(255, ((y + dy) * 200 + x + dx) * 4, ((y + dy) * 200 + x + dx) * 4 + 3);
      const crop = alignedCrops({ data: img, width: 200, height: 160 }, [kp], size);
      let best = [0, 0, -1];
      for (let r = 0; r < size; r++) {
        for (let c = 0; c < size; c++) {
          const v =
            crop[(r * size + c) * 3]! +
            crop[(r * size + c) * 3 + 1]! +
            crop[(r * size + c) * 3 + 2]!;
          if (v > best[2]!) best = [c, r, v];
        }
      }
      const [tx, ty] = template(size)[i]!;
      assert.ok(
        Math.hypot(best[0]! - tx, best[1]! - ty) <= 1.5,
        `keypoint ${i}: dot at ${best} vs template ${tx},${ty}`,
      );
    }
  });

  it('analyzeImage: detect + crop + classify in one call (the astronaut is Happiness)', async () => {
    const { data, info } = await sharp(fixture('astronaut.png'))
      .removeAlpha()
      .ensureAlpha()
      .raw()
      .toBuffer({ resolveWithObject: true });
    const detector = await FaceDetector.create({ model: 'short-range' });
    const analyzer = await ExpressionAnalyzer.create(
      fileURLToPath(new URL('../models/default', import.meta.url)),
    );
    const faces = await analyzeImage(
      analyzer,
      { data: new Uint8Array(data), width: info.width, height: info.height },
      detector,
    );
    assert.equal(faces.length, 1);
    assert.equal(faces[0]!.label, 'Happiness');
    assert.equal(faces[0]!.keypoints.length, 6);
    const none = await analyzeImage(
      analyzer,
      { data: new Uint8Array(64 * 64 * 4), width: 64, height: 64 },
      detector,
    );
    assert.deepEqual(none, []);
    detector.close();
    await analyzer.dispose();
  });
});
