/**
 * Worker-thread entry: runs MediaPipe face detection (synchronous wasm, 3–8 ms a frame) and,
 * optionally, landmark refinement off the main thread, so a server's event loop stays free.
 * Frames arrive and return as transferred ArrayBuffers (no copies).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { FaceDetector, type DetectorModel } from '../faces/detector.ts';
import { LandmarkRefiner } from '../faces/landmarks.ts';
import { initBackend } from '../engine/backend.ts';

export interface DetectWorkerData {
  model: DetectorModel;
  minConfidence: number;
  refine: boolean;
}

export interface DetectRequest {
  id: number;
  width: number;
  height: number;
  data: ArrayBuffer;
}

export type DetectReply =
  | {
      id: number;
      data: ArrayBuffer;
      detections: import('../faces/detector.ts').FaceDetection[];
    }
  | { id: number; data: ArrayBuffer; error: string };

const options = workerData as DetectWorkerData;
const port = parentPort;
if (!port) throw new Error('detect-worker.ts must run in a worker thread');

const ready = (async () => {
  const detector = await FaceDetector.create({
    model: options.model,
    minConfidence: options.minConfidence,
  });
  let refiner: LandmarkRefiner | undefined;
  if (options.refine) {
    await initBackend({ backend: 'wasm' });
    refiner = await LandmarkRefiner.create();
  }
  return { detector, refiner };
})();

port.on('message', (req: DetectRequest | 'ready') => {
  void (async () => {
    if (req === 'ready') {
      try {
        await ready;
        port.postMessage('ready');
      } catch (err) {
        port.postMessage({ startError: (err as Error).message });
      }
      return;
    }
    const data = new Uint8Array(req.data);
    try {
      const { detector, refiner } = await ready;
      const image = { width: req.width, height: req.height, data };
      const found = detector.detect(image);
      const detections = refiner && found.length ? refiner.refine(image, found) : found;
      port.postMessage({ id: req.id, data: req.data, detections } satisfies DetectReply, [
        req.data,
      ]);
    } catch (err) {
      port.postMessage(
        { id: req.id, data: req.data, error: (err as Error).message } satisfies DetectReply,
        [req.data],
      );
    }
  })();
});
