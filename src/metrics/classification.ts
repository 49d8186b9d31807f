/**
 * Classification metrics over a WHOLE evaluation set (never averaged per batch: the released CCT
 * code averages per-batch F1, which is optimistic).
 */

export interface F1Options {
  /**
   * 'all' (default): macro F1 over every class of the class list; a class with neither true nor
   * predicted samples scores 0, as scikit-learn's f1_score(labels=all, average='macro',
   * zero_division=0). 'present': average only over classes that occur in the truth or predictions.
   */
  average?: 'all' | 'present';
}

export interface ClassificationReport {
  accuracy: number;
  macroF1: number;
  perClassF1: number[];
  /** confusion[t][p] = count of samples with truth t predicted as p. */
  confusion: number[][];
  /** ABAW 2021 EXPR score: 0.67·macroF1 + 0.33·accuracy. */
  abaw2021: number;
  count: number;
}

function checkInputs(truth: ArrayLike<number>, pred: ArrayLike<number>, numClasses: number): void {
  if (truth.length !== pred.length) {
    throw new RangeError(`truth has ${truth.length} labels but predictions have ${pred.length}`);
  }
  for (const [name, arr] of [
    ['truth', truth],
    ['predictions', pred],
  ] as const) {
    for (let i = 0; i < arr.length; i++) {
      const v = arr[i] as number;
      if (!Number.isInteger(v) || v < 0 || v >= numClasses) {
        throw new RangeError(`${name}[${i}] = ${v} is not a class id in [0, ${numClasses})`);
      }
    }
  }
}

export function confusionMatrix(
  truth: ArrayLike<number>,
  pred: ArrayLike<number>,
  numClasses: number,
): number[][] {
  checkInputs(truth, pred, numClasses);
  const m = Array.from({ length: numClasses }, () => new Array<number>(numClasses).fill(0));
  for (let i = 0; i < truth.length; i++) {
    (m[truth[i] as number] as number[])[pred[i] as number]! += 1;
  }
  return m;
}

export function accuracy(truth: ArrayLike<number>, pred: ArrayLike<number>): number {
  if (truth.length !== pred.length) {
    throw new RangeError(`truth has ${truth.length} labels but predictions have ${pred.length}`);
  }
  if (truth.length === 0) return 0;
  let hit = 0;
  for (let i = 0; i < truth.length; i++) if (truth[i] === pred[i]) hit++;
  return hit / truth.length;
}

/** Per-class F1 from a confusion matrix; 0 where precision and recall are both undefined. */
export function perClassF1(confusion: number[][]): number[] {
  const k = confusion.length;
  return Array.from({ length: k }, (_, c) => {
    const tp = confusion[c]?.[c] ?? 0;
    let fn = 0;
    let fp = 0;
    for (let o = 0; o < k; o++) {
      if (o === c) continue;
      fn += confusion[c]?.[o] ?? 0;
      fp += confusion[o]?.[c] ?? 0;
    }
    const denom = 2 * tp + fp + fn;
    return denom === 0 ? 0 : (2 * tp) / denom;
  });
}

export function macroF1(
  truth: ArrayLike<number>,
  pred: ArrayLike<number>,
  numClasses: number,
  options: F1Options = {},
): number {
  const confusion = confusionMatrix(truth, pred, numClasses);
  return macroFromConfusion(confusion, options);
}

function macroFromConfusion(confusion: number[][], options: F1Options): number {
  const f1 = perClassF1(confusion);
  let classes = f1.map((_, c) => c);
  if (options.average === 'present') {
    classes = classes.filter((c) => {
      const row = (confusion[c] as number[]).reduce((a, b) => a + b, 0);
      const col = confusion.reduce((a, r) => a + (r[c] as number), 0);
      return row + col > 0;
    });
  }
  if (classes.length === 0) return 0;
  return classes.reduce((a, c) => a + (f1[c] as number), 0) / classes.length;
}

/** ABAW 2021 expression score: 0.67·F1 + 0.33·Acc (F1 macro over all classes, whole set). */
export function abaw2021Score(f1: number, acc: number): number {
  return 0.67 * f1 + 0.33 * acc;
}

export function classificationReport(
  truth: ArrayLike<number>,
  pred: ArrayLike<number>,
  numClasses: number,
  options: F1Options = {},
): ClassificationReport {
  const confusion = confusionMatrix(truth, pred, numClasses);
  const acc = accuracy(truth, pred);
  const f1 = macroFromConfusion(confusion, options);
  return {
    accuracy: acc,
    macroF1: f1,
    perClassF1: perClassF1(confusion),
    confusion,
    abaw2021: abaw2021Score(f1, acc),
    count: truth.length,
  };
}
