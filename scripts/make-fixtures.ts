/**
 * Makes the fixture clips in fixtures/ from the public-domain astronaut portrait alone
 * (fixtures/astronaut.png), with the ffmpeg cctfer uses:
 *   zoom.mp4      640×480, 3 s at 25 fps, a slow zoom/pan over the portrait (one face)
 *   crossing.mp4  640×480, 5 s at 25 fps, two copies of the face cross; the second leaves on the
 *                 left at ~2.9 s and re-enters from the left at 4.0 s
 *   vfr.mp4       zoom.mp4 retimed to a variable frame rate (gaps of 40, 100 and 20 ms)
 *
 *   npx tsx scripts/make-fixtures.ts
 */
import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { resolveFfmpeg } from '../src/video/ffmpeg-binary.ts';

const dir = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures');
const ffmpeg = resolveFfmpeg({
  pathEnv: process.env.PATH,
  ...(process.env.FFMPEG_PATH && { path: process.env.FFMPEG_PATH }),
}).path;
const png = join(dir, 'astronaut.png');
const x264 = [
  '-c:v',
  'libx264',
  '-preset',
  'veryslow',
  '-crf',
  '30',
  '-pix_fmt',
  'yuv420p',
  '-movflags',
  '+faststart',
];
const run = (args: string[]) =>
  execFileSync(ffmpeg, ['-hide_banner', '-loglevel', 'error', '-y', ...args], { stdio: 'inherit' });

run([
  '-loop',
  '1',
  '-i',
  png,
  '-vf',
  "zoompan=z='1+0.15*sin(on/40)':x='iw/2-(iw/zoom/2)+20*sin(on/25)':y='ih/2-(ih/zoom/2)':d=1:s=640x480:fps=25",
  '-frames:v',
  '75',
  ...x264,
  join(dir, 'zoom.mp4'),
]);

// The head region of the portrait, 150×176, over a grey background.
const head = 'crop=170:200:150:30,scale=150:176';
const ax = 'x=40+150*t:y=90';
const bx = "x='if(lt(t,3),430-150*t,if(lt(t,4),-400,-150+150*(t-4)))':y=220";
run([
  '-f',
  'lavfi',
  '-i',
  'color=c=0x808080:s=640x480:r=25:d=5',
  '-loop',
  '1',
  '-i',
  png,
  '-filter_complex',
  `[1:v]${head},split[a][b];[0:v][a]overlay=${ax}:shortest=1[t];[t][b]overlay=${bx}:shortest=1,format=yuv420p`,
  '-frames:v',
  '125',
  ...x264,
  join(dir, 'crossing.mp4'),
]);

run([
  '-i',
  join(dir, 'zoom.mp4'),
  '-vf',
  "setpts='if(lt(N,25),N*0.04,if(lt(N,50),1+(N-25)*0.1,3.5+(N-50)*0.02))/TB'",
  '-vsync',
  'vfr',
  ...x264,
  join(dir, 'vfr.mp4'),
]);
console.log(`wrote ${['zoom.mp4', 'crossing.mp4', 'vfr.mp4'].map((f) => join(dir, f)).join(', ')}`);
