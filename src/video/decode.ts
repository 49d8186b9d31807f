/**
 * Decodes a video into RGBA frames with ffmpeg (driven through fluent-ffmpeg), as an async iterable:
 * ffmpeg's stdout is paused whenever the consumer stops pulling, so nothing is buffered beyond the
 * stream's high-water mark. Every decoded frame is delivered once, with its own presentation
 * timestamp (passthrough timing; timestamps read from the `showinfo` filter, not index/fps).
 */
import ffmpeg from 'fluent-ffmpeg';
import { passthroughTiming, resolveFfmpeg, type FfmpegBinary } from './ffmpeg-binary.ts';
import { probeVideo, VideoInputError, type VideoInfo } from './probe.ts';

export interface Frame {
  sourceId: string;
  /** 0-based index of the decoded frame. */
  index: number;
  /** Presentation time in seconds, from the stream. */
  pts: number;
  width: number;
  height: number;
  /** RGBA, row-major, width × height × 4 bytes. */
  data: Uint8Array;
}

export interface DecodeOptions {
  /** Names the source in frames and errors (default: the input). */
  sourceId?: string;
  ffmpeg?: FfmpegBinary;
  /** Start offset in seconds. */
  start?: number;
  /** Stop after this many seconds of input. */
  duration?: number;
  /** Scale down (keeping the aspect ratio) so the longer side is at most this many pixels. */
  maxSize?: number;
  /** ffmpeg input format (-f), for devices and image sequences (see resolveSource). */
  format?: string;
  /**
   * Analyse at most this many frames per second (ffmpeg's fps filter picks the frames; their
   * timestamps stay the stream's). Default: every frame.
   */
  fps?: number;
  /** Read the input at its native frame rate (ffmpeg -re): a file served as if it were live. */
  realtime?: boolean;
  /** Loop the input forever (files only; timestamps keep increasing across loops). */
  loop?: boolean;
  /** The input's probe, when the caller has just made it (saves ffmpeg a second look). */
  probed?: VideoInfo;
}

export class DecodeError extends Error {
  constructor(
    readonly sourceId: string,
    /** Frames delivered before the failure. */
    readonly framesDecoded: number,
    message: string,
  ) {
    super(`${sourceId}: decoding failed after frame ${framesDecoded} of the stream: ${message}`);
    this.name = 'DecodeError';
  }
}

/**
 * The scale filter that caps the longer side at maxSize, written on ffmpeg's own iw/ih: the
 * container's width and height may be swapped by rotation metadata (ffmpeg auto-rotates), so the
 * probed size cannot be used here. −2 keeps the aspect ratio with an even side.
 */
function capFilter(maxSize: number): string {
  return `scale='if(gte(iw,ih),min(${maxSize},iw),-2)':'if(gte(iw,ih),-2,min(${maxSize},ih))'`;
}

/**
 * Keeps a looped source's timestamps increasing: containers differ in whether `-stream_loop`
 * restarts them (AVI does, MP4 does not), so any step back is taken as a new loop and offset to
 * follow the last frame by one frame interval.
 */
export function loopTimeline(fps: number | undefined): (t: number) => number {
  let offset = 0;
  let last = -Infinity;
  let step = fps && fps > 0 ? 1 / fps : 0.04;
  return (t) => {
    let out = t + offset;
    if (out <= last) {
      offset = last + step - t;
      out = last + step;
    } else if (Number.isFinite(last)) step = out - last;
    last = out;
    return out;
  };
}

