/**
 * The annotated MP4: the video decoded again, each face's box, track id, smoothed label and
 * consensus drawn (an SVG overlay composited by sharp), encoded with ffmpeg (H.264) with the
 * original audio stream copied in. Output frames follow the decoded frames one to one at the
 * container's average rate (a variable-frame-rate source plays back at a constant rate).
 */
import { PassThrough } from 'node:stream';
import ffmpeg from 'fluent-ffmpeg';
import sharp from 'sharp';
import { decodeFrames } from '../video/decode.ts';
import { probeVideo } from '../video/probe.ts';
import { resolveFfmpeg, type FfmpegBinary } from '../video/ffmpeg-binary.ts';
import type { FrameRecord } from './records.ts';

const COLOURS = ['#00e676', '#ffea00', '#40c4ff', '#ff6e40', '#e040fb', '#ffffff'];

function escapeXml(s: string): string {
  return s.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

export function overlaySvg(record: FrameRecord | undefined, width: number, height: number): string {
  const parts = (record?.faces ?? []).map((f) => {
    const c = COLOURS[(f.id - 1) % COLOURS.length];
    const { x, y, width: w, height: h } = f.box;
    const text = escapeXml(`#${f.id} ${f.smoothedLabel} ${(f.consensus * 100).toFixed(0)}%`);
    const ty = y > 22 ? y - 6 : y + h + 18;
    return `<rect x="${x}" y="${y}" width="${w}" height="${h}" fill="none" stroke="${c}" stroke-width="3"/><text x="${x}" y="${ty}" font-family="DejaVu Sans, sans-serif" font-size="16" font-weight="bold" fill="${c}" stroke="black" stroke-width="0.6">${text}</text>`;
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">${parts.join('')}</svg>`;
}

export async function renderAnnotatedVideo(
  input: string,
  records: readonly FrameRecord[],
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
    const svg = overlaySvg(byIndex.get(frame.index), width, height);
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
