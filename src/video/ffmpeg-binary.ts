/**
 * Which ffmpeg to run: an explicit path (the CLI passes FFMPEG_PATH), else `ffmpeg` on PATH (e.g.
 * Debian's 5.x), else the static 4.1 build inside the npm package @ffmpeg-installer/ffmpeg.
 * Resolving only finds the file; its version (which picks an option name) is asked for once,
 * asynchronously, when the first command needs it — no child process blocks start-up.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { accessSync, constants } from 'node:fs';
import { createRequire } from 'node:module';
import { delimiter, join } from 'node:path';

export interface FfmpegBinary {
  path: string;
}

export interface FfmpegVersion {
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

/** Resolves the ffmpeg binary; `pathEnv` is the PATH to search (default: none). */
export function resolveFfmpeg(options: { path?: string; pathEnv?: string } = {}): FfmpegBinary {
  const path = options.path ?? onPath('ffmpeg', options.pathEnv) ?? bundled();
  if (!path) {
    throw new Error(
      'no ffmpeg found: install one (apt-get install ffmpeg) or set FFMPEG_PATH; the npm package @ffmpeg-installer/ffmpeg is not installed either',
    );
  }
  return { path };
}

const versions = new Map<string, Promise<FfmpegVersion>>();

/** Runs `ffmpeg -version` once per binary; rejects with a clear error if it does not run. */
export function ffmpegVersion(bin: FfmpegBinary): Promise<FfmpegVersion> {
  let v = versions.get(bin.path);
  if (!v) {
    v = promisify(execFile)(bin.path, ['-hide_banner', '-version'], { encoding: 'utf8' }).then(
      ({ stdout }) => {
        const versionLine = stdout.split('\n')[0] ?? '';
        const m = /ffmpeg version n?(\d+)\.\d+/.exec(versionLine);
        // Static git builds print "N-47683-g…"; the npm package's build is 4.1-era.
        return { major: m ? Number(m[1]) : undefined, versionLine };
      },
      (err: Error) => {
        versions.delete(bin.path);
        throw new Error(`ffmpeg at ${bin.path} does not run: ${err.message.split('\n')[0]}`);
      },
    );
    versions.set(bin.path, v);
  }
  return v;
}

/** The option that keeps every decoded frame with its own timestamp (no constant-rate resampling). */
export async function passthroughTiming(bin: FfmpegBinary): Promise<string[]> {
  const { major } = await ffmpegVersion(bin);
  return major !== undefined && major >= 5
    ? ['-fps_mode', 'passthrough']
    : ['-vsync', 'passthrough'];
}
