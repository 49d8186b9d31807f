/**
 * Still-image FER datasets, read with their own label files and mapped to Aff-Wild2 order:
 * RAF-DB basic (`list_patition_label.txt`: `train_00001.jpg 5`), AffectNet (CSV with
 * `subDirectory_filePath` and `expression` columns), FER2013 (`emotion,pixels,Usage`, 48×48 grey).
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { DatasetError, mapLabel } from './label-map.ts';

export interface ImageSample {
  /** Image file, or undefined when the pixels are inline (FER2013). */
  file?: string;
  pixels?: Uint8Array;
  label: number;
  split: string;
}

export interface ReadReport {
  samples: ImageSample[];
  /** Samples dropped by the label table (e.g. AffectNet Contempt / None). */
  dropped: number;
}

export async function readRafDb(labelFile: string, imageDir: string): Promise<ReadReport> {
  const lines = (await readFile(labelFile, 'utf8')).split(/\r?\n/);
  const samples: ImageSample[] = [];
  lines.forEach((line, i) => {
    if (!line.trim()) return;
    const m = /^(\S+\.(?:jpe?g|png))\s+(-?\d+)\s*$/i.exec(line.trim());
    if (!m)
      throw new DatasetError(
        `${labelFile}:${i + 1}`,
        `expected '<image> <label 1..7>', got '${line.slice(0, 60)}'`,
      );
    const label = mapLabel('rafdb', Number(m[2]), `${labelFile}:${i + 1}`) as number;
    const name = m[1] as string;
    samples.push({
      file: join(imageDir, name),
      label,
      split: name.startsWith('test') ? 'test' : 'train',
    });
  });
  return { samples, dropped: 0 };
}

export async function readAffectNet(
  csvFile: string,
  imageDir: string,
  split = 'train',
): Promise<ReadReport> {
  const rows = parse(await readFile(csvFile, 'utf8'), {
    columns: true,
    skip_empty_lines: true,
    relax_column_count: true,
  }) as Record<string, string>[];
  const samples: ImageSample[] = [];
  let dropped = 0;
  rows.forEach((r, i) => {
    const where = `${csvFile}:${i + 2}`;
    const path = r.subDirectory_filePath;
    if (!path) throw new DatasetError(where, "missing 'subDirectory_filePath'");
    const code = Number(r.expression);
    if (r.expression === undefined || r.expression === '' || Number.isNaN(code))
      throw new DatasetError(where, "missing or non-numeric 'expression'");
    const label = mapLabel('affectnet', code, where);
    if (label === null) dropped++;
    else samples.push({ file: join(imageDir, path), label, split });
  });
  return { samples, dropped };
}

/** fer2013.csv's `pixels` cell: 2304 space-separated integers 0..255 (48×48 grey). */
export function parseFer2013Pixels(cell: string | undefined, where: string): Uint8Array {
  const values = (cell ?? '').trim().split(/\s+/).map(Number);
  if (values.length !== 48 * 48 || values.some((v) => !Number.isInteger(v) || v < 0 || v > 255))
    throw new DatasetError(
      where,
      `'pixels' must be 2304 integers 0..255 (48×48), got ${values.length} values`,
    );
  return Uint8Array.from(values);
}

export async function readFer2013(csvFile: string): Promise<ReadReport> {
  const rows = parse(await readFile(csvFile, 'utf8'), {
    columns: true,
    skip_empty_lines: true,
  }) as Record<string, string>[];
  const samples = rows.map((r, i) => {
    const where = `${csvFile}:${i + 2}`;
    const label = mapLabel('fer2013', Number(r.emotion ?? NaN), where) as number;
    return { pixels: parseFer2013Pixels(r.pixels, where), label, split: r.Usage ?? 'Training' };
  });
  return { samples, dropped: 0 };
}
