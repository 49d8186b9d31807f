/**
 * Every dataset's label codes mapped to the Aff-Wild2 class order (DESIGN.md §3), in one table.
 * A code mapped to `null` is dropped (AffectNet's None/Uncertain/Non-Face always; Contempt for 7
 * classes, since Aff-Wild2 has no Contempt).
 */
import { AFFWILD2_CLASSES } from '../classes.ts';

type Aff = (typeof AFFWILD2_CLASSES)[number];
const idx = (c: Aff) => AFFWILD2_CLASSES.indexOf(c);

export const LABEL_MAPS = {
  /** AffectNet expression codes 0..10. */
  affectnet: [
    idx('Neutral'),
    idx('Happiness'),
    idx('Sadness'),
    idx('Surprise'),
    idx('Fear'),
    idx('Disgust'),
    idx('Anger'),
    null,
    null,
    null,
    null,
  ],
  /** RAF-DB basic: codes 1..7 (index 0 unused). */
  rafdb: [
    null,
    idx('Surprise'),
    idx('Fear'),
    idx('Disgust'),
    idx('Happiness'),
    idx('Sadness'),
    idx('Anger'),
    idx('Neutral'),
  ],
  /** FER2013: codes 0..6. */
  fer2013: [
    idx('Anger'),
    idx('Disgust'),
    idx('Fear'),
    idx('Happiness'),
    idx('Sadness'),
    idx('Surprise'),
    idx('Neutral'),
  ],
  /** FER+ vote columns in its files' order: neutral … fear, then contempt, unknown, NF (no class). */
  ferplus: [
    idx('Neutral'),
    idx('Happiness'),
    idx('Surprise'),
    idx('Sadness'),
    idx('Anger'),
    idx('Disgust'),
    idx('Fear'),
    null,
    null,
    null,
  ],
} as const satisfies Record<string, readonly (number | null)[]>;

export type LabelSet = keyof typeof LABEL_MAPS;

/** Aff-Wild2 index for a dataset code; null: drop the sample; throws for a code outside the set. */
export function mapLabel(set: LabelSet, code: number, where: string): number | null {
  const table: readonly (number | null)[] = LABEL_MAPS[set];
  if (
    !Number.isInteger(code) ||
    code < 0 ||
    code >= table.length ||
    (set === 'rafdb' && code === 0)
  )
    throw new DatasetError(
      where,
      `label ${code} is not a ${set} expression code (${set === 'rafdb' ? '1..7' : `0..${table.length - 1}`})`,
    );
  return table[code] ?? null;
}

/** A problem in a dataset file: names the file (and line) and what was expected. */
export class DatasetError extends Error {
  constructor(
    readonly where: string,
    message: string,
  ) {
    super(`${where}: ${message}`);
    this.name = 'DatasetError';
  }
}
