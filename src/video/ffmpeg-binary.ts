/**
 * Which ffmpeg to run: an explicit path (the CLI passes FFMPEG_PATH), else `ffmpeg` on PATH (e.g.
 * Debian's 5.x), else the static 4.1 build inside the npm package @ffmpeg-installer/ffmpeg.
 */
import { execFileSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { createRequire } from 'node:module';
import { delimiter, join } from 'node:path';

export interface FfmpegBinary {
  path: string;
  /** Major version, or undefined for builds that print a git revision instead. */
  major: number | undefined;
  versionLine: string;
}

function onPath(name: string, pathEnv: string | undefined): string | undefined {
  for (const dir of (pathEnv ?? '').split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

function bundled(): string | undefined {
  try {
    return (createRequire(import.meta.url)('@ffmpeg-installer/ffmpeg') as { path: string }).path;
  } catch {
    return undefined;
  }
}

const cache = new Map<string, FfmpegBinary>();

/** Resolves and checks the ffmpeg binary; `pathEnv` is the PATH to search (default: none). */
export function resolveFfmpeg(options: { path?: string; pathEnv?: string } = {}): FfmpegBinary {
  const path = options.path ?? onPath('ffmpeg', options.pathEnv) ?? bundled();
  if (!path) {
    throw new Error(
      'no ffmpeg found: install one (apt-get install ffmpeg) or set FFMPEG_PATH; the npm package @ffmpeg-installer/ffmpeg is not installed either',
    );
  }
  const hit = cache.get(path);
  if (hit) return hit;
  let versionLine: string;
  try {
    versionLine =
      execFileSync(path, ['-hide_banner', '-version'], { encoding: 'utf8' }).split('\n')[0] ?? '';
  } catch (err) {
    throw new Error(`ffmpeg at ${path} does not run: ${(err as Error).message.split('\n')[0]}`);
  }
  const m = /ffmpeg version n?(\d+)\.\d+/.exec(versionLine);
  // Static git builds print "N-47683-g…"; the npm package's build is 4.1-era.
  const info: FfmpegBinary = { path, major: m ? Number(m[1]) : undefined, versionLine };
  cache.set(path, info);
  return info;
}

/** The option that keeps every decoded frame with its own timestamp (no constant-rate resampling). */
export function passthroughTiming(bin: FfmpegBinary): string[] {
  return bin.major !== undefined && bin.major >= 5
    ? ['-fps_mode', 'passthrough']
    : ['-vsync', 'passthrough'];
}
