/**
 * Container facts without ffprobe (the npm ffmpeg ships none): `ffmpeg -i` prints the streams, and
 * an exact frame count comes from decoding to the null muxer with passthrough timing.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { passthroughTiming, resolveFfmpeg, type FfmpegBinary } from './ffmpeg-binary.ts';

export interface VideoInfo {
  codec: string;
  width: number;
  height: number;
  /** The container's average frame rate (approximate for variable-frame-rate sources). */
  fps: number | undefined;
  /** Seconds, when the container states it. */
  duration: number | undefined;
}

export class VideoInputError extends Error {
  constructor(input: string, message: string) {
    super(`${input}: ${message}`);
    this.name = 'VideoInputError';
  }
}

async function ffmpegStderr(
  bin: FfmpegBinary,
  args: string[],
): Promise<{ code: number; stderr: string }> {
  try {
    const { stderr } = await promisify(execFile)(bin.path, args, { maxBuffer: 64 << 20 });
    return { code: 0, stderr };
  } catch (err) {
    const e = err as { code?: number; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : 1, stderr: e.stderr ?? '' };
  }
}

function lastError(stderr: string): string {
  const lines = stderr
    .trim()
    .split('\n')
    // `ffmpeg -i x` alone always ends with this complaint: it is about our probe, not the input.
    .filter((l) => l.trim() && !/At least one output file must be specified/.test(l));
  return lines[lines.length - 1]?.trim() ?? 'unknown error';
}

export async function probeVideo(
  input: string,
  bin: FfmpegBinary = resolveFfmpeg(),
  format?: string,
): Promise<VideoInfo> {
  const { stderr } = await ffmpegStderr(bin, [
    '-hide_banner',
    ...(format ? ['-f', format] : []),
    '-i',
    input,
  ]);
  const stream = /Stream #\d+:\d+[^:]*: Video: (\w+)[^\n]*?, (\d{2,5})x(\d{2,5})[^\n]*/.exec(
    stderr,
  );
  if (!stream) {
    if (/No such file or directory/.test(stderr))
      throw new VideoInputError(input, 'file not found');
    if (/HTTP error|Server returned|Connection refused|Failed to resolve/i.test(stderr)) {
      throw new VideoInputError(input, `cannot fetch (${lastError(stderr)})`);
    }
    if (/Invalid data found|could not find codec|moov atom not found/i.test(stderr)) {
      throw new VideoInputError(input, `not a readable video (${lastError(stderr)})`);
    }
    if (/Stream #\d+:\d+[^:]*: Audio:/.test(stderr))
      throw new VideoInputError(input, 'has no video stream (audio only)');
    throw new VideoInputError(input, `no video stream (${lastError(stderr)})`);
  }
  if (stream[1] === 'none') {
    const why = /Unknown\/unsupported [^\n]*|unknown codec/i.exec(stderr)?.[0] ?? 'unknown codec';
    throw new VideoInputError(input, `unsupported video codec (${why.trim()})`);
  }
  const fps = /, ([\d.]+) fps/.exec(stream[0]);
  const dur = /Duration: (\d+):(\d+):([\d.]+)/.exec(stderr);
  return {
    codec: stream[1] as string,
    width: Number(stream[2]),
    height: Number(stream[3]),
    fps: fps ? Number(fps[1]) : undefined,
    duration: dur ? Number(dur[1]) * 3600 + Number(dur[2]) * 60 + Number(dur[3]) : undefined,
  };
}

/** Decodes the first video stream to the null muxer and returns how many frames it holds. */
export async function countFrames(
  input: string,
  bin: FfmpegBinary = resolveFfmpeg(),
): Promise<number> {
  const { code, stderr } = await ffmpegStderr(bin, [
    '-hide_banner',
    '-nostats',
    '-i',
    input,
    '-map',
    '0:v:0',
    ...(await passthroughTiming(bin)),
    '-f',
    'null',
    '-',
  ]);
  const frames = [...stderr.matchAll(/frame=\s*(\d+)/g)].pop();
  if (code !== 0 || !frames)
    throw new VideoInputError(input, `cannot decode (${lastError(stderr)})`);
  return Number(frames[1]);
}
