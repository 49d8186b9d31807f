/** Option parsers and environment lookups shared by the CLI's commands. */
import { resolveFfmpeg, type FfmpegBinary } from '../video/ffmpeg-binary.ts';

export const positiveInt = (name: string) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${name} must be a whole number, got '${v}'`);
  return n;
};

export const collect = (v: string, all: string[]) => [...all, v];

/** The ffmpeg the CLI uses: FFMPEG_PATH, else ffmpeg on PATH, else the npm static build. */
export function cliFfmpeg(): FfmpegBinary {
  return resolveFfmpeg({
    ...(process.env.FFMPEG_PATH && { path: process.env.FFMPEG_PATH }),
    ...(process.env.PATH && { pathEnv: process.env.PATH }),
  });
}
