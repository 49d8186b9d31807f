/**
 * Worker-thread entry for one CCT member (see member-workers.ts): its own network, its own Adam
 * state and its own wasm heap. A step runs the forward pass inside `tf.variableGrads`, publishes
 * the logits in shared memory, blocks until the main thread has written dL/dlogits of the JOINT
 * CCT loss, and returns sum(logits · dL/dlogits) — so the tape yields this member's exact
 * parameter gradients, and BatchNorm statistics move once per step.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { initBackend } from '../engine/backend.ts';
import { tf, type Tensor4D } from '../engine/tf.ts';
import { createModel } from '../models/registry.ts';
import { GroupAdam } from './adam.ts';

export interface MemberWorkerData {
  index: number;
  members: number;
  arch: string;
  seed: number;
  numClasses: number;
  inputSize?: number;
  inChannels?: number;
  lrBackbone: number;
  lrHead: number;
  backend: 'wasm' | 'cpu' | 'tensorflow';
  maxBatch: number;
  /** Shared: input batch (float32), logits and their gradients (float32), and flags (int32). */
  x: SharedArrayBuffer;
  z: SharedArrayBuffer;
  g: SharedArrayBuffer;
  flags: SharedArrayBuffer;
}

export type MemberRequest =
  { type: 'step'; n: number } | { type: 'scaleLr'; factor: number } | { type: 'weights' };

const d = workerData as MemberWorkerData;
const port = parentPort;
if (!port) throw new Error('member-worker.ts must run in a worker thread');

const ready = (async () => {
  await initBackend({ backend: d.backend });
  const net = createModel(d.arch, {
    seed: d.seed,
    numClasses: d.numClasses,
    ...(d.inputSize !== undefined && { inputSize: d.inputSize }),
    ...(d.inChannels !== undefined && { inChannels: d.inChannels }),
  });
  const group = (g: 'backbone' | 'head') =>
    net.params.filter((p) => p.trainable && p.group === g).map((p) => p.variable);
  const optimizer = new GroupAdam([
    { name: 'backbone', lr: d.lrBackbone, variables: group('backbone') },
    { name: 'head', lr: d.lrHead, variables: group('head') },
  ]);
  return { net, optimizer };
})();

const flags = new Int32Array(d.flags);
const k = d.numClasses;

port.on('message', (m: MemberRequest) => {
  void (async () => {
    try {
      const { net, optimizer } = await ready;
      if (m.type === 'scaleLr') {
        optimizer.scaleLearningRates(m.factor);
        return port.postMessage({ type: 'ok' });
      }
      if (m.type === 'weights') {
        return port.postMessage({
          type: 'weights',
          weights: net.params.map((p) => ({
            name: p.name,
            shape: p.variable.shape,
            data: p.variable.dataSync() as Float32Array,
          })),
        });
      }
      const s = net.config.inputSize;
      const c = net.config.inChannels;
      const x = tf.tensor4d(new Float32Array(d.x, 0, m.n * s * s * c), [m.n, s, s, c]) as Tensor4D;
      const zOut = new Float32Array(d.z, d.index * d.maxBatch * k * 4, m.n * k);
      const gIn = new Float32Array(d.g, d.index * d.maxBatch * k * 4, m.n * k);
      const { value, grads } = tf.variableGrads(() => {
        const z = net.apply(x, true);
        zOut.set(z.dataSync() as Float32Array);
        Atomics.store(flags, d.index, 1);
        Atomics.notify(flags, d.index);
        // Block until the main thread has the joint gradient for our logits.
        Atomics.wait(flags, d.members + d.index, 0);
        Atomics.store(flags, d.members + d.index, 0);
        return tf.sum(tf.mul(z, tf.tensor2d(gIn.slice(), [m.n, k])));
      }, net.trainableVariables());
      optimizer.apply(grads);
      tf.dispose([x, value, ...Object.values(grads)]);
      const b = tf.backend() as unknown as { wasm?: { HEAPU8: Uint8Array } };
      port.postMessage({
        type: 'done',
        heapBytes: b.wasm ? b.wasm.HEAPU8.length : 0,
        tensors: tf.memory().numTensors,
      });
    } catch (err) {
      port.postMessage({ type: 'error', message: (err as Error).message });
    }
  })();
});
ready.then(
  () => port.postMessage({ type: 'ready' }),
  (err: Error) => port.postMessage({ type: 'error', message: err.message }),
);
