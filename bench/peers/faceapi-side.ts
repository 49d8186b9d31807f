/**
 * bench/annotate-peers, face-api's side (run in its own process): @vladmandic/face-api on
 * tfjs-wasm, one thread, pinned as the issue asks — TinyFaceDetector (inputSize 416, scoreThreshold
 * 0.5) + the 68-point landmark net + the expression net on every frame, frames scaled to 640 px
 * wide. Frames are decoded before the clock starts (decode excluded on this side); the first
 * `warmup` frames are not timed. Prints one JSON line: {frames, faces, seconds, fps}.
 *
 *   node --import tsx bench/peers/faceapi-side.ts <clip> [warmup]
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { decodeFrames } from '../../src/video/decode.ts';

const [clip, warmupArg = '10'] = process.argv.slice(2) as [string, string?];
const warmup = Number(warmupArg);
const require = createRequire(import.meta.url);
// The node-wasm build brings its own @tensorflow/tfjs; set up its wasm backend before loading.
const tf = require('@tensorflow/tfjs') as typeof import('@tensorflow/tfjs');
const wasm =
  require('@tensorflow/tfjs-backend-wasm') as typeof import('@tensorflow/tfjs-backend-wasm');
wasm.setWasmPaths(dirname(require.resolve('@tensorflow/tfjs-backend-wasm')) + '/');
wasm.setThreadsCount?.(1);
const faceapi =
  require('@vladmandic/face-api/dist/face-api.node-wasm.js') as typeof import('@vladmandic/face-api');
await tf.setBackend('wasm');
await tf.ready();
const models = join(dirname(require.resolve('@vladmandic/face-api/package.json')), 'model');
await faceapi.nets.tinyFaceDetector.loadFromDisk(models);
await faceapi.nets.faceLandmark68Net.loadFromDisk(models);
await faceapi.nets.faceExpressionNet.loadFromDisk(models);

const frames: { data: Uint8Array; width: number; height: number }[] = [];
for await (const f of decodeFrames(clip, { maxSize: 640 })) frames.push(f);
const options = new faceapi.TinyFaceDetectorOptions({ inputSize: 416, scoreThreshold: 0.5 });
let faces = 0;
let t0 = performance.now();
for (let i = 0; i < frames.length; i++) {
  if (i === warmup) t0 = performance.now();
  const f = frames[i]!;
  const rgb = new Uint8Array(f.width * f.height * 3);
  for (let p = 0, q = 0; p < f.data.length; p += 4, q += 3) {
    rgb[q] = f.data[p]!;
    rgb[q + 1] = f.data[p + 1]!;
    rgb[q + 2] = f.data[p + 2]!;
  }
  const input = tf.tensor3d(rgb, [f.height, f.width, 3], 'int32');
  const found = await faceapi
    .detectAllFaces(input as never, options)
    .withFaceLandmarks()
    .withFaceExpressions();
  input.dispose();
  if (i >= warmup) faces += found.length;
}
const seconds = (performance.now() - t0) / 1000;
const timed = frames.length - warmup;
console.log(
  JSON.stringify({ backend: tf.getBackend(), frames: timed, faces, seconds, fps: timed / seconds }),
);
