/**
 * CCT with one member per worker thread: each member has its own wasm heap (the backend's heap
 * stops at 4 GB, which 3 × ResNet-18 at 224², batch 16 overflows in one thread) and its own core.
 * The gradient stays exact: members share no parameters, and the joint loss couples them only
 * through their logits, so each step is
 *   workers: forward (on the tape) → logits to shared memory
 *   main:    cctLoss over all logits → dL/dlogits per member (tf.grads, tiny tensors)
 *   workers: backward from their dL/dlogits → Adam.
 * Same member seeds as CctTrainer, so both start from the same weights.
 */
import type { Worker } from 'node:worker_threads';
import { tf, type Tensor2D } from '../engine/tf.ts';
import { cctLoss } from './loss.ts';
import { Rng } from '../util/rng.ts';
import { tsWorker } from '../util/ts-worker.ts';
import type { MemberRequest, MemberState, MemberWorkerData } from './member-worker.ts';

// Node 20 has Atomics.waitAsync; TypeScript's ES2023 lib does not declare it yet.
const waitAsync = (
  Atomics as unknown as {
    waitAsync(
      a: Int32Array,
      i: number,
      v: number,
    ): { async: boolean; value: Promise<string> | string };
  }
).waitAsync;

export interface MemberWorkersOptions {
  arch: string;
  members: number;
  seed: number;
  numClasses: number;
  inputSize: number;
  inChannels: number;
  lrBackbone: number;
  lrHead: number;
  /** Largest batch a step or a prediction takes (the shared buffers' size). */
  maxBatch: number;
  detachTargets?: boolean;
  scale?: 'paper' | 'code';
  backend?: MemberWorkerData['backend'];
}

export interface ParallelStepLog {
  total: number;
  sup: number;
  cons: number;
  /** Each worker's wasm heap after the step (bytes). */
  heapBytes: number[];
  tensors: number[];
  /** Per member, the arg-max of its training-mode logits for each sample. */
  preds: Int32Array[];
}

type Reply = {
  type: 'ready' | 'ok' | 'done' | 'state' | 'error';
  message?: string;
  heapBytes?: number;
  tensors?: number;
  state?: MemberState;
};

export class MemberWorkers {
  private readonly x: Float32Array;
  private readonly z: Float32Array;
  private readonly g: Float32Array;
  private readonly flags: Int32Array;
  private readonly pending: ((r: Reply) => void)[][];

  private constructor(
    private readonly o: MemberWorkersOptions,
    private readonly workers: Worker[],
    shared: {
      x: SharedArrayBuffer;
      z: SharedArrayBuffer;
      g: SharedArrayBuffer;
      flags: SharedArrayBuffer;
    },
  ) {
    this.x = new Float32Array(shared.x);
    this.z = new Float32Array(shared.z);
    this.g = new Float32Array(shared.g);
    this.flags = new Int32Array(shared.flags);
    this.pending = workers.map(() => []);
    workers.forEach((w, i) => {
      w.on('message', (r: Reply) => this.pending[i]!.shift()?.(r));
      // A worker that dies (e.g. a wasm heap abort) answers everything pending with its error.
      const fail = (message: string) => {
        for (const p of this.pending[i]!.splice(0)) p({ type: 'error', message });
      };
      w.on('error', (err) => fail(`member ${i + 1}: ${err.message}`));
      w.on('exit', (code) => fail(`member ${i + 1} exited (code ${code})`));
    });
  }

  static async create(o: MemberWorkersOptions): Promise<MemberWorkers> {
    const k = o.numClasses;
    const shared = {
      x: new SharedArrayBuffer(o.maxBatch * o.inputSize * o.inputSize * o.inChannels * 4),
      z: new SharedArrayBuffer(o.members * o.maxBatch * k * 4),
      g: new SharedArrayBuffer(o.members * o.maxBatch * k * 4),
      flags: new SharedArrayBuffer(2 * o.members * 4),
    };
    const seeds = new Rng(o.seed);
    const workers = Array.from({ length: o.members }, (_, index) => {
      const data: MemberWorkerData = {
        index,
        members: o.members,
        arch: o.arch,
        seed: seeds.int(2 ** 31),
        numClasses: k,
        inputSize: o.inputSize,
        inChannels: o.inChannels,
        lrBackbone: o.lrBackbone,
        lrHead: o.lrHead,
        backend: o.backend ?? 'wasm',
        maxBatch: o.maxBatch,
        ...shared,
      };
      return tsWorker(new URL('./member-worker.ts', import.meta.url), { workerData: data });
    });
    const mw = new MemberWorkers(o, workers, shared);
    const replies = await Promise.all(workers.map((_, i) => mw.reply(i)));
    const bad = replies.find((r) => r.type === 'error');
    if (bad) {
      await mw.close();
      throw new Error(`a member worker failed to start: ${bad.message}`);
    }
    return mw;
  }

  private reply(i: number): Promise<Reply> {
    return new Promise((resolve) => this.pending[i]!.push(resolve));
  }

  private async all(request: MemberRequest): Promise<Reply[]> {
    const replies = this.workers.map((_, i) => this.reply(i));
    for (const w of this.workers) w.postMessage(request);
    const out = await Promise.all(replies);
    const bad = out.find((r) => r.type === 'error');
    if (bad) throw new Error(`member worker: ${bad.message}`);
    return out;
  }

