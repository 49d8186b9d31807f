/**
 * The main-thread handle of a detection worker (detect-worker.ts): `detect(frame)` sends the frame's
 * pixels to the worker (transferred, not copied) and resolves with the detections and the pixels
 * handed back. One worker serves every source; requests are answered in order.
 */
import type { Worker } from 'node:worker_threads';
import { tsWorker } from '../util/ts-worker.ts';
import type { FaceDetection, DetectorModel } from '../faces/detector.ts';
import type { Frame } from '../video/decode.ts';
import type { DetectReply, DetectRequest, DetectWorkerData } from './detect-worker.ts';

export interface DetectorWorkerOptions {
  /** BlazeFace model (default 'full-range': finds small and distant faces too). */
  model?: DetectorModel;
  /** Minimum detection score (default 0.5). */
  minConfidence?: number;
  /** Refine keypoints with the 68-landmark net (needed for 'aligned' crops; default false). */
  refine?: boolean;
}

export class DetectorWorker {
  private nextId = 0;
  private readonly pending = new Map<
    number,
    {
      resolve: (r: { data: Uint8Array; detections: FaceDetection[] }) => void;
      reject: (e: Error) => void;
    }
  >();
  private failure: Error | undefined;

  private constructor(private readonly worker: Worker) {
    worker.on('message', (reply: DetectReply) => {
      const p = this.pending.get(reply.id);
      if (!p) return;
      this.pending.delete(reply.id);
      const data = new Uint8Array(reply.data);
      if ('error' in reply) p.reject(new Error(`face detection failed: ${reply.error}`));
      else p.resolve({ data, detections: reply.detections });
    });
    const fail = (err: Error) => {
      this.failure = err;
      for (const p of this.pending.values()) p.reject(err);
      this.pending.clear();
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`the face-detection worker exited (code ${code})`)));
  }

  /** The error that ended the worker thread, if it has ended. */
  get dead(): Error | undefined {
    return this.failure;
  }

  static async create(options: DetectorWorkerOptions = {}): Promise<DetectorWorker> {
    const data: DetectWorkerData = {
      model: options.model ?? 'full-range',
      minConfidence: options.minConfidence ?? 0.5,
      refine: options.refine ?? false,
    };
    const worker = tsWorker(new URL('./detect-worker.ts', import.meta.url), { workerData: data });
    await new Promise<void>((resolve, reject) => {
      const onMessage = (m: unknown) => {
        worker.off('error', reject);
        if (m === 'ready') resolve();
        else
          reject(
            new Error(
              `the face-detection worker failed to start: ${(m as { startError: string }).startError}`,
            ),
          );
      };
      worker.once('message', onMessage);
      worker.once('error', reject);
      worker.postMessage('ready');
    });
    return new DetectorWorker(worker);
  }

  /**
   * Detects faces in a frame. The frame's pixel buffer is lent to the worker for the call and
   * handed back in `frame.data` (a new view on the same memory) before the promise resolves.
   */
  async detect(frame: Frame): Promise<FaceDetection[]> {
    if (this.failure) throw this.failure;
    const id = this.nextId++;
    // Only a whole, unshared buffer can be transferred.
    const own =
      frame.data.byteOffset === 0 && frame.data.byteLength === frame.data.buffer.byteLength
        ? frame.data
        : frame.data.slice();
    const request: DetectRequest = {
      id,
      width: frame.width,
      height: frame.height,
      data: own.buffer as ArrayBuffer,
    };
    const reply = await new Promise<{ data: Uint8Array; detections: FaceDetection[] }>(
      (resolve, reject) => {
        this.pending.set(id, { resolve, reject });
        this.worker.postMessage(request, [request.data]);
      },
    );
    frame.data = reply.data;
    return reply.detections;
  }

  async close(): Promise<void> {
    this.worker.removeAllListeners('exit');
    await this.worker.terminate();
  }
}
