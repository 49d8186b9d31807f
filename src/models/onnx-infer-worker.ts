/**
 * Worker-thread entry: one bundle's ONNX Runtime session, so that inference (synchronous native
 * code inside onnxruntime-node's run()) never blocks the main thread's event loop. Crop batches
 * arrive checked; uint8→float conversion happens here, off the main thread too. Outputs go back as
 * transferred buffers.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { OnnxModel, type OnnxDevice } from '../engine/onnx-runtime.ts';
import { readBundleManifest, readBundleOnnx } from './bundle-manifest.ts';
import { feedsOf } from './ensemble-io.ts';
import type { CropBatch } from './crop-types.ts';
import type { CropMode } from './crop-modes.ts';

export interface InferWorkerData {
  bundleDir: string;
  threads: number;
  device: OnnxDevice;
}

export interface InferRequest {
  id: number;
  crops: Partial<Record<CropMode, CropBatch>>;
}

export type InferReply =
  | { id: number; mean: Float32Array; members: Float32Array; consensus: Float32Array }
  | { id: number; error: string };

const options = workerData as InferWorkerData;
const port = parentPort;
if (!port) throw new Error('onnx-infer-worker.ts must run in a worker thread');

const ready = (async () => {
  const manifest = await readBundleManifest(options.bundleDir);
  const model = await OnnxModel.create(await readBundleOnnx(options.bundleDir, manifest), {
    threads: options.threads,
    device: options.device,
  });
  return { inputs: manifest.onnx.inputs, model };
})();

// Runs not yet answered. 'close' waits for them: releasing the session under a running inference
// ends the process (onnxruntime-node throws a C++ exception nothing can catch).
const inFlight = new Set<Promise<void>>();
let closing = false;

async function answer(req: InferRequest): Promise<void> {
  try {
    const { inputs, model } = await ready;
    const out = await model.run(feedsOf(inputs, req.crops));
    const reply = {
      id: req.id,
      mean: out.mean_probs!.data,
      members: out.member_probs!.data,
      consensus: out.consensus!.data,
    };
    // Outputs may share one native buffer: each buffer is transferred once.
    const buffers = new Set([reply.mean.buffer, reply.members.buffer, reply.consensus.buffer]);
    port!.postMessage(reply satisfies InferReply, [...buffers] as ArrayBuffer[]);
  } catch (err) {
    port!.postMessage({ id: req.id, error: (err as Error).message } satisfies InferReply);
  }
}

port.on('message', (req: InferRequest | 'ready' | 'close') => {
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
    if (req === 'close') {
      closing = true;
      await Promise.allSettled([...inFlight]);
      await (await ready).model.dispose().catch(() => undefined);
      port.postMessage('closed');
      return;
    }
    if (closing) {
      port.postMessage({ id: req.id, error: 'the model is closed' } satisfies InferReply);
      return;
    }
    const run = answer(req);
    inFlight.add(run);
    await run;
    inFlight.delete(run);
  })();
});
