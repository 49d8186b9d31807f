import { decodeFrames } from '/work/main/src/video/decode.ts';
async function first(p: string) { for await (const f of decodeFrames(p)) return f; throw new Error('none'); }
const ref = await first('/work/main/fixtures/zoom.mp4');
for (const n of ['rot-t1-r90', 'rot-t1-r270', 'rot-t2-r90', 'rot-t2-r270']) {
  const f = await first(`/tmp/${n}.mp4`);
  let diff = 0; if (f.width === ref.width) { for (let i = 0; i < f.data.length; i += 4) diff += Math.abs(f.data[i]! - ref.data[i]!); diff /= f.data.length / 4; } else diff = -1;
  console.log(n, f.width, f.height, diff.toFixed(1));
}
