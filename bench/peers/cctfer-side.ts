/**
 * bench/annotate-peers, cctfer's side (run in its own process): `annotate` of one clip through the
 * library, default bundle, no report; steady state — the clock starts when `warmup` frames are done,
 * so model loading is excluded, decoding is not. Prints one JSON line: {frames, faces, seconds, fps}.
 *
 *   node --import tsx bench/peers/cctfer-side.ts <clip> [warmup] [detect-every]
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { annotateVideos } from '../../pipelines/annotate.ts';

const [clip, warmupArg = '10', every] = process.argv.slice(2) as [string, string?, string?];
const warmup = Number(warmupArg);
const out = await mkdtemp(join(tmpdir(), 'cctfer-peers-'));
let t0 = 0;
let t1 = 0;
let last = 0;
try {
  const [r] = await annotateVideos([clip], {
    out,
    report: false,
    force: true,
    ...(every && { detectEvery: Number(every) }),
    onProgress: (_id, done) => {
      if (done === warmup) t0 = performance.now();
      if (done > last) {
        last = done;
        t1 = performance.now();
      }
    },
  });
  if (r?.status !== 'done') throw new Error(r?.error ?? 'not annotated');
  const rows = (await readFile(join(r.dir, 'frames.jsonl'), 'utf8')).trim().split('\n');
  const faces = rows
    .slice(warmup)
    .reduce((n, l) => n + (JSON.parse(l) as { faces: unknown[] }).faces.length, 0);
  const seconds = (t1 - t0) / 1000;
  console.log(
    JSON.stringify({ frames: last - warmup, faces, seconds, fps: (last - warmup) / seconds }),
  );
} finally {
  await rm(out, { recursive: true, force: true });
}
