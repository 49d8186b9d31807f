import { tf, type Tensor, type Variable } from '../engine/tf.ts';

export interface AdamGroupSpec {
  name: string;
  lr: number;
  variables: Variable[];
}

export interface AdamOptions {
  beta1?: number;
  beta2?: number;
  epsilon?: number;
}

export interface AdamState {
  step: number;
  lrs: Record<string, number>;
  /** First and second moments, in the order of the groups' variables. */
  m: Tensor[];
  v: Tensor[];
}

/**
 * Adam with parameter groups, each with its own learning rate, following PyTorch's update (bias
 * correction, ε outside the square root, no weight decay). Written here rather than taken from tfjs
 * because tfjs optimisers have one learning rate and their state is awkward to checkpoint exactly.
 */
export class GroupAdam {
  private readonly beta1: number;
  private readonly beta2: number;
  private readonly epsilon: number;
  private step = 0;
  private readonly groups: {
    name: string;
    lr: number;
    vars: Variable[];
    m: Variable[];
    v: Variable[];
  }[];

  constructor(groups: AdamGroupSpec[], options: AdamOptions = {}) {
    this.beta1 = options.beta1 ?? 0.9;
    this.beta2 = options.beta2 ?? 0.999;
    this.epsilon = options.epsilon ?? 1e-8;
    this.groups = groups.map((g) => ({
      name: g.name,
      lr: g.lr,
      vars: g.variables,
      m: g.variables.map((x) => tf.variable(tf.zerosLike(x), false)),
      v: g.variables.map((x) => tf.variable(tf.zerosLike(x), false)),
    }));
  }

  get learningRates(): Record<string, number> {
    return Object.fromEntries(this.groups.map((g) => [g.name, g.lr]));
  }

  /** Multiplies every group's learning rate (the per-epoch ×0.95 decay). */
  scaleLearningRates(factor: number): void {
    for (const g of this.groups) g.lr *= factor;
  }

  /** Applies one update; `grads` maps variable names to gradients. */
  apply(grads: Record<string, Tensor>): void {
    this.step++;
    const bc1 = 1 - this.beta1 ** this.step;
    const bc2 = 1 - this.beta2 ** this.step;
    tf.tidy(() => {
      for (const g of this.groups) {
        g.vars.forEach((x, i) => {
          const grad = grads[x.name];
          if (!grad) throw new Error(`no gradient for variable '${x.name}'`);
          const m = g.m[i] as Variable;
          const v = g.v[i] as Variable;
          m.assign(tf.add(tf.mul(m, this.beta1), tf.mul(grad, 1 - this.beta1)));
          v.assign(tf.add(tf.mul(v, this.beta2), tf.mul(tf.square(grad), 1 - this.beta2)));
          const denom = tf.add(tf.sqrt(tf.div(v, bc2)), this.epsilon);
          x.assign(tf.sub(x, tf.mul(tf.div(m, denom), g.lr / bc1)));
        });
      }
    });
  }

  /** The state as tensors owned by the optimiser (do not dispose). */
  getState(): AdamState {
    return {
      step: this.step,
      lrs: this.learningRates,
      m: this.groups.flatMap((g) => g.m),
      v: this.groups.flatMap((g) => g.v),
    };
  }

  /** Restores a state saved by {@link getState}; shapes must match. */
  setState(state: {
    step: number;
    lrs: Record<string, number>;
    m: Float32Array[];
    v: Float32Array[];
  }): void {
    const ms = this.groups.flatMap((g) => g.m);
    const vs = this.groups.flatMap((g) => g.v);
    if (state.m.length !== ms.length || state.v.length !== vs.length) {
      throw new Error(`optimizer state has ${state.m.length} moments, expected ${ms.length}`);
    }
    this.step = state.step;
    for (const g of this.groups) {
      const lr = state.lrs[g.name];
      if (lr === undefined)
        throw new Error(`optimizer state has no learning rate for group '${g.name}'`);
      g.lr = lr;
    }
    const load = (vars: Variable[], values: Float32Array[]) =>
      vars.forEach((x, i) => x.assign(tf.tensor(values[i] as Float32Array, x.shape)));
    load(ms, state.m);
    load(vs, state.v);
  }

  dispose(): void {
    for (const g of this.groups) for (const t of [...g.m, ...g.v]) t.dispose();
  }
}
