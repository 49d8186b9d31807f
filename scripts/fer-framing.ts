/**
 * FER2013 faces through the real path: each 48×48 face scaled ×4 (192×192) and pasted into a
 * 640×480 frame at a seeded random place, then detected (MediaPipe, full-range) and cropped as the
 * pipeline does.
 *
 *   npx tsx scripts/fer-framing.ts measure [--n 500]
 *       On hold-out Training rows: where the detector's box sits inside the known 192×192 face
 *       region — the 'fer' crop mode's geometry (src/faces/box-crop.ts) comes from this.
 *   npx tsx scripts/fer-framing.ts score --split PublicTest [--bundle dir] [--json]
 *       Detection rate, and on the detected faces the bundle's accuracy (FER+ majority) on the
 *       direct 48×48 input vs on the pipeline's crops.
 *   npx tsx scripts/fer-framing.ts picture --out docs/fer-framing.png
 *       A training face beside the pipeline's crop of the same face (hold-out rows).
 */
import { writeFile } from 'node:fs/promises';
import { Command } from 'commander';
import sharp from 'sharp';
import { FaceDetector, type FaceDetection } from '../src/faces/detector.ts';
import { faceCrops } from '../src/faces/crops.ts';
import {
  FER_SIDE,
  ferplusMajority,
  isHoldout,
  readFer,
  type FerData,
  type FerSplit,
} from '../src/data/readers/ferplus.ts';
import { ferFace } from '../src/train/fer-sets.ts';
import { directCrops } from '../pipelines/eval-fer.ts';
import { ExpressionAnalyzer } from '../src/models/analyzer.ts';
import { DEFAULT_BUNDLE } from '../src/package-paths.ts';
import { Rng } from '../src/util/rng.ts';
import type { CropMode } from '../src/models/preprocess.ts';
import { fileURLToPath } from 'node:url';

const W = 640;
const H = 480;
const SCALE = 4;
const SIDE = FER_SIDE * SCALE;
const DATA = fileURLToPath(new URL('../../shared/data/fer2013', import.meta.url));

interface Placed {
  row: number;
  frame: { data: Uint8Array; width: number; height: number };
  x: number;
  y: number;
}

/** Face `row` scaled ×4 onto a mid-grey 640×480 RGBA frame at a seeded place. */
async function place(fer: FerData, row: number, rng: Rng): Promise<Placed> {
  const big = await ferFace(fer, row, SIDE, 'cubic');
  const x = Math.floor(rng.next() * (W - SIDE));
  const y = Math.floor(rng.next() * (H - SIDE));
  const data = new Uint8Array(W * H * 4).fill(128);
  for (let i = 3; i < data.length; i += 4) data[i] = 255;
  for (let r = 0; r < SIDE; r++)
    for (let c = 0; c < SIDE; c++) {
      const v = big[r * SIDE + c] as number;
      const o = ((y + r) * W + x + c) * 4;
      data[o] = data[o + 1] = data[o + 2] = v;
    }
  return { row, frame: { data, width: W, height: H }, x, y };
}

/** The detection overlapping the pasted region most (IoU ≥ 0.3), if any. */
function match(p: Placed, faces: FaceDetection[]): FaceDetection | undefined {
  const iou = (f: FaceDetection) => {
    const b = f.box;
    const ix = Math.max(0, Math.min(b.x + b.width, p.x + SIDE) - Math.max(b.x, p.x));
    const iy = Math.max(0, Math.min(b.y + b.height, p.y + SIDE) - Math.max(b.y, p.y));
    const inter = ix * iy;
    return inter / (b.width * b.height + SIDE * SIDE - inter);
  };
  const best = faces.reduce<FaceDetection | undefined>(
    (a, f) => (!a || iou(f) > iou(a) ? f : a),
    undefined,
  );
  return best && iou(best) >= 0.3 ? best : undefined;
}

