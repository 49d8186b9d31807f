/**
 * Turns what a user types into an ffmpeg input: a file, an image-sequence pattern
 * (`frames/%05d.jpg`), an http(s) media URL, a webcam (`webcam`, `webcam:/dev/video1` — v4l2 on
 * Linux; on macOS use `avfoundation:0`, on Windows `dshow:video=<name>`), or a page URL (YouTube,
 * …) resolved to a media URL with yt-dlp when it is installed.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

export interface VideoSource {
  /** What ffmpeg reads. */
  input: string;
  /** ffmpeg's -f for the input, when it cannot be guessed (v4l2, avfoundation, dshow, image2). */
  format?: string;
  /** Live sources never end and cannot be paused: the pipeline drops frames instead. */
  live: boolean;
  /** The user's spelling, for messages. */
  label: string;
}

const MEDIA_EXTENSIONS = /\.(mp4|m4v|mov|mkv|webm|avi|ts|m3u8|mpd|flv|mpg|mpeg)(\?|$)/i;
const DEVICE = /^(v4l2|avfoundation|dshow):(.+)$/;

export interface ResolveOptions {
  /** yt-dlp binary (default: `yt-dlp` on PATH). */
  ytDlp?: string;
  /** PATH for finding yt-dlp (library code reads no environment: the CLI passes it). */
  pathEnv?: string;
}

export async function resolveSource(
  spec: string,
  options: ResolveOptions = {},
): Promise<VideoSource> {
  if (spec === 'webcam') return { input: '/dev/video0', format: 'v4l2', live: true, label: spec };
  if (spec.startsWith('webcam:'))
    return { input: spec.slice('webcam:'.length), format: 'v4l2', live: true, label: spec };
  const device = DEVICE.exec(spec);
  if (device)
    return { input: device[2] as string, format: device[1] as string, live: true, label: spec };
  if (/%0?\d*d/.test(spec)) return { input: spec, format: 'image2', live: false, label: spec };
  if (/^https?:\/\//i.test(spec) && !MEDIA_EXTENSIONS.test(new URL(spec).pathname)) {
    return { input: await ytDlpUrl(spec, options), live: false, label: spec };
  }
  return { input: spec, live: false, label: spec };
}

async function ytDlpUrl(page: string, options: ResolveOptions): Promise<string> {
  const bin = options.ytDlp ?? 'yt-dlp';
  try {
    const { stdout } = await promisify(execFile)(
      bin,
      ['-g', '-f', 'best[height<=720][vcodec!=none]/best', '--no-playlist', page],
      {
        env: { ...process.env, ...(options.pathEnv !== undefined && { PATH: options.pathEnv }) },
      },
    );
    const url = stdout.trim().split('\n')[0];
    if (!url) throw new Error('yt-dlp printed no media URL');
    return url;
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stderr?: string };
    if (e.code === 'ENOENT') {
      throw new Error(
        `${page} looks like a web page, not a media file: install yt-dlp (pip install yt-dlp, or your package manager) to analyse it, or pass a direct media URL`,
      );
    }
    throw new Error(
      `yt-dlp could not resolve ${page}: ${(e.stderr ?? e.message).trim().split('\n').pop()}`,
    );
  }
}
