/**
 * FER2013 with the FER+ annotators' votes, from either of the two forms users have:
 *  - a folder with `images-idx3-ubyte.gz` (N×48×48 uint8) and `labels.csv`
 *    (`row,usage,fer2013,<10 vote columns>`), as in ../shared/data/fer2013;
 *  - Kaggle's `fer2013.csv` (`emotion,pixels,Usage`) joined row by row with FER+'s
 *    `fer2013new.csv` (`Usage,Image name,<10 vote columns>`).
 * Labels come out in Aff-Wild2 order through the one label table (label-map.ts).
 */
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { readIdx } from '../idx.ts';
import { DatasetError, LABEL_MAPS, mapLabel } from './label-map.ts';
import { parseFer2013Pixels } from './image-datasets.ts';

export const FER_SIDE = 48;
import { FER_SPLITS, type FerSplit } from './fer-splits.ts';

export { FER_SPLITS, type FerSplit };

/** FER+'s vote columns, in its files' order. */
export const FERPLUS_VOTE_COLUMNS = [
  'neutral',
  'happiness',
  'surprise',
  'sadness',
  'anger',
  'disgust',
  'fear',
  'contempt',
  'unknown',
  'NF',
] as const;

/** FER2013's label names (the folder's labels.csv) in code order 0..6. */
const FER2013_NAMES = ['angry', 'disgust', 'fear', 'happy', 'sad', 'surprise', 'neutral'];

export interface FerRow {
  /** Row in the original fer2013.csv (0-based). */
  row: number;
  usage: FerSplit;
  /** The original FER2013 label in Aff-Wild2 order; null where it is unknown. */
  fer2013: number | null;
  /** The ten FER+ vote counts, in FERPLUS_VOTE_COLUMNS order. */
  votes: number[];
}

export interface FerData {
  /** N × 48 × 48 grey pixels, row-major. */
  pixels: Uint8Array;
  rows: FerRow[];
  /** Where the data came from, for messages and manifests. */
  source: string;
}

export type FerLabelMode =
  'fer2013' | 'ferplus-majority' | 'ferplus-votes' | 'ferplus-votes+fer2013';
export const FER_LABEL_MODES: readonly FerLabelMode[] = [
  'fer2013',
  'ferplus-majority',
  'ferplus-votes',
  'ferplus-votes+fer2013',
];

/** Label modes that train on a soft target (a distribution over the 7 classes) per image. */
export const isSoftLabelMode = (mode: FerLabelMode): boolean => mode.startsWith('ferplus-votes');

/**
 * The 'ferplus-votes+fer2013' target: half the FER+ vote distribution, half the original FER2013
 * label (one-hot); the vote distribution alone where the original label is missing.
 */
export function votesWithOriginal(votes: Float32Array, original: number | null): Float32Array {
  if (original === null) return votes;
  const out = votes.map((v) => v / 2);
  out[original] = (out[original] as number) + 0.5;
  return out;
}

function parseUsage(value: string | undefined, where: string): FerSplit {
  if (!FER_SPLITS.includes(value as FerSplit))
    throw new DatasetError(where, `Usage '${value}' is not one of ${FER_SPLITS.join(', ')}`);
  return value as FerSplit;
}

function parseVotes(r: Record<string, string>, where: string): number[] {
  return FERPLUS_VOTE_COLUMNS.map((c) => {
    const v = Number(r[c]);
    if (r[c] === undefined || r[c] === '' || !Number.isInteger(v) || v < 0 || v > 100)
      throw new DatasetError(where, `vote column '${c}' must be a small non-negative integer`);
    return v;
  });
}

function csvRows(text: string, file: string): Record<string, string>[] {
  try {
    return parse(text, {
      columns: true,
      skip_empty_lines: true,
      bom: true,
      trim: true,
    }) as Record<string, string>[];
  } catch (err) {
    throw new DatasetError(file, `not a readable CSV (${(err as Error).message})`);
  }
}

