/**
 * bench/faces: the cost of each stage before the model, on the 640×480 fixture clip —
 * decode fps (ffmpeg → RGBA), detection ms/frame (short vs full range), alignment ms/crop.
 *
 *   npx tsx bench/faces.ts [--clip fixtures/zoom.mp4]
 */
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { alignedCrops, FaceDetector, initBackend, type Frame } from '../src/index.ts';
import { decodeFrames } from '../src/video/decode.ts';

const opts = new Command('faces')
  .description('decode, detection and alignment speed on a 640×480 clip')
  .option(
    '--clip <file>',
    'video clip',
    fileURLToPath(new URL('../fixtures/zoom.mp4', import.meta.url)),
  )
  .option('--size <px>', 'aligned crop size', '112')
  .parse()
  .opts<{ clip: string; size: string }>();

const backend = await initBackend({ backend: 'wasm' });
const frames: Frame[] = [];
let t0 = performance.now();
for await (const f of decodeFrames(opts.clip)) frames.push(f);
const decodeS = (performance.now() - t0) / 1000;
const { width, height } = frames[0]!;
console.log(`clip ${opts.clip}: ${frames.length} frames ${width}×${height}; tfjs ${backend.name}`);
console.log(
  `decode: ${(frames.length / decodeS).toFixed(0)} fps (ffmpeg → RGBA, including process start)`,
);

const keypoints: [number, number][][] = [];
for (const model of ['short-range', 'full-range'] as const) {
  const detector = await FaceDetector.create({ model, runningMode: 'VIDEO' });
  detector.detectForVideo(frames[0]!, 0);
  let found = 0;
  t0 = performance.now();
  frames.forEach((f, i) => {
    const faces = detector.detectForVideo(f, 1 + i * 40);
    found += faces.length;
    if (model === 'full-range' && faces[0]) keypoints.push(faces[0].keypoints);
  });
  const ms = (performance.now() - t0) / frames.length;
  console.log(
    `detection ${model}: ${ms.toFixed(1)} ms/frame, ${found} faces in ${frames.length} frames`,
  );
  detector.close();
}

const size = Number(opts.size);
for (const batch of [1, 8]) {
  const kps = Array.from({ length: batch }, (_, i) => keypoints[i % keypoints.length]!);
  alignedCrops(frames[0]!, kps, size);
  t0 = performance.now();
  const reps = 20;
  for (let r = 0; r < reps; r++) alignedCrops(frames[0]!, kps, size);
  console.log(
    `alignment ${size}×${size}, ${batch} face(s) per frame: ${((performance.now() - t0) / reps / batch).toFixed(2)} ms/crop`,
  );
}
