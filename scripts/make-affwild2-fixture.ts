/**
 * A mini Aff-Wild2 layout for tests and the documented training example, made from the
 * public-domain astronaut portrait with cctfer's ffmpeg:
 *
 *   <dir>/videos/solo.mp4      50 frames, one face (zoom/pan)
 *   <dir>/videos/pair.mp4      40 frames, two faces side by side (for pair_left / pair_right)
 *   <dir>/videos/counter.mp4   70 frames at a variable frame rate; a 32×32 block at the top left has
 *                              luma 16 + 3·n in frame n, so a frame tells its own index
 *   <dir>/annotations/Train_Set/{solo,pair_left,pair_right}.txt   (with -1 lines)
 *   <dir>/annotations/Validation_Set/counter.txt                  (label of decoded frame i: its code mod 7)
 *   <dir>/cropped_aligned/solo/NNNNN.jpg                           (112×112, a few frames missing)
 *
 *   npx tsx scripts/make-affwild2-fixture.ts <dir>
 */
import { execFileSync } from 'node:child_process';
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { resolveFfmpeg } from '../src/video/ffmpeg-binary.ts';
import { decodeFrames } from '../src/video/decode.ts';
import { FaceDetector } from '../src/faces/detector.ts';
import { alignedCrops } from '../src/faces/align.ts';
import { AFFWILD2_CLASSES } from '../src/data/classes.ts';

const png = fileURLToPath(new URL('../fixtures/astronaut.png', import.meta.url));
const HEADER = AFFWILD2_CLASSES.join(',');

/** Frame n's block has limited-range luma 16 + 3n, which is RGB grey 3n·255/219 after decoding. */
export const encodedIndex = (greyMean: number) => Math.round((greyMean * 219) / 255 / 3);

/** The index code of an image file or RGBA frame: mean of the top-left 24×24 block (inside the 32×32 code). */
export async function frameCode(
  image: string | { width: number; height: number; data: Uint8Array },
): Promise<number> {
  const img =
    typeof image === 'string'
      ? sharp(image)
      : sharp(image.data, { raw: { width: image.width, height: image.height, channels: 4 } });
  const { data } = await img
    .extract({ left: 4, top: 4, width: 24, height: 24 })
    .greyscale()
    .raw()
    .toBuffer({ resolveWithObject: true });
  let sum = 0;
  for (const v of data) sum += v;
  return encodedIndex(sum / data.length);
}

export async function makeAffWild2Fixture(dir: string): Promise<void> {
  const ffmpeg = resolveFfmpeg().path;
  const run = (args: string[]) =>
    execFileSync(ffmpeg, ['-hide_banner', '-loglevel', 'error', '-y', ...args]);
  const x264 = ['-c:v', 'libx264', '-preset', 'veryfast', '-crf', '18', '-pix_fmt', 'yuv420p'];
  const videos = join(dir, 'videos');
  await mkdir(videos, { recursive: true });
  const zoom = (frames: number, out: string, extra = '') =>
    run([
      '-loop',
      '1',
      '-i',
      png,
      '-vf',
      `zoompan=z='1+0.1*sin(on/20)':x='iw/2-(iw/zoom/2)+15*sin(on/15)':y='ih/2-(ih/zoom/2)':d=1:s=320x240:fps=25${extra}`,
      '-frames:v',
      String(frames),
      ...x264,
      out,
    ]);
  zoom(50, join(videos, 'solo.mp4'));
  // The index code, then a variable frame rate (gaps of 40, 100 and 20 ms).
  zoom(
    70,
    join(dir, 'counter-cfr.mp4'),
    ",format=yuv420p,geq=lum='if(lt(X,32)*lt(Y,32),16+3*N,lum(X,Y))':cb='if(lt(X,16)*lt(Y,16),128,cb(X,Y))':cr='if(lt(X,16)*lt(Y,16),128,cr(X,Y))'",
  );
  run([
    '-i',
    join(dir, 'counter-cfr.mp4'),
    '-vf',
    "setpts='if(lt(N,25),N*0.04,if(lt(N,45),1+(N-25)*0.1,3+(N-45)*0.02))/TB'",
    '-vsync',
    'vfr',
    ...x264,
    join(videos, 'counter.mp4'),
  ]);
  await rm(join(dir, 'counter-cfr.mp4'));
  const head = 'crop=170:200:150:30,scale=110:130';
  run([
    '-f',
    'lavfi',
    '-i',
    'color=c=0x808080:s=320x240:r=25:d=2',
    '-loop',
    '1',
    '-i',
    png,
    '-filter_complex',
    `[1:v]${head},split[a][b];[b]hflip[c];[0:v][a]overlay=x=20:y=60:shortest=1[t];[t][c]overlay=x=190:y=50:shortest=1,format=yuv420p`,
    '-frames:v',
    '40',
    ...x264,
    join(videos, 'pair.mp4'),
  ]);

  const ann = (labels: number[]) => `${HEADER}\n${labels.join('\n')}\n`;
  const train = join(dir, 'annotations', 'Train_Set');
  const val = join(dir, 'annotations', 'Validation_Set');
  await mkdir(train, { recursive: true });
  await mkdir(val, { recursive: true });
  await writeFile(
    join(train, 'solo.txt'),
    ann(Array.from({ length: 50 }, (_, n) => (n < 5 ? -1 : n < 30 ? 4 : 0))),
  );
  await writeFile(
    join(train, 'pair_left.txt'),
    ann(Array.from({ length: 40 }, (_, n) => (n % 10 === 9 ? -1 : 5))),
  );
  await writeFile(join(train, 'pair_right.txt'), ann(Array.from({ length: 40 }, () => 6)));
  // counter.txt from an independent decode (ffmpeg → PNG files, passthrough timing): the label of
  // line i is the code drawn in decoded frame i, mod 7. (The VFR retiming drops some frames, so
  // codes skip numbers: the line count must follow decoded frames, not the drawn indices.)
  const pngs = join(dir, 'counter-png');
  await mkdir(pngs, { recursive: true });
  run(['-i', join(videos, 'counter.mp4'), '-vsync', 'passthrough', join(pngs, '%05d.png')]);
  const codes: number[] = [];
  for (const name of (await readdir(pngs)).sort()) codes.push(await frameCode(join(pngs, name)));
  await rm(pngs, { recursive: true });
  await writeFile(join(val, 'counter.txt'), ann(codes.map((c) => c % 7)));

  const crops = join(dir, 'cropped_aligned', 'solo');
  await mkdir(crops, { recursive: true });
  const detector = await FaceDetector.create();
  try {
    for await (const f of decodeFrames(join(videos, 'solo.mp4'))) {
      if (f.index % 12 === 11) continue; // some frames have no crop, as in the real release
      const face = detector.detect(f)[0];
      if (!face) continue;
      const crop = alignedCrops(f, [face.keypoints], 112);
      await sharp(Buffer.from(Uint8Array.from(crop, (v) => Math.round(v * 255))), {
        raw: { width: 112, height: 112, channels: 3 },
      })
        .jpeg({ quality: 90 })
        .toFile(join(crops, `${String(f.index + 1).padStart(5, '0')}.jpg`));
    }
  } finally {
    detector.close();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const dir = process.argv[2];
  if (!dir) throw new Error('usage: npx tsx scripts/make-affwild2-fixture.ts <dir>');
  await makeAffWild2Fixture(dir);
  console.log(`wrote a mini Aff-Wild2 layout to ${dir}`);
}