/** The folder form: `images-idx3-ubyte.gz` + `labels.csv`. */
export async function readFerFolder(dir: string): Promise<FerData> {
  const imagesFile = join(dir, 'images-idx3-ubyte.gz');
  const labelsFile = join(dir, 'labels.csv');
  for (const f of [imagesFile, labelsFile])
    await stat(f).catch(() => {
      throw new DatasetError(f, 'missing (a FER folder holds images-idx3-ubyte.gz and labels.csv)');
    });
  const idx = await readIdx(imagesFile);
  if (idx.dims.length !== 3 || idx.dims[1] !== FER_SIDE || idx.dims[2] !== FER_SIDE)
    throw new DatasetError(imagesFile, `expected N×48×48 images, got [${idx.dims}]`);
  const records = csvRows(await readFile(labelsFile, 'utf8'), labelsFile);
  if (records.length !== idx.dims[0])
    throw new DatasetError(
      labelsFile,
      `${records.length} label rows for ${idx.dims[0]} images (one line per image, same order)`,
    );
  const rows = records.map((r, i): FerRow => {
    const where = `${labelsFile}:${i + 2}`;
    const name = r.fer2013 ?? '';
    const code = FER2013_NAMES.indexOf(name);
    if (name !== '' && code < 0)
      throw new DatasetError(where, `fer2013 label '${name}' is not one of ${FER2013_NAMES}`);
    return {
      row: Number(r.row),
      usage: parseUsage(r.usage, where),
      fer2013: name === '' ? null : mapLabel('fer2013', code, where),
      votes: parseVotes(r, where),
    };
  });
  return { pixels: idx.data, rows, source: dir };
}

/**
 * The files users have: Kaggle's fer2013.csv joined row by row with FER+'s fer2013new.csv. FER+
 * leaves `Image name` blank for images it dropped; those rows are skipped (as in FER+'s own tools).
 */
export async function readFerCsvPair(fer2013Csv: string, ferplusCsv: string): Promise<FerData> {
  const kaggle = csvRows(await readFile(fer2013Csv, 'utf8'), fer2013Csv);
  const plus = csvRows(await readFile(ferplusCsv, 'utf8'), ferplusCsv);
  for (const [file, rows, need] of [
    [fer2013Csv, kaggle, ['emotion', 'pixels', 'Usage']],
    [ferplusCsv, plus, ['Usage', 'Image name', ...FERPLUS_VOTE_COLUMNS]],
  ] as const) {
    const first = rows[0];
    const missing = first ? need.filter((c) => !(c in first)) : need;
    if (missing.length)
      throw new DatasetError(file, `missing column(s) ${missing.join(', ')} (expected ${need})`);
  }
  if (kaggle.length !== plus.length)
    throw new DatasetError(
      ferplusCsv,
      `${plus.length} rows but ${fer2013Csv} has ${kaggle.length}: the files are joined row by row`,
    );
  const rows: FerRow[] = [];
  const pixels: Uint8Array[] = [];
  kaggle.forEach((k, i) => {
    const p = plus[i] as Record<string, string>;
    const where = `${fer2013Csv}:${i + 2} / ${ferplusCsv}:${i + 2}`;
    if (k.Usage !== p.Usage)
      throw new DatasetError(
        where,
        `Usage differs ('${k.Usage}' vs '${p.Usage}'): the files are not the same row order`,
      );
    if (!p['Image name']) return;
    pixels.push(parseFer2013Pixels(k.pixels, `${fer2013Csv}:${i + 2}`));
    rows.push({
      row: i,
      usage: parseUsage(k.Usage, where),
      fer2013: mapLabel('fer2013', Number(k.emotion ?? NaN), `${fer2013Csv}:${i + 2}`),
      votes: parseVotes(p, `${ferplusCsv}:${i + 2}`),
    });
  });
  const out = new Uint8Array(pixels.length * FER_SIDE * FER_SIDE);
  pixels.forEach((v, i) => out.set(v, i * FER_SIDE * FER_SIDE));
  return { pixels: out, rows, source: `${fer2013Csv} + ${ferplusCsv}` };
}

