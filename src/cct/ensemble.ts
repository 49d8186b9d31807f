import { tf, type Tensor2D } from '../engine/tf.ts';

export interface EnsembleOutput {
  /** softmax of each member: N × [batch, classes]. */
  memberProbs: Tensor2D[];
  /** Mean of the member softmaxes: [batch, classes]. The paper's inference rule. */
  meanProbs: Tensor2D;
  /** Per sample, 1 − mean pairwise Jensen–Shannon divergence (base 2) between members, in [0,1]. */
  consensus: Tensor2D;
}

/** Jensen–Shannon divergence in bits, per row, between two probability matrices. */
function jsd(p: Tensor2D, q: Tensor2D): Tensor2D {
  const eps = 1e-12;
  const m = tf.mul(tf.add(p, q), 0.5);
  const logM = tf.log(tf.add(m, eps));
  const kl = (a: Tensor2D) => tf.sum(tf.mul(a, tf.sub(tf.log(tf.add(a, eps)), logM)), 1, true);
  return tf.div(tf.mul(tf.add(kl(p), kl(q)), 0.5), Math.LN2) as Tensor2D;
}

/**
 * Combines member logits into the ensemble's prediction. `consensus` is [batch, 1]; a single member
 * has consensus 1 by definition. The caller owns (and disposes) the returned tensors.
 */
export function ensemblePredict(logits: Tensor2D[]): EnsembleOutput {
  if (logits.length < 1) throw new RangeError('ensemblePredict needs at least one member');
  const out = tf.tidy(() => {
    const memberProbs = logits.map((z) => tf.softmax(z) as Tensor2D);
    const meanProbs = tf.div(tf.addN(memberProbs), memberProbs.length) as Tensor2D;
    const batch = meanProbs.shape[0];
    let consensus = tf.ones([batch, 1]) as Tensor2D;
    if (memberProbs.length > 1) {
      const divs: Tensor2D[] = [];
      for (let j = 0; j < memberProbs.length; j++) {
        for (let k = j + 1; k < memberProbs.length; k++) {
          divs.push(jsd(memberProbs[j] as Tensor2D, memberProbs[k] as Tensor2D));
        }
      }
      const meanDiv = tf.div(tf.addN(divs), divs.length);
      consensus = tf.clipByValue(tf.sub(1, meanDiv), 0, 1) as Tensor2D;
    }
    return { memberProbs, meanProbs, consensus } as unknown as Record<string, Tensor2D>;
  });
  return out as unknown as EnsembleOutput;
}
