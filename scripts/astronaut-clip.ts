/**
 * A clip made from the astronaut portrait (fixtures/astronaut.png) through an ffmpeg filter graph:
 * the generated test clips and the bench's multi-face clip (1 s at 10 fps unless told otherwise).
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { resolveFfmpeg } from '../src/video/ffmpeg-binary.ts';

const astronaut = fileURLToPath(new URL('../fixtures/astronaut.png', import.meta.url));

export function astronautClip(
  out: string,
  filterComplex: string,
  { seconds = 1, fps = 10 }: { seconds?: number; fps?: number } = {},
): string {
  execFileSync(resolveFfmpeg().path, [
    '-loglevel',
    'error',
    '-loop',
    '1',
    '-i',
    astronaut,
    '-filter_complex',
    filterComplex,
    '-t',
    String(seconds),
    '-r',
    String(fps),
    out,
  ]);
  return out;
}