/** Either form: one path (a folder) or two (fer2013.csv, fer2013new.csv). */
export async function readFer(paths: readonly string[]): Promise<FerData> {
  if (paths.length === 1) return readFerFolder(paths[0] as string);
  if (paths.length === 2) return readFerCsvPair(paths[0] as string, paths[1] as string);
  throw new Error(
    `FER data is a folder (images-idx3-ubyte.gz + labels.csv) or two files (fer2013.csv fer2013new.csv); got ${paths.length} paths`,
  );
}

/** FER+ vote column → Aff-Wild2 index (the label table); contempt, unknown and NF have none. */
const VOTE_TO_CLASS: readonly (number | null)[] = LABEL_MAPS.ferplus;

/**
 * The FER+ majority: the class with strictly the most votes of all ten columns; null where that
 * plurality is contempt, unknown or NF, or is tied.
 */
export function ferplusMajority(votes: readonly number[]): number | null {
  let best = -1;
  let at = -1;
  let tied = false;
  votes.forEach((v, i) => {
    if (v > best) {
      best = v;
      at = i;
      tied = false;
    } else if (v === best) tied = true;
  });
  if (tied || best <= 0) return null;
  return VOTE_TO_CLASS[at] ?? null;
}

/**
 * The vote distribution over the 7 classes: contempt, unknown and NF votes are left out and the
 * rest renormalised (Aff-Wild2 has no contempt, and unknown/NF say nothing about which expression);
 * null for a row with no vote among the 7.
 */
export function ferplusVotes(votes: readonly number[], classes = 7): Float32Array | null {
  const out = new Float32Array(classes);
  let total = 0;
  votes.forEach((v, i) => {
    const c = VOTE_TO_CLASS[i];
    if (c !== null && c !== undefined) {
      out[c] = (out[c] as number) + v;
      total += v;
    }
  });
  if (total === 0) return null;
  for (let c = 0; c < classes; c++) out[c] = (out[c] as number) / total;
  return out;
}

export interface FerLabels {
  /** Indices into FerData.rows of the rows kept. */
  indices: Int32Array;
  /** Hard label of each kept row (for the soft modes: the distribution's arg-max). */
  labels: Int32Array;
  /** Soft modes only: [kept × 7] target distributions. */
  targets?: Float32Array;
  /** Rows of the split left out by the mode (no label / no majority / no vote among the 7). */
  dropped: number;
}

/** The rows of `split` (all rows when undefined) with their labels in the given mode. */
export function ferLabels(data: FerData, mode: FerLabelMode, split?: FerSplit): FerLabels {
  const indices: number[] = [];
  const labels: number[] = [];
  const targets: number[] = [];
  let dropped = 0;
  data.rows.forEach((r, i) => {
    if (split && r.usage !== split) return;
    if (isSoftLabelMode(mode)) {
      const v = ferplusVotes(r.votes);
      if (!v) return void dropped++;
      const t = mode === 'ferplus-votes' ? v : votesWithOriginal(v, r.fer2013);
      let arg = 0;
      t.forEach((p, c) => p > (t[arg] as number) && (arg = c));
      indices.push(i);
      labels.push(arg);
      targets.push(...t);
      return;
    }
    const y = mode === 'fer2013' ? r.fer2013 : ferplusMajority(r.votes);
    if (y === null) return void dropped++;
    indices.push(i);
    labels.push(y);
  });
  return {
    indices: Int32Array.from(indices),
    labels: Int32Array.from(labels),
    ...(isSoftLabelMode(mode) && { targets: Float32Array.from(targets) }),
    dropped,
  };
}

/** A fixed, seeded hold-out: a `fraction` of the given rows chosen by hashing their row number. */
export function isHoldout(row: number, fraction: number, seed = 0): boolean {
  // splitmix32 of (row, seed): stable across readers and row subsets.
  let h = (row ^ Math.imul(seed + 0x9e3779b9, 0x85ebca6b)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x21f0aaad) >>> 0;
  h = Math.imul(h ^ (h >>> 15), 0x735a2d97) >>> 0;
  h = (h ^ (h >>> 15)) >>> 0;
  return h / 2 ** 32 < fraction;
}
