/** What goes into and comes out of a face classifier; no engine imported, so any layer may use it. */
export interface CropBatch {
  data: Uint8Array | Float32Array;
  /** Number of crops; data holds count × S × S × 3 values. */
  count: number;
}

export interface CropPrediction {
  /** Mean of the member softmaxes, in the bundle's class order. */
  probs: number[];
  labelIndex: number;
  label: string;
  /** 1 − mean pairwise Jensen–Shannon divergence between members. */
  consensus: number;
  memberProbs: number[][];
}
