/** A 1-second, 10-fps clip made from the astronaut portrait through an ffmpeg filter graph. */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { resolveFfmpeg } from '../../src/video/ffmpeg-binary.ts';

const astronaut = fileURLToPath(new URL('../../fixtures/astronaut.png', import.meta.url));

export function astronautClip(out: string, filterComplex: string): string {
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
    '1',
    '-r',
    '10',
    out,
  ]);
  return out;
}
