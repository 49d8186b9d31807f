/**
 * The annotated MP4: the video decoded again, each face's box, track id, smoothed label with its
 * probability, and the members' agreement drawn (an SVG overlay composited by sharp), encoded with ffmpeg (H.264) with the
 * original audio stream copied in. Output frames follow the decoded frames one to one at the
 * container's average rate (a variable-frame-rate source plays back at a constant rate).
 */
import { PassThrough } from 'node:stream';
import ffmpeg from 'fluent-ffmpeg';
import sharp from 'sharp';
import { decodeFrames } from '../video/decode.ts';
import { probeVideo } from '../video/probe.ts';
import { resolveFfmpeg, type FfmpegBinary } from '../video/ffmpeg-binary.ts';
import type { FaceRecord, FrameRecord } from './records.ts';

/** Track colours, all light: each has a contrast ratio ≥ 6.5:1 against the black outline. */
export const TRACK_COLOURS = ['#00e676', '#ffea00', '#40c4ff', '#ff8a65', '#ea80fc', '#ffffff'];
/** Below this consensus the label gets a "low agreement" mark. */
export const LOW_AGREEMENT = 0.5;

function escapeXml(s: string): string {
  return s.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** The label drawn for a face: track id, smoothed label, and the probability of that label. */
export function faceLabelText(f: FaceRecord, classes: readonly string[]): string {
  const i = classes.indexOf(f.smoothedLabel);
  const p = i >= 0 ? (f.smoothed[i] ?? 0) : 0;
  return `#${f.id} ${f.smoothedLabel} ${Math.round(p * 100)}%`;
}

/**
 * One frame's overlay: per face its box, its label (light text outlined in black, readable on any
 * background) and under it a thin gauge of the members' agreement (consensus), marked "low
 * agreement" below LOW_AGREEMENT.
 */
export function overlaySvg(
  record: FrameRecord | undefined,
  width: number,
  height: number,
  classes: readonly string[],
): string {
  const parts = (record?.faces ?? []).map((f) => {
    const c = TRACK_COLOURS[(f.id - 1) % TRACK_COLOURS.length];
    const { x, y, width: w, height: h } = f.box;
    const text = escapeXml(faceLabelText(f, classes));
    const above = y > 30;
    const ty = above ? y - 12 : y + h + 20;
    const gy = ty + 4;
    const font = `font-family="DejaVu Sans, sans-serif" font-size="16" font-weight="bold"`;
    const low =
      f.consensus < LOW_AGREEMENT
        ? `<text x="${x + 66}" y="${gy + 5}" ${font} font-size="9" fill="#ffffff" stroke="#000000" stroke-width="3" stroke-linejoin="round">low agreement</text><text x="${x + 66}" y="${gy + 5}" ${font} font-size="9" fill="#ffffff">low agreement</text>`
        : '';
    // The outline is its own text under the fill, so the fill keeps its full glyph shape.
    return (
      `<rect x="${x}" y="${y}" width="${w}" height="${h}" fill="none" stroke="#000000" stroke-width="5"/>` +
      `<rect x="${x}" y="${y}" width="${w}" height="${h}" fill="none" stroke="${c}" stroke-width="3"/>` +
      `<text x="${x}" y="${ty}" ${font} fill="${c}" stroke="#000000" stroke-width="5" stroke-linejoin="round">${text}</text>` +
      `<text x="${x}" y="${ty}" ${font} fill="${c}">${text}</text>` +
      `<rect x="${x}" y="${gy}" width="60" height="5" fill="#000000"/>` +
      `<rect x="${x + 1}" y="${gy + 1}" width="${(58 * f.consensus).toFixed(1)}" height="3" fill="#ffffff"/>` +
      low
    );
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">${parts.join('')}</svg>`;
}

export async function renderAnnotatedVideo(
  input: string,
  records: readonly FrameRecord[],
  classes: readonly string[],
  outPath: string,
  options: { ffmpeg?: FfmpegBinary; maxSize?: number } = {},
): Promise<void> {
  const bin = options.ffmpeg ?? resolveFfmpeg();
  const info = await probeVideo(input, bin);
  const frames = decodeFrames(input, {
    ffmpeg: bin,
    ...(options.maxSize && { maxSize: options.maxSize }),
  });
  const first = await frames.next();
  if (first.done) throw new Error(`${input}: no frames to render`);
  const { width, height } = first.value;
  const byIndex = new Map(records.map((r) => [r.index, r]));
  const raw = new PassThrough({ highWaterMark: width * height * 4 * 2 });
  const done = new Promise<void>((resolve, reject) => {
    ffmpeg()
      .setFfmpegPath(bin.path)
      .input(raw)
      .inputFormat('rawvideo')
      .inputOptions(['-pix_fmt', 'rgba', '-s', `${width}x${height}`, '-r', String(info.fps ?? 25)])
      .input(input)
      .outputOptions([
        '-map',
        '0:v',
        '-map',
        '1:a?',
        '-c:v',
        'libx264',
        '-preset',
        'veryfast',
        '-pix_fmt',
        'yuv420p',
        '-c:a',
        'aac',
        '-shortest',
        '-movflags',
        '+faststart',
      ])
      .format('mp4')
      .on('error', (err: Error) => reject(new Error(`encoding ${outPath} failed: ${err.message}`)))
      .on('end', () => resolve())
      .save(outPath);
  });
  const draw = async (frame: { index: number; data: Uint8Array }) => {
    const svg = overlaySvg(byIndex.get(frame.index), width, height, classes);
    const out = await sharp(frame.data, { raw: { width, height, channels: 4 } })
      .composite([{ input: Buffer.from(svg) }])
      .raw()
      .toBuffer();
    if (!raw.write(out)) await new Promise((r) => raw.once('drain', r));
  };
  try {
    await draw(first.value);
    for await (const frame of frames) await draw(frame);
  } finally {
    raw.end();
  }
  await done;
}
