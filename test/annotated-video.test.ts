/**
 * What a person sees in annotated.mp4, read back from the encoded file: on a white and on a black
 * clip the label text stands out from its outline (WCAG contrast ≥ 4.5:1), and the number drawn
 * is the probability of the label in the CSV row of that frame.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import sharp from 'sharp';
import { annotateVideos } from '../pipelines/annotate.ts';
import { faceLabelText, overlaySvg } from '../src/annotate/render-video.ts';
import type { FaceRecord } from '../src/annotate/records.ts';
import { decodeFrames, type Frame } from '../src/video/decode.ts';
import { astronautClip } from '../scripts/astronaut-clip.ts';

const FRAME = 5;

async function frameAt(path: string, index: number): Promise<Frame> {
  for await (const f of decodeFrames(path)) if (f.index === index) return f;
  throw new Error(`${path} has no frame ${index}`);
}

/** WCAG relative luminance of an sRGB colour (0–255 channels). */
function luminance([r, g, b]: number[]): number {
  const lin = (v: number) => {
    const c = v / 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  };
  return 0.2126 * lin(r!) + 0.7152 * lin(g!) + 0.0722 * lin(b!);
}

const contrast = (a: number[], b: number[]) => {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x) as [number, number];
  return (hi + 0.05) / (lo + 0.05);
};

/** The overlay alone, rendered on transparency: where the renderer puts text fill and outline. */
async function overlayPixels(svg: string, width: number, height: number): Promise<Buffer> {
  return sharp({
    create: { width, height, channels: 4, background: { r: 0, g: 0, b: 0, alpha: 0 } },
  })
    .composite([{ input: Buffer.from(svg) }])
    .raw()
    .toBuffer();
}

async function composite(frame: Frame, svg: string): Promise<Buffer> {
  return sharp(frame.data, { raw: { width: frame.width, height: frame.height, channels: 4 } })
    .composite([{ input: Buffer.from(svg) }])
    .raw()
    .toBuffer();
}

describe('annotated.mp4 as a person sees it', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cctfer-annotated-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  for (const background of ['white', 'black'] as const)
    it(
      `on a ${background} clip: outlined text (contrast ≥ 4.5:1) showing the CSV's probability`,
      { timeout: 180_000 },
      async (t) => {
        const clip = join(dir, `${background}.mp4`);
        astronautClip(
          clip,
          `[0]crop=200:230:130:20,scale=160:184,pad=480:360:160:130:${background},format=yuv420p`,
        );
        const out = join(dir, `out-${background}`);
        const [r] = await annotateVideos([clip], { out, video: true });
        assert.equal(r?.status, 'done', r?.error);
        const folder = join(out, (await readdir(out))[0]!);
        const rows = parse(await readFile(join(folder, 'frames.csv'), 'utf8'), {
          columns: true,
        }) as Record<string, string>[];
        const row = rows.find((x) => Number(x.frame) === FRAME && x.face !== '');
        assert.ok(row, `a face in frame ${FRAME}`);
        const classes = Object.keys(row)
          .filter((k) => k.startsWith('s_'))
          .map((k) => k.slice(2));
        const face: FaceRecord = {
          id: Number(row.face),
          box: {
            x: Number(row.x),
            y: Number(row.y),
            width: Number(row.width),
            height: Number(row.height),
          },
          score: Number(row.score),
          probs: classes.map((c) => Number(row[`p_${c}`])),
          smoothed: classes.map((c) => Number(row[`s_${c}`])),
          label: row.label!,
          smoothedLabel: row.smoothed_label!,
          consensus: Number(row.consensus),
        };
        const p = Number(row[`s_${face.smoothedLabel}`]);
        assert.match(faceLabelText(face, classes), new RegExp(` ${Math.round(p * 100)}%$`));

        const original = await frameAt(clip, FRAME);
        const shown = await frameAt(join(folder, 'annotated.mp4'), FRAME);
        const { width, height } = shown;
        const record = { index: FRAME, pts: 0, faces: [face] };
        const svg = overlaySvg(record, width, height, classes);
        const mask = await overlayPixels(svg, width, height);
        // The label's text row: from its top to its baseline, above the box.
        const baseline = Math.round(face.box.y) - 12;
        const rows0 = baseline - 13;
        const inLabel = (x: number, y: number) =>
          y >= rows0 && y <= baseline && x >= face.box.x && x < face.box.x + 220;
        const kind = (x: number, y: number) => {
          const i = (y * width + x) * 4;
          if (mask[i + 3]! < 255) return 'none';
          return mask[i]! + mask[i + 1]! + mask[i + 2]! < 30 ? 'outline' : 'fill';
        };
        // Pixels well inside each part (the whole 3×3 neighbourhood alike): codec blur aside.
        const sums = { fill: [0, 0, 0, 0], outline: [0, 0, 0, 0] };
        for (let y = rows0 + 1; y < baseline; y++)
          for (let x = Math.ceil(face.box.x) + 1; x < face.box.x + 219; x++) {
            const k = kind(x, y);
            if (k === 'none' || !inLabel(x, y)) continue;
            let same = true;
            for (let dy = -1; dy <= 1 && same; dy++)
              for (let dx = -1; dx <= 1 && same; dx++) same = kind(x + dx, y + dy) === k;
            if (!same) continue;
            const i = (y * width + x) * 4;
            const s = sums[k];
            for (let c = 0; c < 3; c++) s[c]! += shown.data[i + c]!;
            s[3]!++;
          }
        assert.ok(sums.fill[3]! >= 15 && sums.outline[3]! >= 15, JSON.stringify(sums));
        const mean = (s: number[]) => s.slice(0, 3).map((v) => v / s[3]!);
        const ratio = contrast(mean(sums.fill), mean(sums.outline));
        t.diagnostic(`contrast text/outline ${ratio.toFixed(1)}:1`);
        assert.ok(
          ratio >= 4.5,
          `text ${mean(sums.fill)} vs outline ${mean(sums.outline)}: ${ratio}`,
        );

        // The digits on screen are the CSV's probability: the frame matches the overlay drawn
        // with that number far better than one drawn with another number.
        const wrongFace = {
          ...face,
          smoothed: face.smoothed.map((v, i) =>
            classes[i] === face.smoothedLabel ? (v + 0.37) % 1 : v,
          ),
        };
        const right = await composite(original, svg);
        const wrong = await composite(
          original,
          overlaySvg({ ...record, faces: [wrongFace] }, width, height, classes),
        );
        let [dRight, dWrong, n] = [0, 0, 0];
        for (let y = rows0; y <= baseline + 3; y++)
          for (let x = Math.floor(face.box.x); x < face.box.x + 220 && x < width; x++) {
            const i = (y * width + x) * 4;
            if (right.subarray(i, i + 3).equals(wrong.subarray(i, i + 3))) continue;
            for (let c = 0; c < 3; c++) {
              dRight += Math.abs(shown.data[i + c]! - right[i + c]!);
              dWrong += Math.abs(shown.data[i + c]! - wrong[i + c]!);
            }
            n++;
          }
        assert.ok(n > 20, `the two numbers differ on ${n} pixels`);
        t.diagnostic(
          `mean error per channel over ${n} pixels: ${(dRight / n / 3).toFixed(1)} against the CSV's number, ${(dWrong / n / 3).toFixed(1)} against another`,
        );
        assert.ok(
          dRight < 0.5 * dWrong,
          `mean error against the CSV's number ${(dRight / n).toFixed(1)}, against another ${(dWrong / n).toFixed(1)}`,
        );
      },
    );
});
