/**
 * Worker-thread entry for one CCT member (see member-workers.ts): its own network, its own Adam
 * state and its own wasm heap. A step runs the forward pass inside `tf.variableGrads`, publishes
 * the logits in shared memory, blocks until the main thread has written dL/dlogits of the JOINT
 * CCT loss, and returns sum(logits · dL/dlogits) — so the tape yields this member's exact
 * parameter gradients, and BatchNorm statistics move once per (micro-)batch. With gradient
 * accumulation the round trip repeats per micro-batch and the gradients are summed before Adam.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { initBackend } from '../engine/backend.ts';
import { tf } from '../engine/tf.ts';
import { createModel } from '../models/registry.ts';
import { assignParamValues, paramValues, type ParamValues } from '../models/network.ts';
import { addGradients, groupAdam } from './optimiser-groups.ts';

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

/** One member's complete training state: parameters (net.params order) and Adam's. */
export interface MemberState {
  params: ParamValues[];
  adam: { step: number; lrs: Record<string, number>; m: Float32Array[]; v: Float32Array[] };
}

export type MemberRequest =
  /** A training step on the first n shared images, as `micro` equal micro-batches. */
  | { type: 'step'; n: number; micro: number }
  /** Inference (eval mode) on the first n shared images; logits to shared memory. */
  | { type: 'predict'; n: number }
  | { type: 'scaleLr'; factor: number }
  | { type: 'getState' }
  | { type: 'setState'; state: MemberState };

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
  const optimizer = groupAdam([net], { backbone: d.lrBackbone, head: d.lrHead });
  return { net, optimizer };
})();

const flags = new Int32Array(d.flags);
const k = d.numClasses;

const heapBytes = () => {
  const b = tf.backend() as unknown as { wasm?: { HEAPU8: Uint8Array } };
  return b.wasm ? b.wasm.HEAPU8.length : 0;
};

port.on('message', (m: MemberRequest) => {
  void (async () => {
    try {
      const { net, optimizer } = await ready;
      const s = net.config.inputSize;
      const c = net.config.inChannels;
      const images = (from: number, n: number) =>
        tf.tensor4d(new Float32Array(d.x, from * s * s * c * 4, n * s * s * c), [n, s, s, c]);
      const zOut = (n: number) => new Float32Array(d.z, d.index * d.maxBatch * k * 4, n * k);
      switch (m.type) {
        case 'scaleLr':
          optimizer.scaleLearningRates(m.factor);
          return port.postMessage({ type: 'ok' });
        case 'getState': {
          const st = optimizer.getState();
          const state: MemberState = {
            params: paramValues(net),
            adam: {
              step: st.step,
              lrs: st.lrs,
              m: st.m.map((t) => t.dataSync() as Float32Array),
              v: st.v.map((t) => t.dataSync() as Float32Array),
            },
          };
          // Cloned, not transferred: on the cpu backend dataSync() returns the tensor's own store.
          return port.postMessage({ type: 'state', state });
        }
        case 'setState': {
          assignParamValues(net, m.state.params);
          optimizer.setState(m.state.adam);
          return port.postMessage({ type: 'ok' });
        }
        case 'predict': {
          const x = images(0, m.n);
          const z = tf.tidy(() => net.apply(x, false));
          zOut(m.n).set(z.dataSync() as Float32Array);
          tf.dispose([x, z]);
          return port.postMessage({ type: 'ok' });
        }
        case 'step': {
          const micro = m.n / m.micro;
          let summed: Record<string, tf.Tensor> | undefined;
          for (let part = 0; part < m.micro; part++) {
            const x = images(part * micro, micro);
            const gIn = new Float32Array(d.g, d.index * d.maxBatch * k * 4, micro * k);
            const { value, grads } = tf.variableGrads(() => {
              const z = net.apply(x, true);
              zOut(micro).set(z.dataSync() as Float32Array);
              Atomics.store(flags, d.index, 1);
              Atomics.notify(flags, d.index);
              // Block until the main thread has the joint gradient for our logits.
              Atomics.wait(flags, d.members + d.index, 0);
              Atomics.store(flags, d.members + d.index, 0);
              return tf.sum(tf.mul(z, tf.tensor2d(gIn.slice(), [micro, k])));
            }, net.trainableVariables());
            tf.dispose([x, value]);
            summed = addGradients(summed, grads);
          }
          optimizer.apply(summed!);
          tf.dispose(Object.values(summed!));
          return port.postMessage({
            type: 'done',
            heapBytes: heapBytes(),
            tensors: tf.memory().numTensors,
          });
        }
      }
    } catch (err) {
      port.postMessage({ type: 'error', message: (err as Error).message });
    }
  })();
});
ready.then(
  () => port.postMessage({ type: 'ready' }),
  (err: Error) => port.postMessage({ type: 'error', message: err.message }),
);
