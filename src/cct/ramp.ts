export interface RampOptions {
  /** Number of epochs the run will train for (the paper's e_max). */
  maxEpochs: number;
  /** λ's plateau value; the paper's ablation picks 0.9. */
  lambdaMax?: number;
  /** Ramp steepness: the paper uses 4.0; the authors' released scripts default to 0.65. */
  beta?: number;
  /** e_r = rampFraction · maxEpochs, the epoch at which λ reaches λmax (code: 0.9). */
  rampFraction?: number;
}

/**
 * The CCT weight λ for a 0-based epoch: λmax·exp(−β(1 − e/e_r)²). As in the authors' code it is
 * not clamped after e_r, so it dips again past the ramp's end.
 */
export function rampLambda(epoch: number, options: RampOptions): number {
  const { maxEpochs, lambdaMax = 0.9, beta = 4, rampFraction = 0.9 } = options;
  if (!(maxEpochs > 0)) throw new RangeError(`maxEpochs must be > 0, got ${maxEpochs}`);
  if (!(epoch >= 0)) throw new RangeError(`epoch must be >= 0, got ${epoch}`);
  const rampEpochs = rampFraction * maxEpochs;
  const t = 1 - epoch / rampEpochs;
  return lambdaMax * Math.exp(-beta * t * t);
}
