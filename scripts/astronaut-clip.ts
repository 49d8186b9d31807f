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

/** Three faces of different sizes drifting slowly across a 640×470 frame (the benches' multi-face clip). */
export const THREE_FACES_FILTER =
  "[0]split=3[a][b][c];[a]crop=200:230:130:20,scale=150:172[f1];[b]crop=200:230:130:20,scale=110:126[f2];[c]crop=200:230:130:20,scale=190:218[f3];color=c=0x303840:s=640x470:r=25[bg];[bg][f1]overlay=x='20+10*t':y=40[l1];[l1][f2]overlay=x='250+6*t':y=300-8*t[l2];[l2][f3]overlay=x=420-5*t:y=120,format=yuv420p";