function rowsOf(fer: FerData, split: FerSplit | 'holdout', n: number): number[] {
  const rows = fer.rows.flatMap((r, i) =>
    (split === 'holdout'
      ? r.usage === 'Training' && isHoldout(r.row, 0.1, 0)
      : r.usage === split) && ferplusMajority(r.votes) !== null
      ? [i]
      : [],
  );
  return n > 0 ? rows.slice(0, n) : rows;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;

const program = new Command('fer-framing').option('--data <dir>', 'FER folder', DATA);

program
  .command('measure')
  .description('where the detector box sits in the FER framing (hold-out Training rows)')
  .option('--n <n>', 'faces', '500')
  .action(async (o: { n: string }) => {
    const fer = await readFer([program.opts<{ data: string }>().data]);
    const detector = await FaceDetector.create();
    const rng = new Rng(7);
    const side: number[] = [];
    const dx: number[] = [];
    const dy: number[] = [];
    let found = 0;
    const rows = rowsOf(fer, 'holdout', Number(o.n));
    for (const row of rows) {
      const p = await place(fer, row, rng);
      const f = match(p, detector.detect(p.frame));
      if (!f) continue;
      found++;
      const s = Math.max(f.box.width, f.box.height);
      side.push(SIDE / s);
      dx.push((p.x + SIDE / 2 - (f.box.x + f.box.width / 2)) / s);
      dy.push((p.y + SIDE / 2 - (f.box.y + f.box.height / 2)) / s);
    }
    detector.close();
    console.log(
      JSON.stringify({
        faces: rows.length,
        detected: found,
        sideOverBox: median(side),
        centreDx: median(dx),
        centreDy: median(dy),
      }),
    );
  });

program
  .command('score')
  .description('detection rate and accuracy: direct 48×48 input vs the pipeline crops')
  .option('--split <name>', 'Training | PublicTest | holdout', 'holdout')
  .option('--n <n>', 'faces (0 = all)', '0')
  .option('--bundle <dir>', 'model bundle', DEFAULT_BUNDLE)
  .option('--json', 'JSON output', false)
  .action(async (o: { split: FerSplit | 'holdout'; n: string; bundle: string; json: boolean }) => {
    const fer = await readFer([program.opts<{ data: string }>().data]);
    const detector = await FaceDetector.create();
    const analyzer = await ExpressionAnalyzer.create(o.bundle);
    const rng = new Rng(11);
    const rows = rowsOf(fer, o.split, Number(o.n));
    let detected = 0;
    let direct = 0;
    let viaPipeline = 0;
    for (const row of rows) {
      const p = await place(fer, row, rng);
      const f = match(p, detector.detect(p.frame));
      if (!f) continue;
      detected++;
      const truth = ferplusMajority(fer.rows[row]!.votes);
      const crops: Partial<Record<CropMode, { data: Float32Array; count: number }>> = {};
      for (const [mode, data] of Object.entries(faceCrops(p.frame, [f], analyzer.cropInputs)))
        crops[mode as CropMode] = { data, count: 1 };
      const [viaCrop] = await analyzer.classify(crops);
      // Direct: the 48×48 face itself, as `cctfer eval fer` feeds it.
      const [d] = await analyzer.classify(directCrops(fer, [row], analyzer.cropInputs));
      if (d!.labelIndex === truth) direct++;
      if (viaCrop!.labelIndex === truth) viaPipeline++;
    }
    detector.close();
    await analyzer.dispose();
    const r = {
      bundle: o.bundle,
      split: o.split,
      faces: rows.length,
      detected,
      detectionRate: detected / rows.length,
      directAccuracy: direct / Math.max(1, detected),
      pipelineAccuracy: viaPipeline / Math.max(1, detected),
    };
    if (o.json) console.log(JSON.stringify(r));
    else
      console.log(
        `${r.faces} faces (${r.split}), ${r.detected} detected (${(100 * r.detectionRate).toFixed(1)}%); on those: direct ${(100 * r.directAccuracy).toFixed(1)}%, through detect → crop → classify ${(100 * r.pipelineAccuracy).toFixed(1)}%`,
      );
  });

program
  .command('picture')
  .description('training faces beside the pipeline crops of the same faces (PNG)')
  .requiredOption('--out <png>', 'output image')
  .option('--n <n>', 'faces', '4')
  .option('--bundle <dir>', 'model bundle (its first crop input is shown)', DEFAULT_BUNDLE)
  .action(async (o: { out: string; n: string; bundle: string }) => {
    const fer = await readFer([program.opts<{ data: string }>().data]);
    const detector = await FaceDetector.create();
    const analyzer = await ExpressionAnalyzer.create(o.bundle);
    const input = analyzer.cropInputs[0]!;
    const rng = new Rng(3);
    const T = 192;
    const tiles: { input: Buffer; left: number; top: number }[] = [];
    let k = 0;
    for (const row of rowsOf(fer, 'holdout', 0)) {
      if (k >= Number(o.n)) break;
      const p = await place(fer, row, rng);
      const f = match(p, detector.detect(p.frame));
      if (!f) continue;
      const crop = faceCrops(p.frame, [f], [input])[input.mode]!;
      const rgb = Buffer.from(Uint8Array.from(crop, (v) => Math.round(v * 255)));
      const left = await sharp(Buffer.from(await ferFace(fer, row, T, 'nearest')), {
        raw: { width: T, height: T, channels: 1 },
      })
        .png()
        .toBuffer();
      const right = await sharp(rgb, {
        raw: { width: input.size, height: input.size, channels: 3 },
      })
        .resize(T, T, { kernel: 'nearest' })
        .png()
        .toBuffer();
      tiles.push({ input: left, left: 8, top: 8 + k * (T + 8) });
      tiles.push({ input: right, left: 16 + T, top: 8 + k * (T + 8) });
      k++;
    }
    detector.close();
    await analyzer.dispose();
    const png = await sharp({
      create: { width: 24 + 2 * T, height: 8 + k * (T + 8), channels: 3, background: '#ffffff' },
    })
      .composite(tiles)
      .png()
      .toBuffer();
    await writeFile(o.out, png);
    console.log(
      `${o.out}: ${k} rows — left: FER2013 training face, right: the pipeline's '${input.mode}' crop`,
    );
  });

await program.parseAsync();
