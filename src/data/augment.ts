import { tf, type Tensor4D } from '../engine/tf.ts';
import type { Rng } from '../util/rng.ts';

/** Augmentation settings; defaults are the CCT authors' (DESIGN.md §2). */
export interface AugmentConfig {
  /** Probability of a horizontal flip. */
  flipP: number;
  /** Probability of applying colour jitter + random affine together. */
  jitterAffineP: number;
  /** Brightness, contrast, saturation factors drawn from [1−j, 1+j]. */
  brightness: number;
  contrast: number;
  saturation: number;
  /** Max translation as a fraction of the side. */
  translate: number;
  /** Zoom range (≥ 1 zooms in). */
  scale: [number, number];
  /** Probability of random erasing (0 = off; RAF-DB-style training uses 0.5 or 1). */
  eraseP: number;
  /** Erased area as a fraction of the image. */
  eraseScale: [number, number];
  /** Aspect ratio range of the erased rectangle. */
  eraseRatio: [number, number];
}

export const DEFAULT_AUGMENT: Readonly<AugmentConfig> = Object.freeze({
  flipP: 0.5,
  jitterAffineP: 0.5,
  brightness: 0.25,
  contrast: 0.25,
  saturation: 0.25,
  translate: 0.1,
  scale: [1, 1.25] as [number, number],
  eraseP: 0,
  eraseScale: [0.02, 0.25] as [number, number],
  eraseRatio: [0.3, 3.3] as [number, number],
});

function column(values: number[]): Tensor4D {
  return tf.tensor4d(values, [values.length, 1, 1, 1]);
}

/** Horizontal flip of the samples whose flag is set. */
export function flipSome(x: Tensor4D, flags: boolean[]): Tensor4D {
  return tf.tidy(() => {
    const mask = column(flags.map((f) => (f ? 1 : 0)));
    return tf.add(tf.mul(tf.reverse(x, 2), mask), tf.mul(x, tf.sub(1, mask))) as Tensor4D;
  });
}

function grey(x: Tensor4D): Tensor4D {
  if (x.shape[3] === 1) return x;
  return tf.sum(tf.mul(x, tf.tensor1d([0.299, 0.587, 0.114])), 3, true) as Tensor4D;
}

/** Per-sample brightness, contrast and saturation factors, in that order, on [0,1] images. */
export function colorJitter(x: Tensor4D, b: number[], c: number[], s: number[]): Tensor4D {
  return tf.tidy(() => {
    let y = tf.clipByValue(tf.mul(x, column(b)), 0, 1) as Tensor4D;
    const m = tf.mean(grey(y), [1, 2, 3], true);
    y = tf.clipByValue(tf.add(tf.mul(tf.sub(y, m), column(c)), m), 0, 1) as Tensor4D;
    if (y.shape[3] === 3) {
      const g = grey(y);
      y = tf.clipByValue(tf.add(tf.mul(tf.sub(y, g), column(s)), g), 0, 1) as Tensor4D;
    }
    return y;
  });
}

/** Per-sample zoom `scale[i]` about the centre and shift by (tx, ty) pixels; zero fill. */
export function affine(x: Tensor4D, scale: number[], tx: number[], ty: number[]): Tensor4D {
  const [, h, w] = x.shape;
  const cx = (w - 1) / 2;
  const cy = (h - 1) / 2;
  // tf.image.transform maps OUTPUT coordinates to INPUT coordinates: in = (out − c − t)/s + c.
  const rows = scale.map((s, i) => {
    const inv = 1 / s;
    return [
      inv,
      0,
      cx - (cx + (tx[i] as number)) * inv,
      0,
      inv,
      cy - (cy + (ty[i] as number)) * inv,
      0,
      0,
    ];
  });
  return tf.tidy(
    () => tf.image.transform(x, tf.tensor2d(rows), 'bilinear', 'constant', 0) as Tensor4D,
  );
}

/** Zeroes one rectangle per flagged sample (torchvision's RandomErasing with value 0). */
export function erase(
  x: Tensor4D,
  boxes: ({ top: number; left: number; h: number; w: number } | null)[],
): Tensor4D {
  const [n, h, w] = x.shape;
  const mask = new Float32Array(n * h * w).fill(1);
  boxes.forEach((box, i) => {
    if (!box) return;
    for (let r = box.top; r < box.top + box.h; r++) {
      mask.fill(0, i * h * w + r * w + box.left, i * h * w + r * w + box.left + box.w);
    }
  });
  return tf.tidy(() => tf.mul(x, tf.tensor4d(mask, [n, h, w, 1])) as Tensor4D);
}

/**
 * Draws per-sample augmentation parameters from `rng` and applies them to a batch of [0,1] images.
 * Random erasing is returned separately because it acts after normalisation (as in torchvision).
 */
export function augmentBatch(
  x: Tensor4D,
  rng: Rng,
  cfg: AugmentConfig = DEFAULT_AUGMENT,
): { images: Tensor4D; erase: (normalised: Tensor4D) => Tensor4D } {
  const [n, h, w] = x.shape;
  const flips: boolean[] = [];
  const use: boolean[] = [];
  const bb: number[] = [];
  const cc: number[] = [];
  const ss: number[] = [];
  const zoom: number[] = [];
  const tx: number[] = [];
  const ty: number[] = [];
  const boxes: ({ top: number; left: number; h: number; w: number } | null)[] = [];
  for (let i = 0; i < n; i++) {
    flips.push(rng.next() < cfg.flipP);
    const on = rng.next() < cfg.jitterAffineP;
    use.push(on);
    bb.push(on ? rng.uniform(1 - cfg.brightness, 1 + cfg.brightness) : 1);
    cc.push(on ? rng.uniform(1 - cfg.contrast, 1 + cfg.contrast) : 1);
    ss.push(on ? rng.uniform(1 - cfg.saturation, 1 + cfg.saturation) : 1);
    zoom.push(on ? rng.uniform(cfg.scale[0], cfg.scale[1]) : 1);
    tx.push(on ? Math.round(rng.uniform(-cfg.translate, cfg.translate) * w) : 0);
    ty.push(on ? Math.round(rng.uniform(-cfg.translate, cfg.translate) * h) : 0);
    boxes.push(rng.next() < cfg.eraseP ? drawEraseBox(rng, h, w, cfg) : null);
  }
  const images = tf.tidy(() => {
    let y = flips.some(Boolean) ? flipSome(x, flips) : tf.clone(x);
    if (use.some(Boolean)) {
      y = colorJitter(y, bb, cc, ss);
      y = affine(y, zoom, tx, ty);
    }
    return y;
  });
  return {
    images,
    erase: (normalised) => (boxes.some(Boolean) ? erase(normalised, boxes) : normalised),
  };
}

function drawEraseBox(rng: Rng, h: number, w: number, cfg: AugmentConfig) {
  // As torchvision: up to 10 tries for a rectangle that fits, else no erasing.
  for (let attempt = 0; attempt < 10; attempt++) {
    const area = h * w * rng.uniform(cfg.eraseScale[0], cfg.eraseScale[1]);
    const logR = rng.uniform(Math.log(cfg.eraseRatio[0]), Math.log(cfg.eraseRatio[1]));
    const ratio = Math.exp(logR);
    const eh = Math.round(Math.sqrt(area * ratio));
    const ew = Math.round(Math.sqrt(area / ratio));
    if (eh < h && ew < w && eh > 0 && ew > 0) {
      return { top: rng.int(h - eh + 1), left: rng.int(w - ew + 1), h: eh, w: ew };
    }
  }
  return null;
}
