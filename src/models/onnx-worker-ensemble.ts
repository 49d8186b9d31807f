/**
 * A bundle's ONNX ensemble run in its own worker thread (onnx-infer-worker.ts): the main thread
 * only checks the crops, posts them (copied, so callers keep their buffers) and turns the outputs
 * into predictions. Used by the pipelines, where the event loop must stay free for sockets,
 * tracking and decoding while the nets run on the other core. Requests are answered in order.
 */
import type { Worker } from 'node:worker_threads';
import { tsWorker } from '../util/ts-worker.ts';
import type { OnnxDevice } from '../engine/onnx-runtime.ts';
import { readBundleManifest, type BundleManifest } from './bundle-manifest.ts';
import { checkCropBatches, toPredictions } from './ensemble-io.ts';
import { BundleEnsemble } from './bundle-ensemble.ts';
import type { CropBatch, CropPrediction } from './crop-types.ts';
import type { CropMode } from './crop-modes.ts';
import type { InferReply, InferRequest, InferWorkerData } from './onnx-infer-worker.ts';

type Outputs = Extract<InferReply, { mean: Float32Array }>;

export class OnnxWorkerEnsemble extends BundleEnsemble {
  readonly engine = 'onnx' as const;
  private nextId = 0;
  private readonly pending = new Map<
    number,
    { resolve: (o: Outputs) => void; reject: (e: Error) => void }
  >();
  private failure: Error | undefined;
  private closing: Promise<void> | undefined;

  private constructor(
    manifest: BundleManifest,
    private readonly worker: Worker,
  ) {
    super(manifest);
    worker.on('message', (reply: InferReply | 'closed') => {
      if (reply === 'closed') return;
      const p = this.pending.get(reply.id);
      if (!p) return;
      this.pending.delete(reply.id);
      if ('error' in reply) p.reject(new Error(reply.error));
      else p.resolve(reply);
    });
    const fail = (err: Error) => {
      this.failure = err;
      for (const p of this.pending.values()) p.reject(err);
      this.pending.clear();
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`the inference worker exited (code ${code})`)));
  }

  static async create(
    bundleDir: string,
    options: { threads?: number; device?: OnnxDevice } = {},
  ): Promise<OnnxWorkerEnsemble> {
    const manifest = await readBundleManifest(bundleDir);
    const data: InferWorkerData = {
      bundleDir,
      threads: options.threads ?? 1,
      device: options.device ?? 'cpu',
    };
    const worker = tsWorker(new URL('./onnx-infer-worker.ts', import.meta.url), {
      workerData: data,
    });
    try {
      await new Promise<void>((resolve, reject) => {
        worker.once('message', (m: unknown) => {
          worker.off('error', reject);
          if (m === 'ready') resolve();
          else reject(new Error((m as { startError: string }).startError));
        });
        worker.once('error', reject);
        worker.postMessage('ready');
      });
    } catch (err) {
      await worker.terminate();
      throw err;
    }
    return new OnnxWorkerEnsemble(manifest, worker);
  }

  async classify(crops: Partial<Record<CropMode, CropBatch>>): Promise<CropPrediction[]> {
    const count = checkCropBatches(this.cropInputs, crops);
    if (count === 0) return [];
    if (this.failure) throw this.failure;
    const id = this.nextId++;
    // A view on a bigger buffer is cut out first: posting a view clones its whole buffer.
    const own = Object.fromEntries(
      Object.entries(crops).map(([mode, b]) => [
        mode,
        {
          count: b.count,
          data: b.data.byteLength === b.data.buffer.byteLength ? b.data : b.data.slice(),
        },
      ]),
    );
    const request: InferRequest = { id, crops: own };
    const out = await new Promise<Outputs>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage(request);
    });
    return toPredictions(this.classes, this.manifest.members.length, count, out);
  }

  /**
   * Requests already sent are answered first (the worker finishes its runs before it releases the
   * session); later ones are refused with "the model is closed".
   */
  close(): Promise<void> {
    this.closing ??= (async () => {
      const alive = !this.failure;
      this.failure ??= new Error('the model is closed');
      this.worker.removeAllListeners('exit');
      if (alive) {
        // Let the session release its native memory before the thread goes (or the thread ends).
        await new Promise<void>((resolve) => {
          const done = (m: unknown) => {
            if (m !== 'closed') return;
            this.worker.off('message', done);
            resolve();
          };
          this.worker.on('message', done);
          this.worker.once('exit', () => resolve());
          this.worker.postMessage('close');
        });
      }
      await this.worker.terminate();
      for (const p of this.pending.values()) p.reject(this.failure);
      this.pending.clear();
    })();
    return this.closing;
  }
}