  /**
   * One CCT step on a normalised NHWC batch `x` (n images) with labels, optionally as `micro`
   * equal micro-batches whose summed gradients make one optimiser step (gradient accumulation:
   * each micro-batch's mean loss counts 1/micro, so the sum is the whole batch's mean loss).
   */
  async step(
    x: Float32Array,
    labels: Int32Array,
    lambda: number,
    micro = 1,
    /** Optional soft targets [n × classes] for the CE term (labels then only feed the tallies). */
    targets?: Float32Array,
  ): Promise<ParallelStepLog> {
    const n = labels.length;
    const { members, numClasses: k, maxBatch } = this.o;
    if (n > maxBatch) throw new RangeError(`batch of ${n} exceeds maxBatch ${maxBatch}`);
    if (n % micro !== 0)
      throw new RangeError(`a batch of ${n} cannot be split into ${micro} micro-batches`);
    const size = n / micro;
    this.x.set(x);
    const replies = this.workers.map((_, i) => this.reply(i));
    for (const w of this.workers) w.postMessage({ type: 'step', n, micro } satisfies MemberRequest);
    const log = { total: 0, sup: 0, cons: 0 };
    const preds = Array.from({ length: members }, () => new Int32Array(n));
    const opts = {
      detachTargets: this.o.detachTargets ?? false,
      scale: this.o.scale ?? ('paper' as const),
    };
    // The first error reply, if any (the other workers stay blocked: close() ends them).
    const failed = new Promise<Reply>((resolve) =>
      replies.forEach((r) => void r.then((m) => m.type === 'error' && resolve(m))),
    );
    for (let part = 0; part < micro; part++) {
      // Wait for every member's logits (workers set flag i to 1) — or for a worker's error.
      for (let i = 0; i < members; i++) {
        const w = waitAsync(this.flags, i, 0);
        if (w.async) {
          const bad = await Promise.race([
            (w.value as Promise<string>).then(() => undefined),
            failed,
          ]);
          if (bad) throw new Error(`member worker: ${bad.message}`);
        }
      }
      const y = labels.subarray(part * size, (part + 1) * size);
      const partLog = tf.tidy(() => {
        const zs = Array.from({ length: members }, (_, i) =>
          tf.tensor2d(this.z.slice(i * maxBatch * k, i * maxBatch * k + size * k), [size, k]),
        );
        zs.forEach((z, i) => preds[i]!.set(tf.argMax(z, 1).dataSync() as Int32Array, part * size));
        const yt = targets
          ? tf.tensor2d(targets.subarray(part * size * k, (part + 1) * size * k), [size, k])
          : tf.tensor1d(y, 'int32');
        // One evaluation of the joint loss gives the logged parts and, seeded with dy = 1/micro,
        // the gradient of this micro-batch's share of the batch's mean loss.
        let parts: tf.Tensor[] = [];
        const { value, grads } = tf.valueAndGrads((...z: tf.Tensor[]) => {
          const loss = cctLoss(z as Tensor2D[], yt, lambda, opts);
          parts = [tf.keep(loss.sup), tf.keep(loss.cons)];
          return loss.total;
        })(zs, tf.scalar(1 / micro));
        grads.forEach((g, i) => this.g.set(g.dataSync() as Float32Array, i * maxBatch * k));
        const [sup, cons] = parts.map((t) => t.dataSync()[0] as number);
        tf.dispose(parts); // kept past the gradient's scope, so not freed by this tidy
        return { total: value.dataSync()[0] as number, sup: sup!, cons: cons! };
      });
      log.total += partLog.total / micro;
      log.sup += partLog.sup / micro;
      log.cons += partLog.cons / micro;
      for (let i = 0; i < members; i++) {
        Atomics.store(this.flags, i, 0);
        Atomics.store(this.flags, members + i, 1);
        Atomics.notify(this.flags, members + i);
      }
    }
    const done = await Promise.all(replies);
    const bad = done.find((r) => r.type === 'error');
    if (bad) throw new Error(`member worker: ${bad.message}`);
    return {
      ...log,
      heapBytes: done.map((r) => r.heapBytes ?? 0),
      tensors: done.map((r) => r.tensors ?? 0),
      preds,
    };
  }

  /** Every member's logits (eval mode) for a normalised NHWC batch of at most maxBatch images. */
  async predict(x: Float32Array, n: number): Promise<Float32Array[]> {
    if (n > this.o.maxBatch)
      throw new RangeError(`batch of ${n} exceeds maxBatch ${this.o.maxBatch}`);
    this.x.set(x);
    await this.all({ type: 'predict', n });
    const k = this.o.numClasses;
    return this.workers.map((_, i) =>
      this.z.slice(i * this.o.maxBatch * k, i * this.o.maxBatch * k + n * k),
    );
  }

  async scaleLearningRates(factor: number): Promise<void> {
    await this.all({ type: 'scaleLr', factor });
  }

  /** Every member's parameters and Adam state (for checkpoints and export). */
  async getStates(): Promise<MemberState[]> {
    return (await this.all({ type: 'getState' })).map((r) => r.state!);
  }

  /** Loads each member's parameters and Adam state (pretrained or resumed weights). */
  async setStates(states: MemberState[]): Promise<void> {
    const replies = this.workers.map((_, i) => this.reply(i));
    this.workers.forEach((w, i) =>
      w.postMessage({ type: 'setState', state: states[i]! } satisfies MemberRequest),
    );
    const bad = (await Promise.all(replies)).find((r) => r.type === 'error');
    if (bad) throw new Error(`member worker: ${bad.message}`);
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