export async function* decodeFrames(
  input: string,
  options: DecodeOptions = {},
): AsyncGenerator<Frame> {
  const bin = options.ffmpeg ?? resolveFfmpeg();
  const sourceId = options.sourceId ?? input;
  const info = options.probed ?? (await probeVideo(input, bin, options.format));
  // Rotation swaps width and height but keeps the longer side: whether to scale is known here; the
  // size that comes out is read from ffmpeg's own report of the frames (showinfo's s:WxH).
  const scale = options.maxSize && Math.max(info.width, info.height) > options.maxSize;
  const filters = [
    ...(options.fps ? [`fps=${options.fps}`] : []),
    ...(scale ? [capFilter(options.maxSize as number)] : []),
    'showinfo',
  ];
  const command = ffmpeg(input)
    .setFfmpegPath(bin.path)
    .inputOptions([
      ...(options.format ? ['-f', options.format] : []),
      ...(options.realtime ? ['-re'] : []),
      ...(options.loop ? ['-stream_loop', '-1'] : []),
      ...(options.start ? ['-ss', String(options.start)] : []),
    ])
    .outputOptions([
      '-map',
      '0:v:0',
      ...(await passthroughTiming(bin)),
      ...(options.duration ? ['-t', String(options.duration)] : []),
      '-vf',
      filters.join(','),
      '-pix_fmt',
      'rgba',
    ])
    .format('rawvideo');

  // Timestamps by frame number, deleted once used: a looped source runs for days.
  const pts = new Map<number, number>();
  const timeline = options.loop ? loopTimeline(info.fps) : (t: number) => t;
  let size: [number, number] | undefined;
  const stderrTail: string[] = [];
  let ended = false;
  let failure: Error | undefined;
  let wake: (() => void) | undefined;
  const notify = () => {
    wake?.();
    wake = undefined;
  };
  command.on('stderr', (line: string) => {
    const m = /\bn:\s*(\d+)\s+pts:\s*-?\d+\s+pts_time:(-?[\d.]+)/.exec(line);
    if (m) {
      pts.set(Number(m[1]), Number(m[2]));
      // The raw output keeps the first frame's size (ffmpeg scales any later change to it).
      const s = /\bs:(\d+)x(\d+)/.exec(line);
      if (s && !size) size = [Number(s[1]), Number(s[2])];
      notify();
    } else {
      stderrTail.push(line);
      if (stderrTail.length > 8) stderrTail.shift();
    }
  });
  command.on('error', (err: Error) => {
    if (!/SIGKILL|Output stream closed/.test(err.message)) failure = err;
    ended = true;
    notify();
  });
  command.on('end', () => {
    ended = true;
    notify();
  });
  const stream = command.pipe();

  let index = 0;
  // Chunks (64 KiB) are copied straight into the frame being filled: concatenating them would
  // recopy the growing buffer for every chunk of a 1.2 MB frame.
  let width = 0;
  let height = 0;
  let frameBytes = 0;
  let data = new Uint8Array(0);
  let filled = 0;
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      if (!frameBytes) {
        // showinfo reports the first frame before it is written; the pipes are read apart.
        while (!size && !ended) await new Promise<void>((r) => (wake = r));
        if (!size) throw new DecodeError(sourceId, 0, 'ffmpeg reported no frame size');
        [width, height] = size;
        frameBytes = width * height * 4;
        data = new Uint8Array(frameBytes);
      }
      let at = 0;
      while (at < chunk.length) {
        const n = Math.min(frameBytes - filled, chunk.length - at);
        data.set(chunk.subarray(at, at + n), filled);
        filled += n;
        at += n;
        if (filled < frameBytes) break;
        // showinfo logs a frame before it is written, but the two pipes are read independently.
        while (!pts.has(index) && !ended) await new Promise<void>((r) => (wake = r));
        const t = pts.get(index);
        if (t === undefined)
          throw new DecodeError(sourceId, index, 'no timestamp for a decoded frame');
        pts.delete(index);
        yield { sourceId, index, pts: timeline(t), width, height, data };
        index++;
        data = new Uint8Array(frameBytes);
        filled = 0;
      }
    }
    while (!ended) await new Promise<void>((r) => (wake = r));
    if (failure) {
      const detail =
        stderrTail
          .filter((l) => l.trim())
          .slice(-2)
          .join(' | ') || failure.message;
      throw new DecodeError(sourceId, index, detail);
    }
    if (filled)
      throw new DecodeError(sourceId, index, `${filled} trailing bytes do not make a whole frame`);
    if (index === 0) throw new VideoInputError(sourceId, 'no frames could be decoded');
  } finally {
    if (!ended) command.kill('SIGKILL');
  }
}
