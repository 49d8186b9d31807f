import { tf, type Scalar, type Tensor, type Tensor1D, type Tensor2D } from '../engine/tf.ts';

export interface CctLossOptions {
  /**
   * Stop the gradient through the target side p_k of each KL(p_k || p_j). Default false: the
   * authors' released code lets gradients flow through both sides (NCT-style training detaches).
   */
  detachTargets?: boolean;
  /**
   * 'paper' (default): total = (1−λ)·sup + λ·cons, plain sums as in the paper's Eq. 1–3.
   * 'code': both terms × 1/N, as the released code does with its literal 0.33 for N = 3.
   */
  scale?: 'paper' | 'code';
}

export interface CctLossResult {
  /** The loss to minimise, λ and the scale applied. */
  total: Scalar;
  /** Σ_j CE(p_j, y), each CE a batch mean. Unscaled. */
  sup: Scalar;
  /** Σ over ordered pairs j≠k of KL(p_k || p_j), summed over classes, batch mean. Unscaled. */
  cons: Scalar;
}

/** Identity forward, zero gradient: tfjs has no stopGradient op. */
const stopGradient = tf.customGrad((...args: unknown[]) => {
  const x = args[0] as Tensor;
  return { value: tf.clone(x), gradFunc: (dy: Tensor) => tf.zerosLike(dy) };
}) as (x: Tensor) => Tensor;

/**
 * The CCT objective for N member logits [batch, classes] and integer labels [batch] — or soft
 * targets [batch, classes] (a label distribution, e.g. FER+ votes; CE is then −Σ t·log p):
 * (1−λ)·Σ_j CE_j + λ·Σ_j Σ_{k≠j} KL(p_k || p_j). With one member `cons` is 0.
 */
export function cctLoss(
  logits: Tensor2D[],
  labels: Tensor1D | Tensor2D,
  lambda: number,
  options: CctLossOptions = {},
): CctLossResult {
  const n = logits.length;
  if (n < 1) throw new RangeError('cctLoss needs at least one member');
  const [batch, classes] = (logits[0] as Tensor2D).shape;
  for (const [j, z] of logits.entries()) {
    if (z.shape[0] !== batch || z.shape[1] !== classes) {
      throw new RangeError(
        `member ${j} logits have shape [${z.shape}], expected [${batch},${classes}]`,
      );
    }
  }
  if (labels.shape[0] !== batch) {
    throw new RangeError(`labels have length ${labels.shape[0]}, expected ${batch}`);
  }
  if (labels.rank === 2 && labels.shape[1] !== classes) {
    throw new RangeError(`targets have shape [${labels.shape}], expected [${batch},${classes}]`);
  }
  const { detachTargets = false, scale = 'paper' } = options;
  return tf.tidy(() => {
    const oneHot =
      labels.rank === 2 ? labels : tf.oneHot(tf.cast(labels as Tensor1D, 'int32'), classes);
    const logp = logits.map((z) => tf.logSoftmax(z));
    const ces = logp.map((lp) => tf.neg(tf.mean(tf.sum(tf.mul(oneHot, lp), 1))));
    const sup = tf.addN(ces) as Scalar;
    let cons: Scalar = tf.scalar(0);
    if (n > 1) {
      const terms: Tensor[] = [];
      for (let k = 0; k < n; k++) {
        const target = detachTargets ? stopGradient(logp[k] as Tensor) : (logp[k] as Tensor);
        const pk = tf.exp(target);
        for (let j = 0; j < n; j++) {
          if (j === k) continue;
          // KL(p_k || p_j) = Σ_c p_k (log p_k − log p_j), batch mean.
          terms.push(tf.mean(tf.sum(tf.mul(pk, tf.sub(target, logp[j] as Tensor)), 1)));
        }
      }
      cons = tf.addN(terms) as Scalar;
    }
    const factor = scale === 'code' ? 1 / n : 1;
    const total = tf.mul(tf.add(tf.mul(sup, 1 - lambda), tf.mul(cons, lambda)), factor) as Scalar;
    return { total, sup, cons };
  });
}
